"""`siammask eval` on a one-pass dataset (OTB, UAV123, NFS, LaSOT, GOT-10k, TrackingNet; the
default there, or --experiment ope): every sequence tracked once from its first frame's box, no
reset, into the benchmark's result layout; then the report, or for a test split whose server keeps
the ground truth (GOT-10k test, TrackingNet TEST) the archive to submit. Kept apart from eval.py's
supervised flow: the two share only the options."""

from __future__ import annotations

import argparse
from typing import Any

from siammask.errors import SiamMaskError

SERVERS = {"GOT-10k": "GOT-10k's evaluation server (http://got-10k.aitestunion.com/submit_instructions)",
           "TrackingNet": "TrackingNet's evaluation server (http://eval.tracking-net.org)"}


def refuse_other_options(args: argparse.Namespace, dataset: Any) -> None:  # noqa: ANN401 - OnePassDataset
    """What one-pass scoring does not take, refused in one line before any work."""
    for option in ("eao_interval", "year"):
        if getattr(args, option, None) is not None:
            raise SiamMaskError(f"--{option.replace('_', '-')} does not apply to one-pass datasets "
                                f"({dataset.name} is {dataset.benchmark})")
    from siammask.commands.eval_shard import check_output_options

    check_output_options(args)
    if args.plots and not dataset.annotated:
        raise SiamMaskError(f"--plots: dataset {dataset.name} has only its first frames' boxes; its server "
                            "scores it, there is nothing to plot here")


def run_onepass(args: argparse.Namespace, dataset_format: Any) -> int:  # noqa: ANN401 - formats.DatasetFormat
    """Track, write the results, then report (or write the submission archive)."""
    from siammask.commands.eval_shard import local_or_ray, track_protocol
    from siammask.commands.options import load_chosen
    from siammask.commands.report_onepass import publish_onepass
    from siammask.evaluation.ope.runner import run_onepass_dataset, run_onepass_ray

    whole = load_chosen(args, dataset_format)
    refuse_other_options(args, whole)

    def describe(spec: Any, dataset: Any) -> str:  # noqa: ANN401 - EngineSpec, OnePassDataset
        return (f"one pass on {dataset.name} ({dataset.benchmark}), {spec.label} {spec.model_precision}, "
                f"{len(dataset)} sequence{'s' * (len(dataset) != 1)}")

    return track_protocol(args, whole, "ope", describe=describe,
                          status=lambda o: "kept" if o.skipped else f"{o.fps:.1f} fps",
                          run=local_or_ray(args, run_onepass_dataset, run_onepass_ray),
                          report=lambda name: publish_onepass(args, whole, [name]))
