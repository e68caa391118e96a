"""`siammask eval --experiment longterm` (the default on a VOT-LT dataset): every sequence tracked
once from its first frame, no reset, then the long-term report. Kept apart from eval.py's
supervised flow: the two share only the options."""

from __future__ import annotations

import argparse

from siammask.errors import SiamMaskError


def run_longterm(args: argparse.Namespace) -> int:
    """Track, write RESULTS/NAME/longterm/..., then report precision, recall and F."""
    from siammask.commands.eval_shard import check_output_options, local_or_ray, track_protocol
    from siammask.commands.report import run_longterm_report
    from siammask.datasets.votlt import load_votlt
    from siammask.evaluation.longterm.runner import run_longterm_dataset, run_longterm_ray

    for option in ("eao_interval", "year"):
        if getattr(args, option, None) is not None:
            raise SiamMaskError(f"--{option.replace('_', '-')} does not apply to the long-term experiment")
    check_output_options(args)

    def report(name: str) -> int:
        return run_longterm_report(argparse.Namespace(
            dataset=args.dataset, results=args.results, tracker=[name], json=args.json, plots=args.plots,
            eao_interval=None, year=None, experiment="longterm"))

    return track_protocol(
        args, load_votlt(args.dataset), "longterm",
        describe=lambda spec, dataset: f"long-term, {spec.label} {spec.model_precision}, {len(dataset)} sequences",
        status=lambda o: "kept" if o.skipped else f"{o.fps:.1f} fps",
        run=local_or_ray(args, run_longterm_dataset, run_longterm_ray), report=report)
