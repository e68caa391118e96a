"""Per-layer INT8 sensitivity of the search graph, measured on decisions (docs/int8.md).

Why decisions and not tensor error: the tracker only ever uses the search outputs through the
choice of one anchor (position, size) and the mask at its cell. A layer whose INT8 error moves a
tensor by 2 % matters only if it changes that choice, and a small error in a place where the
correlation cancels (the adjust layer, the heads) can change it more than a large one elsewhere.

Steps (each cached under --work so that reruns are quick):

1. record: the fp32 tracker runs the supervised protocol over --dataset; for every search call
   the feeds, the target's state before the call and the fp32 outputs are kept. The calibration
   set is the first --cal-frames search calls shared over the sequences (what `siammask quantize
   --frames` takes); decisions are evaluated on every --stride-th call of the whole run.
2. calibrate once (MinMax ranges cached as JSON), then quantize variants from that cache.
3. single: each Conv alone in INT8 (the rest fp32): its own effect on decisions.
4. greedy: all Convs INT8, then keep in fp32 the most sensitive ones (by the single ranking, or
   by --order) one by one, printing the decision agreement, the box error and the latency.

    python scripts/int8_sensitivity.py --model /tmp/q/fp32 --dataset tests/data/golden/dataset \\
        --work /tmp/q/sens single
    python scripts/int8_sensitivity.py ... greedy --steps 12
    python scripts/int8_sensitivity.py ... variant --keep adjust,cls.head.0   # one configuration
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from siammask.deploy.quantize import (
    DEFAULT_FORMAT,
    RecordingEngine,
    conv_roles,
    frame_shares,
    preprocess,
    quantize_graph,
)
from siammask.engine_contract import Engine, SearchResult, TemplateKernels
from siammask.engines.onnx_engine import OnnxEngine
from siammask.tracking.config import TrackerConfig
from siammask.tracking.decode import cosine_window, decide, generate_anchors

OUTPUTS = ("cls", "loc", "xf", "p0", "p1", "p2")


# --------------------------------------------------------------------------------------------
class StateRecorder(RecordingEngine):
    """Also keeps the target's state at each search call, so decisions can be recomputed."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.tracker: Any = None
        self.states: list[tuple[np.ndarray, np.ndarray]] = []

    def search(self, x: np.ndarray, kernels: TemplateKernels) -> SearchResult:
        target = self.tracker.state
        self.states.append((target.pos.copy(), target.size.copy()))
        return super().search(x, kernels)


def record(model: Path, dataset: Path, work: Path, threads: int) -> dict[str, Any]:
    cache = work / "records.npz"
    if cache.is_file():
        with np.load(cache) as d:
            return {k: d[k] for k in d.files}
    from siammask.datasets.vot import load_dataset
    from siammask.evaluation.vot.protocol import run_supervised
    from siammask.tracking.tracker import Tracker

    engine = OnnxEngine(model, threads=threads)
    rec = StateRecorder(engine)
    seq_of = []
    for seq in load_dataset(dataset):
        tracker = Tracker(rec, engine.tracker_config)
        rec.tracker = tracker
        before = len(rec.feeds["search"])
        run_supervised(tracker, [str(p) for p in seq.frames], seq.groundtruth)
        seq_of += [seq.name] * (len(rec.feeds["search"]) - before)
        print(f"recorded {seq.name}: {len(rec.feeds['search']) - before} search calls", file=sys.stderr)
    feeds = rec.feeds["search"]
    out = {
        "search": np.concatenate([f["search"] for f in feeds]),
        "cls_kernel": np.concatenate([f["cls_kernel"] for f in feeds]),
        "loc_kernel": np.concatenate([f["loc_kernel"] for f in feeds]),
        "pos": np.array([s[0] for s in rec.states]),
        "size": np.array([s[1] for s in rec.states]),
        "sequence": np.array(seq_of),
    }
    np.savez(cache, **out)
    return out


def calibration_indices(records: dict[str, Any], frames: int) -> list[int]:
    """The first search calls of each sequence, `frames` in all: what `quantize --frames` records."""
    names = list(dict.fromkeys(records["sequence"].tolist()))
    out = []
    for name, share in zip(names, frame_shares(frames, len(names))):
        out += [i for i, s in enumerate(records["sequence"]) if s == name][:share]
    return out


def feeds_of(records: dict[str, Any], indices: list[int]) -> list[dict[str, np.ndarray]]:
    return [{k: records[k][i : i + 1] for k in ("search", "cls_kernel", "loc_kernel")} for i in indices]


# --------------------------------------------------------------------------------------------
class Judge:
    """Runs a search graph over the evaluation calls and compares its decisions with fp32's."""

    def __init__(self, fp32_search: Path, records: dict[str, Any], indices: list[int], threads: int,
                 config: TrackerConfig) -> None:
        self.records, self.indices, self.threads, self.config = records, indices, threads, config
        self.anchors, self.window = generate_anchors(config), cosine_window(config)
        self.reference = self.run(fp32_search)
        self.ref_decisions = [self.decide(i, o) for i, o in zip(indices, self.reference)]

    def session(self, path: Path) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.log_severity_level = 3
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def run(self, path: Path) -> list[list[np.ndarray]]:
        session = self.session(path)
        return [session.run(None, f) for f in feeds_of(self.records, self.indices)]

    def latency(self, path: Path, repeats: int = 5) -> float:
        session = self.session(path)
        feed = feeds_of(self.records, self.indices[:1])[0]
        session.run(None, feed)
        times = []
        for _ in range(repeats):
            tic = time.perf_counter()
            session.run(None, feed)
            times.append(time.perf_counter() - tic)
        return 1000 * min(times)

    def decide(self, index: int, outputs: list[np.ndarray]) -> Any:
        cfg = self.config
        pos, size = self.records["pos"][index], self.records["size"][index]
        context = cfg.context_amount * sum(size)
        scale_x = cfg.exemplar_size / np.sqrt((size[1] + context) * (size[0] + context))
        return decide(outputs[0][0], outputs[1][0], pos, size, scale_x, self.anchors, self.window, cfg)

    def judge(self, path: Path) -> dict[str, float]:
        outs = self.run(path)
        same, cell, dpos, dsize = 0, 0, [], []
        rel = {n: [] for n in OUTPUTS}
        for i, o, r, d_ref in zip(self.indices, outs, self.reference, self.ref_decisions):
            d = self.decide(i, o)
            cell += (d.row, d.col) == (d_ref.row, d_ref.col)
            same += (d.row, d.col) == (d_ref.row, d_ref.col) and np.allclose(d.pos, d_ref.pos, atol=0.5)
            dpos.append(float(np.abs(d.pos - d_ref.pos).max()))
            dsize.append(float(np.abs(d.size - d_ref.size).max()))
            for n, a, b in zip(OUTPUTS, r, o):
                rel[n].append(float(np.linalg.norm(a - b) / max(np.linalg.norm(a), 1e-12)))
        dpos_a = np.array(dpos)
        return {
            "cells_equal_pct": 100.0 * cell / len(self.indices),
            "decisions_equal_pct": 100.0 * same / len(self.indices),
            "pos_err_mean_px": float(dpos_a.mean()), "pos_err_max_px": float(dpos_a.max()),
            "size_err_max_px": float(np.max(dsize)),
            **{f"rel_err_{n}": float(np.mean(v)) for n, v in rel.items()},
        }


# --------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True, help="fp32 export folder")
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True, help="cache folder (records, ranges, variants)")
    parser.add_argument("--cal-frames", type=int, default=64)
    parser.add_argument("--stride", type=int, default=3, help="judge every N-th recorded search call")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--format", default=DEFAULT_FORMAT)
    parser.add_argument("--method", default="MinMax", help="MinMax, Entropy, Percentile")
    parser.add_argument("--json", type=Path, help="append each result as a JSON line here")
    sub = parser.add_subparsers(dest="mode", required=True)
    sub.add_parser("single", help="each Conv alone in INT8")
    greedy = sub.add_parser("greedy", help="all INT8, then keep the most sensitive fp32 one by one")
    greedy.add_argument("--steps", type=int, default=10)
    greedy.add_argument("--order", help="comma-separated roles to keep fp32, in order (default: single ranking)")
    variant = sub.add_parser("variant", help="one configuration")
    variant.add_argument("--keep", default="", help="comma-separated roles (or node names) kept fp32")
    args = parser.parse_args(argv)

    import onnx

    args.work.mkdir(parents=True, exist_ok=True)
    records = record(args.model, args.dataset, args.work, args.threads)
    engine_config = OnnxEngine(args.model).tracker_config
    pre = args.work / "search_pre.onnx"
    if not pre.is_file():
        preprocess(args.model / "search.onnx", pre)
    roles = conv_roles(onnx.load(str(pre)))  # node -> role
    cache = args.work / f"ranges_{args.method}_{args.cal_frames}.json"
    cal_feeds = feeds_of(records, calibration_indices(records, args.cal_frames))
    indices = list(range(0, len(records["search"]), args.stride))
    judge = Judge(pre, records, indices, args.threads, engine_config)
    fp32_ms = judge.latency(pre)
    print(f"{len(indices)} judged search calls; fp32 search {fp32_ms:.1f} ms ({args.threads} threads)")

    def variant(keep: list[str], tag: str) -> dict[str, Any]:
        path = args.work / f"v_{args.format}_{args.method}_{args.cal_frames}.onnx"
        quantize_graph(pre, path, cal_feeds, fmt=args.format, keep_fp32=keep, calibration_cache=cache,
                       calibrate_method=args.method, preprocessed=True)
        result = {"tag": tag, "kept_fp32": keep, "format": args.format, "method": args.method,
                  "cal_frames": args.cal_frames, **judge.judge(path), "search_ms": judge.latency(path)}
        print(f"{tag:40s} cells {result['cells_equal_pct']:6.2f} % decisions {result['decisions_equal_pct']:6.2f} % "
              f"pos err mean "
              f"{result['pos_err_mean_px']:7.3f} max {result['pos_err_max_px']:7.2f} px  "
              f"cls {result['rel_err_cls']:.4f} loc {result['rel_err_loc']:.4f} xf {result['rel_err_xf']:.4f} "
              f"p0 {result['rel_err_p0']:.4f}  "
              f"{result['search_ms']:6.1f} ms", flush=True)
        if args.json:
            with args.json.open("a") as f:
                f.write(json.dumps(result) + "\n")
        return result

    all_roles = list(roles.values())
    if args.mode == "single":
        results = [variant([r for r in all_roles if r != role], f"only {role}") for role in all_roles]
        ranking = sorted(results, key=lambda r: (r["decisions_equal_pct"], -r["pos_err_mean_px"]))
        (args.work / f"single_{args.format}_{args.method}.json").write_text(json.dumps(ranking, indent=1))
        print("\nmost sensitive first:")
        for r in ranking:
            print(f"  {r['tag'][5:]:36s} {r['decisions_equal_pct']:6.2f} %  {r['pos_err_mean_px']:.3f} px")
    elif args.mode == "greedy":
        if args.order:
            order = args.order.split(",")
        else:
            ranking = json.loads((args.work / f"single_{args.format}_{args.method}.json").read_text())
            order = [r["tag"][5:] for r in ranking]
        keep: list[str] = []
        variant(keep, "all INT8")
        for role in order[: args.steps]:
            keep.append(role)
            variant(list(keep), f"+ fp32 {role}")
    else:
        keep = [k for k in args.keep.split(",") if k]
        variant(keep, "keep " + (",".join(keep) or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
