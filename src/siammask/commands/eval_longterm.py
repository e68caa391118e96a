"""`siammask eval --experiment longterm` (the default on a VOT-LT dataset): every sequence tracked
once from its first frame, no reset, then the long-term report. Kept apart from eval.py's
supervised flow: the two share only the options."""

from __future__ import annotations

import argparse
import os

from siammask.errors import SiamMaskError, printable


def run_longterm(args: argparse.Namespace) -> int:
    """Track, write RESULTS/NAME/longterm/..., then report precision, recall and F."""
    from tqdm import tqdm

    from siammask.commands.options import engine_spec
    from siammask.datasets.votlt import load_votlt
    from siammask.evaluation.longterm.runner import LongTermOutcome, run_longterm_dataset, run_longterm_ray

    for option in ("eao_interval", "year"):
        if getattr(args, option, None) is not None:
            raise SiamMaskError(f"--{option.replace('_', '-')} does not apply to the long-term experiment")
    if args.json and os.path.isdir(args.json):
        raise SiamMaskError(f"--json {args.json}: is a folder")
    for option, folder in (("--results", args.results), ("--plots", args.plots)):
        if folder and os.path.exists(folder) and not os.path.isdir(folder):
            raise SiamMaskError(f"{option} {folder}: is not a folder")
    from siammask.commands.eval_shard import shard_finished, take_shard

    dataset, shard = take_shard(args, load_votlt(args.dataset), "longterm")
    spec = engine_spec(args)
    spec.check()
    name = args.tracker_name or f"SiamMask_{spec.label}"
    print(printable(f"eval {name}: long-term, {spec.label} {spec.model_precision}, {len(dataset)} sequences"),
          flush=True)
    total = sum(len(s) for s in dataset)
    with tqdm(total=total, unit="frame", desc=f"eval {printable(name)}", dynamic_ncols=True, disable=None) as bar:
        def done(outcome: LongTermOutcome) -> None:
            bar.update(len(dataset[outcome.name]))
            bar.set_postfix_str(f"{printable(outcome.name)}: {'kept' if outcome.skipped else f'{outcome.fps:.1f} fps'}")

        if args.ray:
            outcomes = run_longterm_ray(dataset, spec, args.results, name, address=args.ray, force=args.force,
                                        on_done=done, workers=args.workers if args.workers > 1 else None, shard=shard)
        else:
            outcomes = run_longterm_dataset(dataset, spec, args.results, name, workers=args.workers,
                                            force=args.force, on_done=done, shard=shard)
    kept = sum(1 for o in outcomes if o.skipped)
    if kept:
        print(f"kept {kept} of {len(dataset)} sequences from an earlier run of the same model "
              "(--force redoes them)", flush=True)
    if shard:
        return shard_finished(args, name, shard)
    from siammask.commands.report import run_longterm_report

    report_args = argparse.Namespace(dataset=args.dataset, results=args.results, tracker=[name], json=args.json,
                                     plots=args.plots, eao_interval=None, year=None, experiment="longterm")
    return run_longterm_report(report_args)
