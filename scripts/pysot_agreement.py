"""Closed-loop agreement of our tracker with pysot's SiamMaskTracker on the golden sequences.

Both run the supervised protocol (siammask.evaluation.vot.protocol) on tests/data/golden/dataset with
the golden (seeded) weights, pysot's from a file in pysot's layout (backbone., neck., rpn_head.,
mask_head., refine_head.) that our loader reads too. pysot runs from a checkout you give it
(STVIR/pysot; it needs yacs), on the CPU, with its experiments/siammask_r50_l3/config.yaml;
ours with --preset (default pysot: the same TRACK values). Printed per sequence: frames whose
event (init/track/lost/skip) agrees, the first divergence, and over the frames both tracked
before it the largest polygon coordinate difference (px).

    PYTHONPATH=/path/to/yacs python scripts/pysot_agreement.py --pysot /tmp/pysot --json agreement.json

Two adaptations let pysot's 2019 code run today, without changing what it computes: numpy 2 has no
`np.float` (restored as `float`), and pysot picks findContours' return signature from
`cv2.__version__[-5]`, which for OpenCV 4.10+ ("4.14.0") is not "4": its tracker module is
shown a version string of the 4.x form.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import types
from pathlib import Path
from typing import Any

import numpy as np

from siammask.engines.torch_engine import TorchEngine
from siammask.evaluation.vot.protocol import run_supervised
from siammask.tracking.presets import PRESETS, preset_config
from siammask.tracking.tracker import Tracker, parse_box

DATASET = Path(__file__).resolve().parents[1] / "tests" / "data" / "golden" / "dataset"


class PysotAdapter:
    """pysot's SiamMaskTracker behind our Tracker's init/track, initialised as pysot's tools/test.py does."""

    def __init__(self, tracker: Any) -> None:
        self.tracker = tracker

    def init(self, frame: np.ndarray, region: Any) -> None:
        cx, cy, w, h = parse_box(region)  # the same axis-aligned box as pysot's get_axis_aligned_bbox
        self.tracker.init(frame, [cx - (w - 1) / 2, cy - (h - 1) / 2, w, h])

    def track(self, frame: np.ndarray) -> Any:
        out = self.tracker.track(frame)
        return types.SimpleNamespace(polygon=np.asarray(out["polygon"], dtype=np.float64).reshape(4, 2),
                                     score=float(out["best_score"]))


def pysot_tracker(pysot: Path, checkpoint: Path) -> PysotAdapter:
    import cv2
    import torch

    sys.path.insert(0, str(pysot))
    np.float = float  # type: ignore[attr-defined]  # removed in numpy 2; pysot's _crop_back uses it
    from pysot.core.config import cfg
    from pysot.models.model_builder import ModelBuilder
    from pysot.tracker import siammask_tracker

    cfg.merge_from_file(str(pysot / "experiments" / "siammask_r50_l3" / "config.yaml"))
    cfg.CUDA = False
    shown = types.ModuleType("cv2")
    shown.__dict__.update(cv2.__dict__)
    shown.__version__ = "4.5.5"  # [-5] == "4": OpenCV 4's two-value findContours, which is what runs
    siammask_tracker.cv2 = shown
    model = ModelBuilder()
    model.load_state_dict(torch.load(checkpoint, map_location="cpu", weights_only=True), strict=True)
    return PysotAdapter(siammask_tracker.SiamMaskTracker(model.eval()))


def compare(ours: Any, theirs: Any) -> dict[str, Any]:
    events = [(a.event, b.event) for a, b in zip(ours.records, theirs.records, strict=True)]
    first = next((i for i, (a, b) in enumerate(events) if a != b), None)
    upto = len(events) if first is None else first
    diffs = [float(np.abs(a.polygon - b.polygon).max()) for a, b in zip(ours.records[:upto], theirs.records[:upto])
             if a.event in ("track", "lost") and b.event in ("track", "lost")]
    return {
        "frames": len(events), "events_equal": sum(a == b for a, b in events), "first_divergence": first,
        "failures": [ours.failures, theirs.failures], "compared_polygons": len(diffs),
        "max_polygon_diff_px": max(diffs, default=0.0),
        "median_polygon_diff_px": float(np.median(diffs)) if diffs else 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pysot", type=Path, required=True, help="a checkout of STVIR/pysot")
    parser.add_argument("--preset", default="pysot", choices=PRESETS, help="our settings (default pysot)")
    parser.add_argument("--sequences", nargs="+", help="golden sequences to run (default: all of list.txt)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    import torch

    from siammask.model.checkpoint import PYSOT, read_checkpoint
    from siammask.model.seeded import seeded_state_dict

    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.pth"
        torch.save({PYSOT.theirs(k): torch.from_numpy(v) for k, v in seeded_state_dict().items()}, path)
        loaded = read_checkpoint(path)
        assert loaded.layout is PYSOT
        ours = Tracker(TorchEngine(loaded.model()), preset_config(args.preset))
        theirs = pysot_tracker(args.pysot, path)
    report: dict[str, Any] = {"preset": args.preset, "sequences": {}}
    for seq in args.sequences or (DATASET / "list.txt").read_text().split():
        frames = sorted(str(p) for p in (DATASET / seq).glob("*.jpg"))
        gt = np.loadtxt(DATASET / seq / "groundtruth.txt", delimiter=",")
        with torch.no_grad():
            figures = compare(run_supervised(ours, frames, gt), run_supervised(theirs, frames, gt))
        report["sequences"][seq] = figures
        print(seq, json.dumps(figures), flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
