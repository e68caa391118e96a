"""`siammask report --experiment unsupervised|realtime|multistart`: vot-toolkit 0.9's analyses of
those experiments' result files (evaluation/votexp/report.py)."""

from __future__ import annotations

import argparse


def run_votexp_report(args: argparse.Namespace, experiment: str) -> int:
    """Score every tracker's results of `experiment`: the table, then --json and --plots when asked."""
    from siammask.commands.eval_votexp import check_votexp_options
    from siammask.commands.report import _publish
    from siammask.datasets.vot import load_dataset
    from siammask.evaluation.votexp.analyses import EAO_INTERVAL
    from siammask.evaluation.votexp.report import build_report, evaluate_folder, format_table

    interval = check_votexp_options(args, experiment) or EAO_INTERVAL
    dataset = load_dataset(args.dataset, masks=True)
    metrics = evaluate_folder(dataset, args.results, experiment, args.tracker, interval)
    report = build_report(dataset, experiment, metrics, interval)

    def plots(folder: str) -> list:
        from siammask.evaluation.votexp.plots import write_plots

        return write_plots(metrics, folder, interval)

    return _publish(args, report, format_table(report), plots)
