"""Choose the presence rule on data: which score (and mask area) says the target is in view.

Tracks every sequence of a VOT-LT dataset once from its first frame in short-term mode (the
trajectory does not depend on the rule, so every candidate is scored on the same frames) and
records per frame the score, the mask's pixel count, the colour match of the result's box with the
first frame's (tracking/appearance.py), whether the ground truth has the target and the overlap of
the tracker's box with it. A frame "should be present" when the target is in view
and the result is on it (overlap > 0: the long-term measures' own test for a correct frame).
Printed per candidate rule (score >= t; score >= t and mask pixels > 0; colour match >= t; score >=
0.5 and colour match >= t): precision and recall of
"present", its F, and the balanced accuracy (mean of the present and the absent frames' recalls);
the best of each rule last. The per-frame figures go to --csv.

    siammask synth /tmp/lt --layout vot-lt --sequences 8 --frames 150 --size 320x240 --seed 11
    python scripts/presence_rule.py --dataset /tmp/lt --csv /tmp/presence.csv   # the embedded default
"""

from __future__ import annotations

import argparse
import csv
import sys

import numpy as np

from siammask.commands.options import engine_spec
from siammask.datasets.votlt import load_votlt
from siammask.io.sources import read_image
from siammask.tracking.tracker import Tracker


def box_overlap(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two x,y,w,h boxes."""
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return float(inter / union) if union > 0 else 0.0


def frames_of(dataset: str, spec_args: argparse.Namespace) -> list[tuple[str, int, float, int, float, bool, float]]:
    engine, config = engine_spec(spec_args).build()
    rows = []
    for seq in load_votlt(dataset):
        truth = seq.groundtruth[:, :4] if seq.groundtruth.shape[1] == 4 else None
        if truth is None:
            raise SystemExit("this script reads x,y,w,h ground truth")
        tracker = Tracker(engine, config)
        tracker.init(read_image(seq.frames[0]), truth[0])
        for t in range(1, len(seq)):
            result = tracker.track(read_image(seq.frames[t]))
            in_view = bool(np.all(np.isfinite(truth[t])))
            overlap = box_overlap(result.box, truth[t]) if in_view else 0.0
            rows.append((seq.name, t, result.score, result.mask_pixels, result.appearance, in_view, overlap))
        print(f"{seq.name}: {len(seq)} frames", file=sys.stderr, flush=True)
    return rows


def scores_of(predicted: np.ndarray, truth: np.ndarray) -> tuple[float, float, float, float]:
    tp = float(np.sum(predicted & truth))
    precision = tp / max(1.0, float(predicted.sum()))
    recall = tp / max(1.0, float(truth.sum()))
    f = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    absent_recall = float(np.sum(~predicted & ~truth)) / max(1.0, float((~truth).sum()))
    return precision, recall, f, (recall + absent_recall) / 2


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", required=True)
    p.add_argument("--checkpoint")
    p.add_argument("--model")
    p.add_argument("--backend")
    p.add_argument("--csv")
    args = p.parse_args()
    for name in ("precision", "threads", "providers", "config", "preset", "cache_dir"):
        setattr(args, name, None)
    rows = frames_of(args.dataset, args)
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["sequence", "frame", "score", "mask_pixels", "appearance", "in_view", "overlap"])
            writer.writerows(rows)
    score = np.array([r[2] for r in rows])
    pixels = np.array([r[3] for r in rows])
    match = np.array([r[4] for r in rows])
    should = np.array([r[5] and r[6] > 0 for r in rows])
    in_view = np.array([r[5] for r in rows])
    print(f"{len(rows)} frames: {int(in_view.sum())} with the target in view, {int(should.sum())} of them tracked "
          f"(overlap > 0); score on absent frames median {np.median(score[~in_view]):.3f}, "
          f"on tracked frames median {np.median(score[should]):.3f}; colour match on frames not tracked median "
          f"{np.median(match[~should]):.3f}, on tracked frames {np.median(match[should]):.3f}")
    best = {}
    print("rule                          t      precision recall  F      balanced")
    for t in np.round(np.arange(0.05, 1.0, 0.05), 2).tolist() + [0.97, 0.98, 0.99]:
        rules = (("score >= t", score >= t), ("score >= t, mask > 0", (score >= t) & (pixels > 0)),
                 ("match >= t", match >= t), ("score >= 0.5, match >= t", (score >= 0.5) & (match >= t)))
        for rule, predicted in rules:
            figures = scores_of(predicted, should)
            print(f"{rule:29s} {t:5.2f}  {figures[0]:.3f}     {figures[1]:.3f}   {figures[2]:.3f}  {figures[3]:.3f}")
            if rule not in best or figures[3] > best[rule][1][3]:
                best[rule] = (t, figures)
    for rule, (t, figures) in best.items():
        print(f"best balanced accuracy, {rule}: t = {t:.2f} (precision {figures[0]:.3f}, recall {figures[1]:.3f}, "
              f"F {figures[2]:.3f}, balanced {figures[3]:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
