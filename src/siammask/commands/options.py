"""Command-line options shared by the commands: one definition of the engine options and of the
argument types, so that track, eval, compare, trax and bench accept and refuse the same things.
"""

from __future__ import annotations

import argparse
from typing import Any


def add_command(
    subparsers: argparse._SubParsersAction, name: str, help: str, description: str, epilog: str | None = None,
) -> argparse.ArgumentParser:
    """A subcommand's parser, laid out as every command's is (description and examples as written)."""
    return subparsers.add_parser(name, help=help, description=description, epilog=epilog,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (a bad value is a usage error, exit 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def add_engine_arguments(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    """--checkpoint | --model, --backend, --precision, --threads, --providers, --preset, --config."""
    from siammask.engines.factory import BACKENDS, PRECISIONS
    from siammask.tracking.presets import PRESETS

    source = parser.add_mutually_exclusive_group(required=required)
    source.add_argument("--checkpoint", metavar="FILE", help="SiamMask .pth checkpoint (runs PyTorch)")
    source.add_argument("--model", metavar="DIR", help="folder written by `siammask export` (ONNX graphs)")
    parser.add_argument("--backend", choices=BACKENDS,
                        help="engine (default auto: torch for --checkpoint; for --model the fastest measured "
                             "for the precision, see docs/engines.md)")
    parser.add_argument("--precision", choices=PRECISIONS,
                        help="what the engine computes in (default: what the model was exported in)")
    parser.add_argument("--threads", type=positive_int, metavar="N", help="CPU threads for the engine")
    parser.add_argument("--providers", metavar="NAME",
                        help="ONNX Runtime execution provider: auto, tensorrt, cuda, cpu")
    parser.add_argument("--preset", choices=PRESETS,
                        help="the authors' settings by name: vot (SiamMask_VOT.pth), vot18 (SiamMask_VOT_LD.pth), "
                             "davis (SiamMask_DAVIS.pth), pysot (pysot's model.pth); default: the model's own "
                             "(an export's recorded settings; a checkpoint's by its layout)")
    parser.add_argument("--config", metavar="FILE",
                        help="tracker settings file (JSON as config_vot.json, or pysot's YAML); overrides --preset")


def engine_spec(args: argparse.Namespace, **overrides: Any) -> Any:
    """The EngineSpec the engine options describe (paths made absolute, values checked)."""
    from siammask.engines.factory import EngineSpec

    fields = {name: getattr(args, name, None)
              for name in ("checkpoint", "model", "backend", "precision", "threads", "providers", "config", "preset")}
    fields.update(overrides)
    return EngineSpec(**fields)
