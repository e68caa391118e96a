"""`siammask eval` on a DAVIS dataset: the reference's VOS protocol over every sequence, then the
DAVIS report (J and F). Kept apart from eval.py's VOT flow: the two share only the options."""

from __future__ import annotations

import argparse
import os

from siammask.errors import SiamMaskError, printable


def run_davis(args: argparse.Namespace) -> int:
    """Track every object of every sequence of ImageSets/<year>/val.txt, results in DAVIS's
    submission layout under RESULTS/NAME/, then report."""
    from tqdm import tqdm

    from siammask.commands.eval_shard import check_output_options, default_tracker_name, shard_finished, take_shard
    from siammask.commands.options import engine_spec
    from siammask.datasets.davis import load_davis
    from siammask.evaluation.vos.runner import VosOutcome, run_vos_dataset, run_vos_ray

    if args.eao_interval:
        raise SiamMaskError("--eao-interval is a VOT measure; a DAVIS dataset is reported with J and F")
    check_output_options(args)
    args.year = args.year or 2017
    dataset, shard = take_shard(args, load_davis(args.dataset, args.year), "vos")
    # DAVIS is segmented with the settings SiamMask_DAVIS.pth was tuned with, unless the user says
    spec = engine_spec(args, preset=args.preset or (None if args.config else "davis"))
    name = args.tracker_name or default_tracker_name(spec)
    objects = sum(len(s.object_ids) for s in dataset)
    settings = f"--config {args.config}" if args.config else f"preset {spec.preset}"
    line = f"eval {name}: DAVIS {args.year}, {len(dataset)} sequences, {objects} objects, settings: {settings}"
    print(printable(line), flush=True)  # the name and --config path as typed, control characters escaped
    total = sum(len(s) for s in dataset)
    with tqdm(total=total, unit="frame", desc=f"eval {printable(name)}", dynamic_ncols=True, disable=None) as bar:
        def done(outcome: VosOutcome) -> None:
            bar.update(len(dataset[outcome.name]))
            status = "kept" if outcome.skipped else f"{outcome.object_fps:.1f} object-frames/s"
            bar.set_postfix_str(f"{printable(outcome.name)}: {status}")

        if args.ray:  # the same label maps, the sequences spread over a Ray cluster
            run_vos_ray(dataset, spec, args.results, name, address=args.ray, force=args.force, on_done=done,
                        workers=args.workers if args.workers > 1 else None, shard=shard)
        else:
            run_vos_dataset(dataset, spec, args.results, name, workers=args.workers, force=args.force, on_done=done,
                            shard=shard)
    print(f"label maps in {printable(os.path.join(args.results, name))}", flush=True)
    if shard:
        return shard_finished(args, name, shard)
    return _report(args, name)


def _report(args: argparse.Namespace, name: str) -> int:
    """The DAVIS measures of the run just made, as `siammask report` gives them (table, JSON, plots)."""
    from siammask.commands.report import run_vos

    report_args = argparse.Namespace(
        dataset=args.dataset, results=args.results, tracker=[name], json=args.json, plots=args.plots,
        eao_interval=None, year=args.year,
    )
    return run_vos(report_args)
