"""`siammask` command line: one parser, one subcommand per module of `siammask.commands`.

Exit codes: 0 success, 1 bad input (a one-line message, no traceback), 2 usage, 130 Ctrl-C,
143 SIGTERM. `--traceback` (anywhere on the line) or SIAMMASK_DEBUG=1 prints, after the one-line
error, the traceback of the error and of the exception that caused it (which the one line names
in its own words and the default output hides), for people debugging the tool.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
import traceback

from siammask import __version__
from siammask.commands import COMMAND_MODULES
from siammask.errors import SiamMaskError, Terminated, first_line, printable


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="siammask",
        description="SiamMask tracking: checkpoint -> ONNX graphs -> engine -> VOT and DAVIS evaluation.",
        epilog="Run `siammask COMMAND --help` for a command's options and examples.",
    )
    parser.add_argument("--version", action="version", version=f"siammask {__version__}")
    parser.add_argument("--traceback", action="store_true",
                        help="after a one-line error, print its traceback and its cause's (also SIAMMASK_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"siammask.commands.{name}").register(sub)
    return parser


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated()


def _print_causes(exc: BaseException) -> None:
    """The traceback of `exc` and of every exception behind it, including those the code hid with
    `raise ... from None` to keep the default message to one line."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for depth, item in enumerate(reversed(chain)):
        if depth:
            print("\nwhich led to:\n", file=sys.stderr)
        traceback.print_exception(type(item), item, item.__traceback__, chain=False, file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    # accepted after the command too (`siammask track ... --traceback`): taken out before parsing
    show_causes = "--traceback" in argv
    argv = [a for a in argv if a != "--traceback"]
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    # SIGTERM unwinds like Ctrl-C (outputs complete or absent); only the main thread may set it
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    debug = show_causes or os.environ.get("SIAMMASK_DEBUG", "") not in ("", "0")
    try:
        result = args.func(args)
    except SiamMaskError as exc:
        print(f"siammask: error: {printable(exc)}", file=sys.stderr)
        if debug:
            _print_causes(exc)
        return 1
    except Terminated:
        print("siammask: terminated (SIGTERM)", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("siammask: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):  # output piped into a reader that stopped early (| head)
            # point stdout at /dev/null so that the interpreter's final flush does not fail again;
            # the command stopped there (files it had still to write, e.g. report's --json and
            # --plots, were not written), so not 0: 141, a process ended by SIGPIPE, as the shell's tools
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 128 + signal.SIGPIPE
        # a write or read the commands did not name in their own words: disk full, a file-size
        # limit, a read-only or vanished folder. Their writers have removed their temporary files.
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"siammask: error: {printable(exc.strerror or first_line(exc))}{printable(where)}", file=sys.stderr)
        if debug:
            _print_causes(exc)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
