"""`siammask report` on a one-pass dataset: success, precision and normalised precision as pysot's
OPEBenchmark computes them (OTB, UAV123, NFS, LaSOT, TrackingNet), AO, SR and speed as the GOT-10k
toolkit does (GOT-10k); on a test split whose server keeps the ground truth (GOT-10k test,
TrackingNet TEST), the archive to submit instead."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from siammask.errors import printable


def run_onepass_report(args: argparse.Namespace, dataset_format: Any) -> int:  # noqa: ANN401 - DatasetFormat
    from siammask.commands.eval_onepass import refuse_other_options
    from siammask.commands.options import load_chosen

    dataset = load_chosen(args, dataset_format)
    refuse_other_options(args, dataset)
    return publish_onepass(args, dataset, args.tracker)


def publish_onepass(args: argparse.Namespace, dataset: Any, trackers: Sequence[str] | None) -> int:  # noqa: ANN401
    """The table, --json and --plots of the trackers' results; or, on a test split, their archives."""
    from siammask.commands.report import _publish
    from siammask.evaluation.ope.results import find_trackers, needs_submission

    if needs_submission(dataset.benchmark, dataset.annotated):
        return _submit(args, dataset, list(trackers or find_trackers(args.results, dataset.names, dataset.benchmark)))
    from siammask.evaluation.ope.report import build_report, evaluate_folder, format_table

    report = build_report(dataset, evaluate_folder(dataset, args.results, trackers))

    def plots(folder: str) -> list:
        from siammask.evaluation.ope.plots import write_plots

        return write_plots(report, folder)

    return _publish(args, report, format_table(report), plots)


def _submit(args: argparse.Namespace, dataset: Any, trackers: list[str]) -> int:  # noqa: ANN401 - OnePassDataset
    from siammask.commands.eval_onepass import SERVERS
    from siammask.errors import SiamMaskError
    from siammask.evaluation.ope.report import dataset_info, submission
    from siammask.evaluation.publish import write_json

    if not trackers:
        raise SiamMaskError(f"no one-pass results of dataset {dataset.name} in {args.results}")
    archives = {name: str(submission(dataset, args.results, name)) for name in trackers}
    print(f"Dataset {printable(dataset.name)} ({dataset.benchmark}): {len(dataset)} sequences with only their "
          f"first frames' boxes; scored by {SERVERS[dataset.benchmark]}")
    for name, path in archives.items():
        print(f"{printable(name)}: submission archive written to {printable(path)}")
    if args.json:
        write_json({"protocol": "ope", "dataset": dataset_info(dataset), "submissions": archives}, args.json)
        print(f"report written to {printable(args.json)}")
    return 0
