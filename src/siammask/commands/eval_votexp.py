"""`siammask eval --experiment unsupervised|realtime|multistart`: VOT's experiments beyond supervised,
as vot-toolkit 0.9 runs them (evaluation/votexp/), then their report. Kept apart from eval.py's
supervised flow: the two share only the options."""

from __future__ import annotations

import argparse
import os

from siammask.errors import SiamMaskError, printable


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
    from tqdm import tqdm

    from siammask.commands.options import engine_spec
    from siammask.datasets.vot import load_dataset
    from siammask.deploy.manifest import precision_parts
    from siammask.evaluation.votexp.runner import ExperimentOutcome, run_experiment

    check_votexp_options(args, experiment)
    if args.json and os.path.isdir(args.json):
        raise SiamMaskError(f"--json {args.json}: is a folder")
    for option, folder in (("--results", args.results), ("--plots", args.plots)):
        if folder and os.path.exists(folder) and not os.path.isdir(folder):
            raise SiamMaskError(f"{option} {folder}: is not a folder")
    from siammask.commands.eval_shard import shard_finished, take_shard

    dataset, shard = take_shard(args, load_dataset(args.dataset), experiment)
    spec = engine_spec(args)
    spec.check()
    precision = spec.model_precision
    suffix = "" if precision == "fp32" else "_" + precision_parts(precision)[-1]
    name = args.tracker_name or f"SiamMask_{spec.label}{suffix}"
    print(printable(f"eval {name}: {experiment}, {spec.label} {precision}, {len(dataset)} sequences"), flush=True)
    total = sum(len(s) for s in dataset)
    with tqdm(total=total, unit="frame", desc=f"eval {printable(name)}", dynamic_ncols=True, disable=None) as bar:
        def done(outcome: ExperimentOutcome) -> None:
            bar.update(len(dataset[outcome.name]))
            status = "kept" if outcome.skipped else f"{outcome.runs} runs, {outcome.fps:.1f} fps"
            if outcome.skipped_frames:
                status += f", {outcome.skipped_frames} frames gone by"
            bar.set_postfix_str(f"{printable(outcome.name)}: {status}")

        outcomes = run_experiment(dataset, experiment, spec, args.results, name, workers=args.workers,
                                  force=args.force, on_done=done, ray_address=args.ray, shard=shard)
    kept = sum(1 for o in outcomes if o.skipped)
    if kept:
        print(f"kept {kept} of {len(dataset)} sequences from an earlier run of the same model "
              "(--force redoes them)", flush=True)
    if shard:
        return shard_finished(args, name, shard)
    from siammask.commands.report_votexp import run_votexp_report

    report_args = argparse.Namespace(dataset=args.dataset, results=args.results, tracker=[name], json=args.json,
                                     plots=args.plots, eao_interval=args.eao_interval, year=None,
                                     experiment=experiment)
    return run_votexp_report(report_args, experiment)
