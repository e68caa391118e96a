"""`siammask export`: checkpoint -> template/search/refine ONNX graphs + manifest."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from siammask.commands.options import add_command
from siammask.errors import SiamMaskError, printable
from siammask.tracking.presets import PRESETS

EXAMPLES = """examples:
  siammask export --checkpoint SiamMask_VOT.pth --output models/siammask_vot
  siammask export --checkpoint SiamMask_VOT.pth --output models/siammask_vot_fp16 --fp16
  siammask export --seeded --output models/seeded      # untrained seeded weights, for trying things
"""


HELP = "export ONNX graphs from a checkpoint"


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "export", HELP, __doc__, EXAMPLES)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", help="SiamMask_VOT.pth (or any checkpoint of that layout)")
    src.add_argument("--seeded", action="store_true", help="use the seeded, untrained weights")
    p.add_argument("--output", required=True, help="folder to write (created; refused if not empty)")
    p.add_argument("--preset", choices=PRESETS,
                   help="settings to record by name (default: the checkpoint layout's: vot, or pysot)")
    p.add_argument("--config", help="tracker settings file (JSON or pysot YAML) to record; overrides --preset")
    p.add_argument("--fp16", action="store_true", help="half-precision graphs (for GPUs)")
    p.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import tempfile

    from siammask.tracking.config import TrackerConfig

    try:
        from siammask.deploy.export import export
        from siammask.model.seeded import write_checkpoint
    except ModuleNotFoundError as exc:
        if exc.name in ("torch", "onnx"):
            raise SiamMaskError(f"export needs {exc.name}: pip install 'siammask[torch]'") from None
        raise
    config = TrackerConfig.from_file(args.config) if args.config else None
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = Path(args.checkpoint) if args.checkpoint else _seeded_checkpoint(Path(tmp), write_checkpoint)
        out = export(checkpoint, args.output, config=config, half=args.fp16, force=args.force, preset=args.preset)
    print(printable(f"exported template, search and refine graphs to {out} ({'fp16' if args.fp16 else 'fp32'})"))
    return 0


def _seeded_checkpoint(folder: Path, write: Callable[[Path], Path]) -> Path:
    """The seeded weights as a checkpoint file in `folder` (export hashes its source for the
    manifest); a failed write (a full temporary folder) says what was being written."""
    try:
        return write(folder / "seeded.pth")
    except SiamMaskError as exc:
        raise SiamMaskError(f"--seeded: the seeded weights could not be written to a temporary file ({exc})") from None
