"""Backends x precisions on this machine: per-stage latency, whole-frame open-loop replay of the
golden records, and each reduced precision's polygon agreement with fp32 (docs/engines.md).
The replay and the agreement are siammask.bench.matrix's (the ones `siammask bench` runs on its
own frames), so there is one copy of each.

Every engine is loaded in this one process and the measurements interleave them (one call of
each in turn, repeated), so a neighbour's load on a shared machine hits all of them alike.

    python scripts/engine_matrix.py --fp32 /tmp/ovm/fp32 --int8 /tmp/ovm/int8 --threads 2 --json m.json

Configurations are `backend:precision[:folder]`, folder `fp32` (default) or `int8`, e.g.
`--configs ort:fp32 ov:bf16 ov:int8:int8`. The default is the issue's five.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from siammask.bench.matrix import Step, agreement
from siammask.bench.matrix import open_loop as replay
from siammask.engines.factory import load_engine
from siammask.io.sources import read_image

GOLDEN = Path(__file__).resolve().parents[1] / "tests" / "data" / "golden"
BACKEND_NAMES = {"ort": "onnxruntime", "ov": "openvino"}
DEFAULT_CONFIGS = ("ort:fp32", "ov:fp32", "ov:bf16", "ort:int8:int8", "ov:int8:int8")


def load(config: str, folders: dict[str, str], threads: int) -> tuple[Any, Any]:
    parts = config.split(":")
    backend, precision = BACKEND_NAMES.get(parts[0], parts[0]), parts[1]
    folder = folders[parts[2] if len(parts) > 2 else "fp32"]
    return load_engine(model=folder, backend=backend, precision=precision, threads=threads)


def stage_latencies(engines: dict[str, Any], repeats: int) -> dict[str, dict[str, float]]:
    """Median ms of each stage, batch 1, on the recorded first-frame crop; engines interleaved."""
    raw = np.load(GOLDEN / "raw_first_frame.npz")
    x = raw["x_crop"].astype(np.float32)
    z = np.ascontiguousarray(x[:, :, 64:191, 64:191])  # a real-image exemplar-sized crop
    rows, cols = np.array([12]), np.array([12])
    state = {name: {} for name in engines}
    times: dict[str, dict[str, list[float]]] = {n: {"template": [], "search": [], "refine": []} for n in engines}
    for i in range(repeats + 2):  # two warm-up rounds
        for name, engine in engines.items():
            for stage in ("template", "search", "refine"):
                tic = time.perf_counter()
                if stage == "template":
                    state[name]["k"] = engine.template(z)
                elif stage == "search":
                    state[name]["s"] = engine.search(x, state[name]["k"])
                else:
                    engine.refine(state[name]["s"], state[name]["k"], rows, cols)
                if i >= 2:
                    times[name][stage].append(1000 * (time.perf_counter() - tic))
    return {n: {s: statistics.median(v) for s, v in st.items()} for n, st in times.items()}


def golden_steps(per_sequence: int | None = None) -> tuple[list[Step], list[np.ndarray]]:
    """The golden records as replay steps (init at the ground truth, then every tracked frame from
    its recorded input state), and the reference's polygon for each tracked frame.
    `per_sequence`: only the first N tracked frames of each sequence (a quick look)."""
    records = json.loads((GOLDEN / "tracking_records.json").read_text())
    steps: list[Step] = []
    reference: list[np.ndarray] = []
    for seq, recs in records.items():
        folder = GOLDEN / "dataset" / seq
        paths = sorted(str(p) for p in folder.glob("*.jpg"))
        gt = np.loadtxt(folder / "groundtruth.txt", delimiter=",")
        tracked = 0
        for rec in recs:
            if per_sequence is not None and tracked >= per_sequence:
                break
            f = rec["frame"]
            read = lambda path=paths[f]: read_image(path)  # noqa: E731 - read when replayed, not all at once
            if rec["event"] == "init":
                steps.append(Step(read, box=gt[f]))
            elif rec["event"] in ("track", "lost"):
                steps.append(Step(read, pos=rec["pos_in"], size=rec["sz_in"]))
                reference.append(np.array(rec["polygon"], dtype=np.float64))
                tracked += 1
    return steps, reference


def open_loop(
    engines: dict[str, Any], configs: dict[str, Any], per_sequence: int | None = None,
) -> dict[str, dict[str, Any]]:
    """Replay every tracked frame of the golden records from its recorded input state (the
    bench's open_loop, siammask.bench.matrix): each engine's whole-frame time and its polygons'
    agreement with the reference's and, where an fp32 config ran, with fp32's."""
    steps, reference = golden_steps(per_sequence)
    polygons, times = replay(engines, configs, steps)
    out = {}
    fp32 = next((n for n in engines if n.endswith(":fp32")), None)
    for n in engines:
        vs_ref = agreement(polygons[n], reference)
        entry = {"frame_ms": statistics.median(times[n]), "frames": len(times[n]),
                 "within_1px_of_reference": vs_ref["within_1px"],
                 "median_error_vs_reference_px": vs_ref["median_error_px"]}
        if fp32 is not None:
            vs_fp32 = agreement(polygons[n], polygons[fp32])
            entry["within_1px_of_fp32"] = vs_fp32["within_1px"]
            entry["median_error_vs_fp32_px"] = vs_fp32["median_error_px"]
        out[n] = entry
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fp32", required=True, help="fp32 export folder (siammask export)")
    parser.add_argument("--int8", help="INT8 folder (siammask quantize)")
    parser.add_argument("--extra", action="append", default=[], metavar="NAME=DIR",
                        help="another folder a config may name (e.g. nncf=/tmp/ovm/nncf)")
    parser.add_argument("--configs", nargs="+", default=list(DEFAULT_CONFIGS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--per-sequence", type=int, metavar="N",
                        help="replay only the first N tracked frames of each sequence (default: all)")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args(argv)
    folders = {"fp32": args.fp32, **({"int8": args.int8} if args.int8 else {})}
    folders.update(dict(item.split("=", 1) for item in args.extra))
    engines, configs = {}, {}
    for config in args.configs:
        tic = time.perf_counter()
        engines[config], configs[config] = load(config, folders, args.threads)
        print(f"loaded {config} in {time.perf_counter() - tic:.2f} s", file=sys.stderr)
    load_before = os.getloadavg()
    stages = stage_latencies(engines, args.repeats)
    replay = open_loop(engines, configs, args.per_sequence)
    figures = {"threads": args.threads, "load_average_before": load_before, "load_average_after": os.getloadavg(),
               "configs": {n: {**stages[n], **replay[n]} for n in engines}}
    print(f"load average {load_before[0]:.2f} before, {figures['load_average_after'][0]:.2f} after")
    print(f"{'config':<18} {'template':>9} {'search':>8} {'refine':>8} {'frame':>8} {'≤1px ref':>9} {'≤1px fp32':>9}")
    for n, f in figures["configs"].items():
        print(f"{n:<18} {f['template']:9.1f} {f['search']:8.1f} {f['refine']:8.1f} {f['frame_ms']:8.1f} "
              f"{100 * f['within_1px_of_reference']:8.1f}% {100 * f.get('within_1px_of_fp32', float('nan')):8.1f}%")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
