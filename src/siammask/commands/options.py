"""Command-line options shared by the commands: one definition of the engine options and of the
argument types, so that track, eval, compare, trax and bench accept and refuse the same things.
"""

from __future__ import annotations

import argparse
from typing import Any

from siammask.errors import SiamMaskError
from siammask.evaluation.votexp import EXPERIMENTS as VOT_EXPERIMENTS


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
        shown = repr(text) if len(text) <= 40 else f"{text[:40]!r}... ({len(text)} characters)"
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {shown}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def target_count(text: str) -> int:
    """argparse type for a number of targets (bench --targets): what label maps can number and this
    machine's memory can track at once (tracking.tracker.check_target_count). Usage error, exit 2."""
    from siammask.tracking.tracker import check_target_count

    value = positive_int(text)
    try:
        check_target_count(value)
    except SiamMaskError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def thread_count(text: str) -> int:
    """argparse type for --threads: 1 to 4 per core of this machine (see engines.factory.check_threads);
    more only exhausts the system's thread limit. A bad value is a usage error (exit 2)."""
    from siammask.engines.factory import check_threads

    value = positive_int(text)
    try:
        check_threads(value)
    except SiamMaskError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--threads ")) from None
    return value


def add_engine_arguments(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    """--checkpoint | --model (neither: the embedded default), --backend, --precision, --threads, --providers,
    --preset, --config, --cache-dir, --long-term."""
    from siammask.engine_contract import PRECISIONS
    from siammask.engines.registry import BACKENDS
    from siammask.tracking.presets import PRESETS

    source = parser.add_mutually_exclusive_group(required=required)
    source.add_argument("--checkpoint", metavar="FILE",
                        help="SiamMask .pth checkpoint (runs PyTorch); with neither this nor --model: the embedded "
                             "default, trained on synthetic data only")
    source.add_argument("--model", metavar="DIR", help="folder written by `siammask export` (ONNX graphs)")
    parser.add_argument("--backend", choices=BACKENDS,
                        help="engine (default auto: torch for --checkpoint; for --model the fastest measured "
                             "for the precision, see docs/engines.md)")
    parser.add_argument("--precision", choices=PRECISIONS,
                        help="what the engine computes in (default: what the model was exported in)")
    parser.add_argument("--threads", type=thread_count, metavar="N",
                        help="CPU threads for the engine (at most 4 per core)")
    parser.add_argument("--providers", metavar="NAME",
                        help="ONNX Runtime execution provider: auto, tensorrt, cuda, cpu")
    parser.add_argument("--preset", choices=PRESETS,
                        help="the authors' settings by name: vot (SiamMask_VOT.pth), vot18 (SiamMask_VOT_LD.pth), "
                             "davis (SiamMask_DAVIS.pth), pysot (pysot's model.pth); default: the model's own "
                             "(an export's recorded settings; a checkpoint's by its layout)")
    parser.add_argument("--config", metavar="FILE",
                        help="tracker settings file (JSON as config_vot.json, or pysot's YAML); overrides --preset")
    parser.add_argument("--long-term", action="store_true",
                        help="long-term tracking: a target judged absent keeps its state and is searched for in a "
                             "wider crop until found (docs/longterm.md)")
    parser.add_argument("--cache-dir", metavar="DIR",
                        help="where OpenVINO keeps compiled graphs (default $SIAMMASK_CACHE_DIR, else "
                             "~/.cache/siammask/openvino; 'none': no cache)")


def engine_spec(args: argparse.Namespace, **overrides: Any) -> Any:
    """The EngineSpec the engine options describe (paths made absolute, values checked). With no
    --checkpoint and no --model, the embedded default, said in one line on stderr."""
    import sys

    from siammask.engines.factory import EngineSpec

    fields = {name: getattr(args, name, None)
              for name in ("checkpoint", "model", "backend", "precision", "threads", "providers", "config", "preset",
                           "cache_dir")}
    fields["long_term"] = bool(getattr(args, "long_term", False))
    fields.update(overrides)
    if fields["checkpoint"] is None and fields["model"] is None:
        from siammask.model.default import default_model

        def say(line: str) -> None:
            print(line, file=sys.stderr, flush=True)

        default, label = default_model(fields["backend"], say)
        say(f"siammask: no --checkpoint or --model: using {label}")
        fields.update(default)
    return EngineSpec(**fields)


# --experiment: the supervised and long-term ones, then VOT's beyond supervised (evaluation/votexp)
EXPERIMENTS = ("baseline", "longterm", *VOT_EXPERIMENTS, "ope")
SPLIT_HELP = ("one-pass datasets: the split or subset to score (GOT-10k train/val/test, LaSOT train/test, "
              "TrackingNet TRAIN/TEST/TRAIN_K, UAV123's UAV123/UAV20L/UAV123_10fps; default: what the folder holds)")


def add_split_argument(parser: argparse.ArgumentParser) -> None:
    """--split, for `eval` and `report` alike (chosen_protocol refuses it where it does not apply)."""
    parser.add_argument("--split", metavar="NAME", help=SPLIT_HELP)


def load_chosen(args: argparse.Namespace, dataset_format: Any) -> Any:  # noqa: ANN401 - formats.DatasetFormat
    """args.dataset read by its format, with --split where given (chosen_protocol checked it applies)."""
    split = getattr(args, "split", None)
    return dataset_format.load(args.dataset) if split is None else dataset_format.load(args.dataset, split=split)


def chosen_protocol(args: argparse.Namespace) -> tuple[str, Any]:
    """The protocol `eval` and `report` score args.dataset by ("vos", "longterm", "baseline" or one of
    VOT_EXPERIMENTS) and
    its format (datasets.formats), from the dataset's format and --experiment; what cannot be scored
    so is refused in one line before any work."""
    from siammask.datasets.formats import dataset_format as format_for

    dataset_format = format_for(args.dataset, getattr(args, "format", None))  # --format, else its files say
    experiment = getattr(args, "experiment", None)
    if getattr(args, "split", None) is not None and (dataset_format.protocol != "ope" or "split" not in
                                                     dataset_format.options):
        raise SiamMaskError(f"--split applies to one-pass datasets with splits or subsets (GOT-10k, LaSOT, "
                            f"TrackingNet, UAV123); {args.dataset} ({dataset_format.name}) has none")
    if dataset_format.protocol == "vos":
        if experiment:
            raise SiamMaskError(f"--experiment {experiment} applies to VOT and VOT-LT datasets; {args.dataset} is "
                                "a DAVIS dataset, scored by the VOS protocol (J and F)")
        return "vos", dataset_format
    if dataset_format.protocol == "ope" or experiment == "ope":  # one pass (evaluation/ope): OTB, LaSOT, GOT-10k...
        if dataset_format.protocol != "ope" or experiment not in (None, "ope"):
            raise SiamMaskError(f"--experiment {experiment} applies to {'VOT' if experiment != 'ope' else 'one-pass'} "
                                f"datasets; {args.dataset} is a {dataset_format.name} dataset")
        return "ope", dataset_format
    if experiment == "longterm" or (experiment is None and dataset_format.protocol == "longterm"):
        return "longterm", dataset_format
    if dataset_format.protocol == "longterm":
        raise SiamMaskError(f"--experiment {experiment} needs the target in every frame; {args.dataset} marks "
                            "frames without it (nan rows, VOT-LT): use --experiment longterm")
    if experiment in VOT_EXPERIMENTS:  # beyond supervised (evaluation/votexp): vot-toolkit's layout
        return experiment, dataset_format
    from siammask.datasets.vot import has_mask_groundtruth

    if experiment is None and has_mask_groundtruth(args.dataset):
        return "multistart", dataset_format  # VOT2020 on: masks, scored by vot-toolkit's main experiment
    if getattr(args, "year", None) is not None and "year" not in dataset_format.options:
        raise SiamMaskError(f"--year applies to DAVIS datasets; {args.dataset} is not one (no JPEGImages/480p)")
    return "baseline", dataset_format
