"""`siammask serve`: the browser page (open a video, draw the targets, watch them tracked, download)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from siammask.commands.options import add_command, add_engine_arguments, engine_spec

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
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--media", metavar="DIR", help="a folder whose videos the page can open without an upload")
    parser.add_argument("--max-upload-mb", type=float, default=500.0, metavar="MB", help="upload limit (default 500)")
    parser.add_argument("--idle-minutes", type=float, default=30.0, metavar="M",
                        help="a session's files are removed after this long without a request (default 30)")
    parser.set_defaults(func=run)


def cache_folder() -> Path:
    """Where the embedded default model is kept between runs ($SIAMMASK_CACHE, else the user cache)."""
    if os.environ.get("SIAMMASK_CACHE"):
        return Path(os.environ["SIAMMASK_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "siammask"


def default_model(backend: str | None) -> tuple[dict[str, str], str]:
    """The embedded default (seeded backbone, heads trained on synthetic data: siammask.model.trained):
    its checkpoint (torch) or, for another backend, its export. Cached under the packed file's hash,
    so a new package version's default is never confused with an old one."""
    from importlib import resources

    from siammask.io.files import file_sha256
    from siammask.model.trained import RESOURCE, write_checkpoint

    folder = cache_folder()
    folder.mkdir(parents=True, exist_ok=True)
    with resources.as_file(resources.files("siammask.data").joinpath(RESOURCE)) as packed:
        tag = file_sha256(packed)[:12]
    checkpoint = folder / f"trained-default-{tag}.pth"
    if not checkpoint.is_file():
        write_checkpoint(checkpoint)
    label = "the embedded default (trained on synthetic data only, not on real objects)"
    if backend in (None, "auto", "torch"):
        return {"checkpoint": str(checkpoint)}, label
    export_dir = folder / f"trained-default-{tag}-export"
    if not (export_dir / "manifest.json").is_file():
        from siammask.deploy.export import export

        export(checkpoint, export_dir)
    return {"model": str(export_dir)}, label + ", exported"


def run(args: argparse.Namespace) -> int:
    """Load the engine once, then serve until Ctrl-C."""
    import logging

    import uvicorn

    from siammask.errors import SiamMaskError
    from siammask.serve.app import ServeSettings, create_app

    media = None
    if args.media:
        media = Path(args.media)
        if not media.is_dir():
            raise SiamMaskError(f"--media {media}: not a folder")
    if args.max_upload_mb <= 0 or args.idle_minutes <= 0:
        raise SiamMaskError("--max-upload-mb and --idle-minutes must be positive")
    untrained = args.checkpoint is None and args.model is None
    if untrained:
        overrides, label = default_model(args.backend)
        spec = engine_spec(args, **overrides)
    else:
        spec = engine_spec(args)
        label = Path(spec.checkpoint or spec.model or "").name
    spec.check()
    engine, config = spec.build()
    settings = ServeSettings(engine, config, label, untrained, media, args.max_upload_mb, args.idle_minutes * 60)
    logging.basicConfig(level=logging.INFO, format="siammask: %(message)s")
    print(f"siammask serve: {label} on {engine.name} {engine.precision}; open http://{args.host}:{args.port}/",
          flush=True)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="warning")
    return 0
