"""`siammask eval --experiment unsupervised|realtime|multistart`: VOT's experiments beyond supervised,
as vot-toolkit 0.9 runs them (evaluation/votexp/), then their report. Kept apart from eval.py's
supervised flow: the two share only the options."""

from __future__ import annotations

import argparse
from typing import Any

from siammask.errors import SiamMaskError


def check_votexp_options(args: argparse.Namespace, experiment: str) -> tuple[int, int] | None:
    """Refuse what does not apply to `experiment` before any work; the EAO interval, if given."""
    from siammask.evaluation.vot.report import parse_interval

    if getattr(args, "year", None) is not None:
        raise SiamMaskError(f"--year applies to DAVIS datasets, not to the {experiment} experiment")
    if not args.eao_interval:
        return None
    if experiment == "unsupervised":
        raise SiamMaskError("--eao-interval applies to the multistart and realtime experiments; "
                            "the unsupervised one reports the average overlap")
    return parse_interval(args.eao_interval)


def run_votexp(args: argparse.Namespace, experiment: str) -> int:
    """Track, write vot-toolkit's result files, then report."""
    from siammask.commands.eval_shard import check_output_options, track_protocol
    from siammask.commands.report_votexp import run_votexp_report
    from siammask.datasets.vot import load_dataset
    from siammask.evaluation.votexp.runner import run_experiment

    check_votexp_options(args, experiment)
    check_output_options(args)

    def status(outcome: Any) -> str:  # noqa: ANN401 - ExperimentOutcome
        text = "kept" if outcome.skipped else f"{outcome.runs} runs, {outcome.fps:.1f} fps"
        return text + (f", {outcome.skipped_frames} frames gone by" if outcome.skipped_frames else "")

    def run(dataset: Any, spec: Any, name: str, on_done: Any, shard: Any) -> Any:  # noqa: ANN401
        return run_experiment(dataset, experiment, spec, args.results, name, workers=args.workers,
                              force=args.force, on_done=on_done, ray_address=args.ray, shard=shard)

    def report(name: str) -> int:
        return run_votexp_report(argparse.Namespace(
            dataset=args.dataset, results=args.results, tracker=[name], json=args.json, plots=args.plots,
            eao_interval=args.eao_interval, year=None, experiment=experiment), experiment)

    return track_protocol(
        args, load_dataset(args.dataset, masks=True), experiment, status=status, run=run,
        describe=lambda spec, dataset: f"{experiment}, {spec.label} {spec.model_precision}, {len(dataset)} sequences",
        report=report)
