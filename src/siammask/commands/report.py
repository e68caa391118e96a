"""Read the supervised (baseline) result files of one or more trackers and score them on a VOT-layout
dataset: accuracy, robustness and lost number as pysot computes them, EAO as pysot and as
vot-toolkit compute it, EAO per attribute tag, and per-sequence figures. On a DAVIS-layout dataset,
score label maps with the official DAVIS measures (J, F, J&F) per object. On a VOT-LT dataset (or with
--experiment longterm), score long-term results: tracking precision, recall and F as pysot's F1Benchmark.
On OTB, UAV123, NFS, LaSOT, GOT-10k or TrackingNet, score one-pass results: success, precision and
normalised precision as pysot's OPEBenchmark, AO, SR and speed as the GOT-10k toolkit (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from siammask.commands.options import (
    EXPERIMENTS,
    VOT_EXPERIMENTS,
    add_command,
    add_split_argument,
    chosen_protocol,
    load_chosen,
)
from siammask.errors import SiamMaskError, printable

EPILOG = """\
examples:
  siammask report --dataset data/VOT2016 --results results/VOT2016
      every tracker in results/VOT2016/<tracker>/baseline/, table on stdout

  siammask report --dataset data/VOT2016 --results results/VOT2016 --tracker SiamMask \\
      --json report.json --plots plots/
      one tracker; the report as JSON; eao_curves.png and accuracy_robustness.png in plots/

  siammask report --dataset data/synth --results results/synth --eao-interval 20,50
      short sequences: score EAO over lengths 20..50 (both pysot's and vot-toolkit's)

  siammask report --dataset data/DAVIS --results results/DAVIS2017 --json vos.json --plots plots/
      a DAVIS-layout dataset: J&F of every tracker in results/DAVIS2017/<tracker>/<seq>/<frame>.png
      (DAVIS 2017 val; --year 2016 for DAVIS 2016, every object merged into one)

  siammask report --dataset data/lt-synth --results out/lt --plots plots/
      a VOT-LT dataset: precision, recall and F of RESULTS/<tracker>/longterm/; precision_recall.png

  siammask report --dataset data/VOT2022-STB --results WS/results --experiment multistart
      vot-toolkit's multistart analyses (accuracy, robustness, EAO) of RESULTS/<tracker>/baseline/
      <seq>/<seq>_<anchor:08d>.txt; --experiment realtime (EAO realtime) or unsupervised (average
      overlap): RESULTS/<tracker>/realtime/, unsupervised/<seq>/<seq>_001.txt (docs/vot-experiments.md)

layout (long-term): RESULTS/<tracker>/longterm/<seq>/<seq>_001.txt (1, then x,y,w,h a frame) and
<seq>_001_confidence.value (an empty line, then a score a frame), as pysot writes them for VOT2018-LT.

layout (VOT): RESULTS/<tracker>/baseline/<seq>/<seq>_001.txt, one line per frame: 1 init, 2 failure,
0 skipped, else the region's values (as the reference, pysot and vot-toolkit write them).

layout (DAVIS): RESULTS/<tracker>/<seq>/00000.png ..., palette or greyscale label maps, 0 background,
k = object k (the DAVIS submission format, as the reference's --save_mask writes them).

figures (DAVIS): J (region IoU) and F (boundary F-measure, tolerance 0.008 of the image diagonal) per
object, first and last frames left out; mean, recall (> 0.5), decay; J&F-Mean; as the official
davis2017-evaluation computes them.

figures (VOT): accuracy and robustness as pysot computes them (burn-in 10, failures per 100 frames);
EAO both as pysot computes it (interval [100, 356] for VOT2016) and as vot-toolkit 0.9 does
(official interval [108, 371] for VOT2016); --eao-interval replaces both intervals.
"""


HELP = "score results: VOT (accuracy, robustness, EAO), VOT-LT (precision, recall, F) or DAVIS (J, F)"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `report` subcommand to the CLI's subparsers."""
    parser = add_command(subparsers, "report", HELP, __doc__, EPILOG)
    parser.add_argument(
        "--dataset", required=True, metavar="DIR", help="VOT dataset folder (with list.txt) or DAVIS folder"
    )
    parser.add_argument(
        "--results",
        required=True,
        metavar="DIR",
        help="folder holding <tracker>/baseline/<seq>/<seq>_001.txt (VOT) or <tracker>/<seq>/*.png (DAVIS)",
    )
    parser.add_argument(
        "--tracker",
        action="append",
        metavar="NAME",
        help="tracker to score (repeatable; default: every tracker in --results)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the report as JSON (NaN as null)")
    parser.add_argument(
        "--plots",
        metavar="DIR",
        help="write plots (PNG) here: EAO curves and AR (VOT); J and F per object, J over the frames (DAVIS)",
    )
    parser.add_argument(
        "--eao-interval",
        metavar="LOW,HIGH",
        help="sequence-length interval for EAO, replacing both defaults (e.g. 108,371)",
    )
    parser.add_argument(
        "--format", metavar="NAME",
        help="the dataset's format, when its files do not say it: otb, uav123, nfs, lasot, got-10k, trackingnet, "
             "vot, vot-lt, davis (default: recognised)",
    )
    add_split_argument(parser)
    parser.add_argument(
        "--year", type=int, choices=(2016, 2017), help="DAVIS only: ImageSets/YEAR/val.txt; 2016 merges objects (2017)"
    )
    parser.add_argument(
        "--experiment", choices=EXPERIMENTS,
        help="VOT datasets: which results to score (default longterm on a VOT-LT dataset, else baseline); "
             "unsupervised, realtime, multistart: vot-toolkit's VOT2020 analyses (docs/vot-experiments.md); "
             "ope: one-pass results, the default on OTB, UAV123, NFS, LaSOT, GOT-10k, TrackingNet (docs/benchmarks.md)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    protocol, dataset_format = chosen_protocol(args)
    if protocol == "vos":
        return run_vos(args)
    if protocol == "ope":  # one pass: OTB, UAV123, NFS, LaSOT, GOT-10k, TrackingNet
        from siammask.commands.report_onepass import run_onepass_report

        return run_onepass_report(args, dataset_format)
    if protocol == "longterm":
        return run_longterm_report(args)
    if protocol in VOT_EXPERIMENTS:
        from siammask.commands.report_votexp import run_votexp_report

        return run_votexp_report(args, protocol)
    # heavy imports only when the command runs, so `siammask --help` stays quick
    from siammask.evaluation.vot.report import build_report, evaluate_folder, format_table, parse_interval

    interval = parse_interval(args.eao_interval) if args.eao_interval else None
    dataset = load_chosen(args, dataset_format)
    metrics = evaluate_folder(dataset, args.results, args.tracker, interval)
    report = build_report(dataset, metrics)

    def plots(folder: str) -> list:
        from siammask.evaluation.vot.plots import write_plots

        return write_plots(metrics, folder)

    return _publish(args, report, format_table(report), plots)


def run_vos(args: argparse.Namespace) -> int:
    """The DAVIS branch: J and F of each tracker's label maps."""
    from siammask.evaluation.vos.report import format_vos_table, vos_report

    if args.eao_interval:
        raise SiamMaskError("--eao-interval applies to VOT datasets; this is a DAVIS dataset")
    report = vos_report(args.dataset, args.results, year=args.year or 2017, trackers=args.tracker)

    def plots(folder: str) -> list:
        from siammask.evaluation.vos.plots import write_vos_plots

        return write_vos_plots(report, folder)

    return _publish(args, report, format_vos_table(report), plots)


def run_longterm_report(args: argparse.Namespace) -> int:
    """The long-term branch: precision, recall and F of each tracker's long-term results."""
    from siammask.datasets.votlt import load_votlt
    from siammask.evaluation.longterm.report import build_report, evaluate_folder, format_table

    for option in ("eao_interval", "year"):
        if getattr(args, option, None) is not None:
            raise SiamMaskError(f"--{option.replace('_', '-')} does not apply to long-term results")
    dataset = load_votlt(args.dataset)
    metrics = evaluate_folder(dataset, args.results, args.tracker)
    report = build_report(dataset, metrics)

    def plots(folder: str) -> list:
        from siammask.evaluation.longterm.plots import write_plots

        return write_plots(metrics, folder)

    return _publish(args, report, format_table(report), plots)


def _publish(args: argparse.Namespace, report: dict, table: str, plots: Callable[[str], list]) -> int:
    """What both layouts' reports end with: the table, then --json and --plots when asked."""
    from siammask.evaluation.publish import write_json

    print(table, end="")
    if args.json:
        write_json(report, args.json)
        print(f"report written to {printable(args.json)}")
    if args.plots:
        for path in plots(args.plots):
            print(f"plot written to {printable(path)}")
    return 0
