"""`siammask serve`: the browser page (open a video, draw the targets, watch them tracked, download)."""

from __future__ import annotations

import argparse
import errno
import socket
from pathlib import Path

from siammask.commands.options import add_command, add_engine_arguments, engine_spec
from siammask.errors import SiamMaskError, printable

EPILOG = """\
examples:
  siammask serve
      the page at http://127.0.0.1:8000 on the embedded default (trained on synthetic data only)

  siammask serve --checkpoint SiamMask_VOT.pth --media ~/videos
      the authors' weights; videos under ~/videos can be picked without uploading them

  siammask serve --model models/siammask_vot --host 0.0.0.0 --port 8080 --max-upload-mb 2000
      an exported folder (ONNX Runtime), reachable from other machines

The page's files (results JSON/CSV/VOT txt, label maps, overlay MP4) are those `siammask track`
writes for the same video and boxes. Uploads live in a temporary folder per browser session,
removed when the page is closed or after --idle-minutes without a request.
"""


HELP = "a browser page: open a video, draw the targets, watch them tracked, download results"
DESCRIPTION = "Serve a page that tracks the targets drawn on a video and offers the result files."


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `serve` subcommand to the CLI's subparsers."""
    parser = add_command(subparsers, "serve", HELP, DESCRIPTION, EPILOG)
    add_engine_arguments(parser)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", default="8000", help="port, 1-65535 (default 8000)")
    parser.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                        help="a further name the page may be reached by (the Host header), e.g. behind a proxy; "
                             "the bound address and localhost always are")
    parser.add_argument("--media", metavar="DIR", help="a folder whose videos the page can open without an upload")
    parser.add_argument("--max-upload-mb", default="500", metavar="MB", help="upload limit (default 500)")
    parser.add_argument("--idle-minutes", default="30", metavar="M",
                        help="a session's files are removed after this long without a request; a paused run "
                             "is idle (default 30)")
    parser.add_argument("--max-sessions", default="64", metavar="N", help="pages open at once (default 64)")
    parser.add_argument("--max-runs", default="8", metavar="N",
                        help="runs tracking or waiting at once, over every page (default 8)")
    parser.add_argument("--max-targets", default=str(MAX_TARGETS), metavar="N",
                        help=f"targets tracked at once, over every page (default {MAX_TARGETS}, "
                             "the most one run takes)")
    parser.add_argument("--max-temp-mb", metavar="MB",
                        help="temporary files of every page together (default 8x --max-upload-mb)")
    parser.set_defaults(func=run)


MAX_TARGETS = 32


def number(text: str, option: str, low: float, high: float, whole: bool = False) -> float:
    """An option's value: a finite number in [low, high] (a whole one where `whole`), or one line."""
    from siammask.serve.limits import bounded

    try:
        value = int(text) if whole else float(text)
    except ValueError:
        kind = "a whole number" if whole else "a number"
        raise SiamMaskError(f"{option} {text[:40]!r}: expected {kind}") from None
    return bounded(value, option, low, high)


def listen(host: str, port: int) -> socket.socket:
    """The server's socket, bound before the engine loads: a port in use or an address that is not
    this machine's is one line, not the web server's own message and exit 3."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError) as exc:
        raise SiamMaskError(f"--host {printable(host)[:100]}: not an address of this machine "
                            f"({getattr(exc, 'strerror', None) or exc})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise SiamMaskError(f"--port {port}: already in use on {printable(host)[:100]} "
                                "(another server? pick another --port)") from None
        raise SiamMaskError(f"--host {printable(host)[:100]} --port {port}: cannot listen there "
                            f"({exc.strerror or exc})") from None
    sock.set_inheritable(True)
    return sock


def run(args: argparse.Namespace) -> int:
    """Check the settings, bind the port, load the engine once, then serve until Ctrl-C or SIGTERM
    (which end as every command's do: 130, 143)."""
    import logging

    import uvicorn

    from siammask.serve.app import ServeSettings, create_app

    media = None
    if args.media:
        media = Path(args.media)
        if not media.is_dir():
            raise SiamMaskError(f"--media {media}: not a folder")
    port = int(number(args.port, "--port", 1, 65535, whole=True))
    limits = {
        "max_upload_mb": number(args.max_upload_mb, "--max-upload-mb", 0.001, 1_000_000),
        "idle_timeout": number(args.idle_minutes, "--idle-minutes", 0.01, 7 * 24 * 60) * 60,
        "max_sessions": int(number(args.max_sessions, "--max-sessions", 1, 100_000, whole=True)),
        "max_runs": int(number(args.max_runs, "--max-runs", 1, 1024, whole=True)),
        "max_targets": int(number(args.max_targets, "--max-targets", 1, 4096, whole=True)),
        "max_temp_mb": None if args.max_temp_mb is None else number(args.max_temp_mb, "--max-temp-mb", 1, 1e8),
    }
    sock = listen(args.host, port)
    try:
        untrained = args.checkpoint is None and args.model is None
        if untrained:
            from siammask.model.default import default_model

            overrides, label = default_model(args.backend)
            spec = engine_spec(args, **overrides)
        else:
            spec = engine_spec(args)
            label = Path(spec.checkpoint or spec.model or "").name
        spec.check()
        engine, config = spec.build()
        settings = ServeSettings(engine, config, label, untrained, media, host=args.host,
                                 allow_hosts=tuple(args.allow_host), **limits)
        logging.basicConfig(level=logging.INFO, format="siammask: %(message)s")
        app = create_app(settings)
        shown = f"[{args.host}]" if ":" in args.host else args.host
        print(f"siammask serve: {printable(label)} on {engine.name} {engine.precision}; "
              f"open http://{printable(shown)}:{port}/", flush=True)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        try:
            # Server.run, not uvicorn.run: that one swallows Ctrl-C and SIGTERM (exit 0); this re-raises
            # the signal once it has shut down, so the CLI exits 130 or 143 as every command does
            server.run(sockets=[sock])
        finally:  # also for a signal before the server's own shutdown could run
            app.state.store.close()
    finally:
        sock.close()
    return 0
