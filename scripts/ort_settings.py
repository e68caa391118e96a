"""Which ONNX Runtime session settings are fastest here, for an fp32 and an INT8 export.

Each setting is a SessionOptions variant; every graph of each model is timed with the inputs the
tracker really feeds it (a recorded crop of a golden sequence when available, else random
crops in the right ranges). Variants run interleaved, round after round, so that a burst of load
from elsewhere on the machine hits all of them alike; the table shows the minimum (the least
disturbed run) and the median of the per-round times of a whole frame's graphs
(search + refine; template once per target is shown apart).

    python scripts/ort_settings.py --model /tmp/q/fp32 --model /tmp/q/int8 --rounds 7 --json settings.json

Settings varied: graph optimisation level (basic / extended / all: "all" adds the NCHWc layout
for fp32 convolutions and the NHWC layout for INT8 ones), intra-op threads, spinning of idle
pool threads, memory arena and memory pattern, sequential vs parallel execution.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

GRAPHS = ("template", "search", "refine")


def variants(threads: list[int]) -> dict[str, dict[str, Any]]:
    base = {"level": "all", "threads": 2, "spin": True, "arena": True, "pattern": True, "parallel": False}
    out = {}
    for level in ("basic", "extended", "all"):
        out[f"level={level}"] = {**base, "level": level}
    for t in threads:
        out[f"threads={t}"] = {**base, "threads": t}
        out[f"threads={t},spin=off"] = {**base, "threads": t, "spin": False}
    out["arena=off"] = {**base, "arena": False}
    out["pattern=off"] = {**base, "pattern": False}
    out["arena=off,pattern=off"] = {**base, "arena": False, "pattern": False}
    out["parallel"] = {**base, "parallel": True}
    return out


def session_options(v: dict[str, Any]) -> Any:
    import onnxruntime as ort

    o = ort.SessionOptions()
    o.graph_optimization_level = {
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }[v["level"]]
    o.intra_op_num_threads = v["threads"]
    o.add_session_config_entry("session.intra_op.allow_spinning", "1" if v["spin"] else "0")
    o.enable_cpu_mem_arena = v["arena"]
    o.enable_mem_pattern = v["pattern"]
    if v["parallel"]:
        o.execution_mode = ort.ExecutionMode.ORT_PARALLEL
        o.inter_op_num_threads = v["threads"]
    o.log_severity_level = 3
    return o


def example_feeds(session: Any, graph: str, records: Path | None) -> dict[str, np.ndarray]:
    rs = np.random.RandomState(0)
    feeds = {}
    for i in session.get_inputs():
        shape = [1, *i.shape[1:]]
        scale = 255.0 if i.name in ("search", "exemplar") else 1.0
        feeds[i.name] = (rs.rand(*shape) * scale).astype(np.float32)
    if records is not None and graph == "search" and records.is_file():
        with np.load(records) as d:
            feeds = {k: d[k][len(d[k]) // 2][None] for k in ("search", "cls_kernel", "loc_kernel")}
    return feeds


def main(argv: list[str] | None = None) -> int:
    import onnxruntime as ort

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, action="append", required=True, help="export folder (repeatable)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=3, help="timed calls per graph per round")
    parser.add_argument("--threads", default="1,2", help="intra-op thread counts to try")
    parser.add_argument("--records", type=Path, help="records.npz of scripts/int8_sensitivity.py (real crops)")
    parser.add_argument("--only", help="semicolon-separated variant names to run")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    chosen = variants([int(t) for t in args.threads.split(",")])
    if args.only:
        chosen = {k: v for k, v in chosen.items() if k in args.only.split(";")}
    sessions: dict[tuple[str, str], dict[str, Any]] = {}
    for model in args.model:
        manifest = json.loads((model / "manifest.json").read_text())
        for name, v in chosen.items():
            sessions[(str(model), name)] = {}
            for g in GRAPHS:
                s = ort.InferenceSession(str(model / manifest["graphs"][g]["file"]), session_options(v),
                                         providers=["CPUExecutionProvider"])
                feeds = example_feeds(s, g, args.records)
                s.run(None, feeds)  # warm-up
                sessions[(str(model), name)][g] = (s, feeds)
    times: dict[tuple[str, str], dict[str, list[float]]] = {k: {g: [] for g in GRAPHS} for k in sessions}
    for r in range(args.rounds):
        for key, graphs in sessions.items():
            for g, (s, feeds) in graphs.items():
                best = float("inf")
                for _ in range(args.calls if g != "template" else 1):
                    tic = time.perf_counter()
                    s.run(None, feeds)
                    best = min(best, time.perf_counter() - tic)
                times[key][g].append(1000 * best)
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    rows = []
    for (model, name), per in times.items():
        frame = [a + b for a, b in zip(per["search"], per["refine"])]
        rows.append({
            "model": model, "variant": name, "settings": chosen[name],
            "frame_min_ms": min(frame), "frame_median_ms": statistics.median(frame),
            **{f"{g}_min_ms": min(v) for g, v in per.items()},
            **{f"{g}_median_ms": statistics.median(v) for g, v in per.items()},
        })
    print(f"{'model':28s} {'variant':24s} {'frame min':>9s} {'median':>8s} {'search':>8s} {'refine':>7s} "
          f"{'template':>8s}  (ms)")
    for row in rows:
        print(f"{Path(row['model']).name[:28]:28s} {row['variant']:24s} {row['frame_min_ms']:9.1f} "
              f"{row['frame_median_ms']:8.1f} {row['search_min_ms']:8.1f} {row['refine_min_ms']:7.1f} "
              f"{row['template_min_ms']:8.1f}")
    if args.json:
        args.json.write_text(json.dumps({"ort": ort.__version__, "rows": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
