"""`siammask report`: score baseline results on a VOT dataset (accuracy, robustness, EAO)."""

from __future__ import annotations

import argparse

EPILOG = """\
examples:
  siammask report --dataset data/VOT2016 --results results/VOT2016
      every tracker in results/VOT2016/<tracker>/baseline/, table on stdout

  siammask report --dataset data/VOT2016 --results results/VOT2016 --tracker SiamMask \\
      --json report.json --plots plots/
      one tracker; the report as JSON; eao_curves.png and accuracy_robustness.png in plots/

  siammask report --dataset data/synth --results results/synth --eao-interval 20,50
      short sequences: score EAO over lengths 20..50 (both pysot's and vot-toolkit's)

layout: RESULTS/<tracker>/baseline/<seq>/<seq>_001.txt, one line per frame: 1 init, 2 failure,
0 skipped, else the region's values (as the reference, pysot and vot-toolkit write them).

figures: accuracy and robustness as pysot computes them (burn-in 10, failures per 100 frames);
EAO both as pysot computes it (interval [100, 356] for VOT2016) and as vot-toolkit 0.9 does
(official interval [108, 371] for VOT2016); --eao-interval replaces both intervals.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `report` subcommand to the CLI's subparsers."""
    parser = subparsers.add_parser(
        "report",
        help="score baseline results on a VOT dataset: accuracy, robustness, EAO",
        description=(
            "Read the supervised (baseline) result files of one or more trackers and score them on a "
            "VOT-layout dataset: accuracy, robustness and lost number as pysot computes them, EAO as pysot "
            "and as vot-toolkit compute it, EAO per attribute tag, and per-sequence figures."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--dataset", required=True, metavar="DIR", help="VOT dataset folder (with list.txt)")
    parser.add_argument(
        "--results", required=True, metavar="DIR", help="folder holding <tracker>/baseline/<seq>/<seq>_001.txt"
    )
    parser.add_argument(
        "--tracker",
        action="append",
        metavar="NAME",
        help="tracker to score (repeatable; default: every tracker in --results)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the report as JSON (NaN as null)")
    parser.add_argument("--plots", metavar="DIR", help="write expected-overlap and AR plots (PNG) here")
    parser.add_argument(
        "--eao-interval",
        metavar="LOW,HIGH",
        help="sequence-length interval for EAO, replacing both defaults (e.g. 108,371)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # heavy imports only when the command runs, so `siammask --help` stays quick
    from siammask.evaluation.dataset import load_dataset
    from siammask.evaluation.report import build_report, evaluate_folder, format_table, parse_interval, write_json

    interval = parse_interval(args.eao_interval) if args.eao_interval else None
    dataset = load_dataset(args.dataset)
    metrics = evaluate_folder(dataset, args.results, args.tracker, interval)
    report = build_report(dataset, metrics)
    print(format_table(report), end="")
    if args.json:
        write_json(report, args.json)
        print(f"report written to {args.json}")
    if args.plots:
        from siammask.evaluation.plots import write_plots

        for path in write_plots(metrics, args.plots):
            print(f"plot written to {path}")
    return 0
