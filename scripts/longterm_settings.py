"""Long-term mode's settings measured on a VOT-LT set: F, precision, recall and re-acquisitions
for short-term mode and for long-term mode at each (presence_thr, redetect_thr) given, each a
tracker in one results folder, scored by the long-term report (pysot's F1Benchmark).

    siammask synth /tmp/lt-tune --layout vot-lt --sequences 6 --frames 150 --seed 11
    python scripts/longterm_settings.py --dataset /tmp/lt-tune --results /tmp/lt-tune-res \\
        --pairs 0.3,0.5 0.5,0.5 0.5,0.8 0.7,0.9            # the embedded default (or --model DIR)
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from siammask.commands.options import engine_spec
from siammask.datasets.votlt import load_votlt
from siammask.evaluation.longterm.report import build_report, evaluate_folder, format_table
from siammask.evaluation.longterm.runner import run_longterm_dataset


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", required=True)
    p.add_argument("--results", required=True)
    p.add_argument("--model")
    p.add_argument("--checkpoint")
    p.add_argument("--backend")
    p.add_argument("--pairs", nargs="+", default=["0.5,0.5"], metavar="PRESENCE,REDETECT")
    p.add_argument("--lost-size", type=int, nargs="+", default=[831])
    p.add_argument("--workers", type=int, default=1)
    args = p.parse_args()
    for name in ("precision", "threads", "providers", "config", "preset", "cache_dir", "long_term"):
        setattr(args, name, None)
    spec = engine_spec(args)
    engine_config = spec.build()[1]
    dataset = load_votlt(args.dataset)
    runs = {"short_term": dataclasses.replace(engine_config, long_term=False)}
    for pair in args.pairs:
        presence, redetect = (float(v) for v in pair.split(","))
        for size in args.lost_size:
            runs[f"lt_p{presence:g}_r{redetect:g}_w{size}"] = dataclasses.replace(
                engine_config, long_term=True, presence_thr=presence, redetect_thr=redetect, lost_instance_size=size)
    for name, config in runs.items():
        # the run record keys results by the spec; each setting is its own tracker name
        run_longterm_dataset(dataset, dataclasses.replace(spec, long_term=config.long_term), args.results, name,
                             workers=args.workers, config=config)
        print(f"{name}: done", file=sys.stderr, flush=True)
    print(format_table(build_report(dataset, evaluate_folder(dataset, args.results, list(runs)))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
