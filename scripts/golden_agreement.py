"""Closed-loop agreement of a model with the golden (fp32 = reference) records, without an fp32 run.

`siammask compare` runs both models; on the golden sequences the fp32 side is already known (our
fp32 export takes the reference's event on every frame), so this script runs only the model under
test and compares with tests/data/golden/tracking_records.json: events equal (%), first divergence
per sequence, polygon differences (largest coordinate difference) over frames before it.

--noise A adds uniform noise in [-A, A] grey levels to every search crop of the fp32 engine: how
much does the closed loop move under a perturbation far smaller than INT8's? It is the yardstick
docs/int8.md uses for "how chaotic is this tracker".

    python scripts/golden_agreement.py --model /tmp/q/int8 --threads 2
    python scripts/golden_agreement.py --model /tmp/q/fp32 --noise 0.5
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from siammask.engine_contract import Engine, EngineProxy, SearchResult, TemplateKernels
from siammask.engines.onnx_engine import OnnxEngine
from siammask.evaluation.vot.protocol import run_supervised
from siammask.io.sources import list_images
from siammask.tracking.tracker import Tracker

GOLDEN = Path(__file__).resolve().parents[1] / "tests" / "data" / "golden"


class NoisyEngine(EngineProxy):
    """fp32 engine whose search crops get uniform noise (seeded, so runs repeat)."""

    def __init__(self, engine: Engine, amplitude: float, seed: int = 0) -> None:
        super().__init__(engine)
        self.amplitude = amplitude
        self.rng = np.random.default_rng(seed)
        self.precision = f"{engine.precision}+noise{amplitude:g}"  # the noise is part of what is measured

    def search(self, x: np.ndarray, kernels: TemplateKernels) -> SearchResult:
        noise = self.rng.uniform(-self.amplitude, self.amplitude, x.shape).astype(np.float32)
        return super().search(x + noise, kernels)


def agreement(engine: Any, config: Any, sequences: list[str]) -> dict[str, Any]:
    records = json.loads((GOLDEN / "tracking_records.json").read_text())
    total = equal = 0
    diffs, per_seq = [], {}
    tic = time.perf_counter()
    for seq in sequences:
        folder = GOLDEN / "dataset" / seq
        frames = [str(p) for p in list_images(folder)]
        gt = np.loadtxt(folder / "groundtruth.txt", delimiter=",")
        run = run_supervised(Tracker(engine, config), frames, gt)
        ours, theirs = [r.event for r in run.records], [r["event"] for r in records[seq]]
        same = [a == b for a, b in zip(ours, theirs)]
        first = next((f for f, s in enumerate(same) if not s), None)
        for f, (r, g) in enumerate(zip(run.records, records[seq])):
            if r.polygon is not None and "polygon" in g and (first is None or f < first):
                diffs.append(float(np.abs(np.asarray(r.polygon).ravel() - np.asarray(g["polygon"])).max()))
        total, equal = total + len(same), equal + sum(same)
        per_seq[seq] = {"events_equal": sum(same), "frames": len(same), "first_divergence": first,
                        "failures": run.failures, "golden_failures": sum(e == "lost" for e in theirs)}
    d = np.array(diffs) if diffs else np.zeros(1)
    return {"events_equal_pct": 100.0 * equal / total, "sequences": per_seq,
            "in_step_polygon_px": {"frames": len(diffs), "mean": float(d.mean()), "p95": float(np.percentile(d, 95)),
                                   "max": float(d.max())},
            "seconds": time.perf_counter() - tic}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--noise", type=float, help="uniform noise amplitude on search crops (grey levels)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sequence", action="append", help="default: synth00, synth01, synth02")
    parser.add_argument("--json", type=Path, help="append the result as a JSON line")
    args = parser.parse_args(argv)
    engine: Any = OnnxEngine(args.model, threads=args.threads)
    config = engine.tracker_config
    if args.noise:
        engine = NoisyEngine(engine, args.noise, args.seed)
    result = {"model": str(args.model), "precision": engine.precision,
              **agreement(engine, config, args.sequence or ["synth00", "synth01", "synth02"])}
    print(json.dumps(result, indent=1))
    if args.json:
        with args.json.open("a") as f:
            f.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
