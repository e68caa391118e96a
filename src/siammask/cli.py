"""`siammask` command line: one parser, one subcommand per module of `siammask.commands`.

Exit codes: 0 success, 1 bad input (a one-line message, no traceback), 2 usage.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from siammask import __version__
from siammask.commands import COMMAND_MODULES
from siammask.errors import SiamMaskError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="siammask",
        description="SiamMask tracking: checkpoint -> ONNX graphs -> engine -> VOT evaluation.",
        epilog="Run `siammask COMMAND --help` for a command's options and examples.",
    )
    parser.add_argument("--version", action="version", version=f"siammask {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"siammask.commands.{name}")
        except ModuleNotFoundError as exc:  # a command not written yet
            if exc.name == f"siammask.commands.{name}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        result = args.func(args)
    except SiamMaskError as exc:
        print(f"siammask: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("siammask: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into a reader that stopped early (| head)
        # point stdout at /dev/null so that the interpreter's final flush does not fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
