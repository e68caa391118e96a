"""`siammask eval`: the supervised (baseline) experiment over a VOT dataset, the long-term one over a
VOT-LT dataset, the VOS protocol over a DAVIS one, or one pass over OTB, UAV123, NFS, LaSOT, GOT-10k or
TrackingNet (docs/benchmarks.md), then its report."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from siammask.commands.options import (
    EXPERIMENTS,
    VOT_EXPERIMENTS,
    add_command,
    add_engine_arguments,
    add_split_argument,
    chosen_protocol,
    load_chosen,
    positive_int,
)
from siammask.errors import plural

if TYPE_CHECKING:
    from siammask.evaluation.vot.runner import SequenceOutcome

EPILOG = """\
examples:
  siammask eval --dataset data/VOT2016 --checkpoint SiamMask_VOT.pth --results results/VOT2016
  siammask eval --dataset data/VOT2016 --model models/siammask_vot --results results/VOT2016 \\
      --tracker-name SiamMask_ort --workers 2 --threads 1
  siammask eval --dataset data/synth --model models/seeded --results out/res --eao-interval 20,50

  siammask eval --dataset data/lt-synth --model models/seeded --results out/lt
      a VOT-LT dataset (nan,nan,nan,nan rows): the long-term experiment, precision/recall/F

  siammask eval --dataset data/synth --results out/res --experiment multistart --eao-interval 10,50
      VOT2020's experiments (multistart from each anchor of anchor.value, realtime, unsupervised) in
      vot-toolkit's layout, scored as its analyses do (docs/vot-experiments.md)

Results go to RESULTS/NAME/baseline/<seq>/<seq>_001.txt in the reference's format (1 init,
2 failure, 0 skipped, else 8 values with 4 decimals). Each file is written whole when its sequence
ends; a rerun skips finished sequences (use --force to redo them). --experiment longterm (the
default on a VOT-LT dataset) tracks each sequence once from its first frame, no reset, into
RESULTS/NAME/longterm/<seq>/<seq>_001.txt (1, then x,y,w,h) and <seq>_001_confidence.value.
"""


HELP = "run the VOT supervised experiment (accuracy, robustness, EAO) or the DAVIS VOS protocol (J&F), then report"


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "eval", HELP, __doc__, EPILOG)
    p.add_argument("--dataset", required=True, metavar="DIR", help="VOT-layout dataset (list.txt)")
    add_engine_arguments(p)  # neither --checkpoint nor --model: the embedded default
    p.add_argument("--results", required=True, metavar="DIR", help="results folder")
    p.add_argument("--tracker-name", metavar="NAME",
                   help="default: SiamMask_<backend>, with _int8 (or _bf16, _fp16) for such a model, every protocol")
    p.add_argument("--workers", type=positive_int, default=1, metavar="N",
                   help="sequences tracked in parallel processes")
    p.add_argument("--force", action="store_true", help="re-run sequences that already have results")
    p.add_argument("--json", metavar="FILE", help="write the report as JSON")
    p.add_argument("--plots", metavar="DIR", help="write the report's plots (PNG) here")
    p.add_argument("--eao-interval", metavar="LOW,HIGH", help="EAO interval replacing both defaults")
    p.add_argument("--ray", nargs="?", const="auto", metavar="ADDRESS",
                   help="spread sequences over a Ray cluster (default: start or join a local one)")
    p.add_argument("--experiment", choices=EXPERIMENTS,
                   help="VOT datasets: baseline (supervised, resets) or longterm (one pass, precision/recall/F); "
                        "default longterm on a VOT-LT dataset, else baseline; unsupervised, realtime, multistart: "
                        "vot-toolkit's VOT2020 experiments (docs/vot-experiments.md); ope: one pass, the default on "
                        "OTB, UAV123, NFS, LaSOT, GOT-10k and TrackingNet (docs/benchmarks.md)")
    p.add_argument("--format", metavar="NAME",
                   help="the dataset's format, when its files do not say it: otb, uav123, nfs, lasot, got-10k, "
                        "trackingnet, vot, vot-lt, davis (default: recognised)")
    add_split_argument(p)
    from siammask.commands.eval_shard import SHARD_HELP

    p.add_argument("--shard", metavar="I/N", help=SHARD_HELP)
    p.add_argument("--year", type=int, choices=(2016, 2017),
                   help="DAVIS datasets: ImageSets/YEAR/val.txt; 2016 merges each sequence's objects (default 2017)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from siammask.commands.eval_shard import check_shard_option

    check_shard_option(args)  # a bad --shard is refused before the dataset is read
    protocol, dataset_format = chosen_protocol(args)
    if protocol == "vos":  # video object segmentation: its own flow (eval_vos.py)
        from siammask.commands.eval_vos import run_davis

        return run_davis(args)
    if protocol == "ope":  # one pass: OTB, UAV123, NFS, LaSOT, GOT-10k, TrackingNet
        from siammask.commands.eval_onepass import run_onepass

        return run_onepass(args, dataset_format)
    if protocol == "longterm":
        from siammask.commands.eval_longterm import run_longterm

        return run_longterm(args)
    if protocol in VOT_EXPERIMENTS:
        from siammask.commands.eval_votexp import run_votexp

        return run_votexp(args, protocol)

    from siammask.commands import report as report_command
    from siammask.commands.eval_shard import check_output_options, local_or_ray, track_protocol
    from siammask.evaluation.vot.distributed import run_dataset_ray
    from siammask.evaluation.vot.report import parse_interval
    from siammask.evaluation.vot.runner import run_dataset

    if args.eao_interval:
        parse_interval(args.eao_interval)  # refuse a bad interval before hours of tracking
    check_output_options(args)

    def status(outcome: SequenceOutcome) -> str:
        return ("kept" if outcome.skipped else f"{outcome.fps:.1f} fps") + f", {outcome.failures} failures"

    def report(name: str) -> int:
        return report_command.run(argparse.Namespace(
            dataset=args.dataset, results=args.results, tracker=[name], json=args.json, plots=args.plots,
            eao_interval=args.eao_interval, year=None))

    return track_protocol(
        args, load_chosen(args, dataset_format), protocol,
        describe=lambda spec, dataset: f"{spec.label} {spec.model_precision}, {plural(len(dataset), 'sequence')}",
        status=status, run=local_or_ray(args, run_dataset, run_dataset_ray), report=report)
