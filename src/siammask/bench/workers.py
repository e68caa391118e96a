"""The bench's workers: each measurement runs in a fresh interpreter of its own.

Why: peak RSS (``ru_maxrss``/VmHWM) is then that backend's alone, one backend's thread pools and
caches never warm or disturb another's, and the ONNX Runtime worker can prove that the
torch-free runtime really runs without importing torch.

Latencies of the three engine calls are medians over repetitions with batch 1, on the inputs the
tracker really produced for the sequence's first tracked frame (recorded, then replayed). The
tracker's own per-frame work (crops, decoding, mask paste, rotated box) is ``Tracker.track`` time
minus the time spent inside the engine (`TimingEngine`).

The parent calls `run_worker`; the child is ``python -m siammask.bench.workers --worker SPEC OUT``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from siammask.bench.timing import (
    TimingEngine,
    load_average,
    peak_rss_mb,
    progress,
    time_calls,
    timing_figures,
)
from siammask.errors import SiamMaskError
from siammask.files import json_text, write_text_atomically
from siammask.io.sources import read_image

GEMM_SIZE = 2048
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
USAGE = "usage: python -m siammask.bench.workers --worker SPEC.json OUT.json"


def run_worker(spec: dict[str, Any], workdir: Path, threads: int) -> dict[str, Any]:
    """Run one worker in a fresh interpreter with every thread pool capped at `threads`."""
    index = len(list(workdir.glob("spec-*.json")))
    spec_path, out_path = workdir / f"spec-{index}.json", workdir / f"out-{index}.json"
    spec_path.write_text(json.dumps(spec))
    env = dict(os.environ)
    env.update({name: str(threads) for name in THREAD_ENV})
    env.setdefault("PYTHONWARNINGS", "ignore")
    # cwd: the work dir, so neither the user's cwd nor a reference checkout shadows a module
    command = [sys.executable, "-m", "siammask.bench.workers", "--worker", str(spec_path), str(out_path)]
    proc = subprocess.run(command, env=env, cwd=workdir)
    if not out_path.is_file():
        return {"error": f"worker exited with status {proc.returncode} and wrote no result",
                "label": spec.get("label")}
    return json.loads(out_path.read_text())


def measure_engine(
    engine: Any, config: Any, frames: Sequence[str], box: Sequence[float], repeats: int, warmup: int, label: str,
) -> dict[str, Any]:
    """Latency of template/search/refine (batch 1) and a tracked sequence with `engine`.

    Frames are read from disk before each timed call (reading is not tracking).
    """
    from siammask.tracking.tracker import Tracker

    # 1. one init + one track records the real inputs (and warms the engine up)
    probe = TimingEngine(engine)
    tracker = Tracker(probe, config)
    tracker.init(read_image(frames[0]), box)
    tracker.track(read_image(frames[1]))
    (z,) = probe.last["template"]
    x, kernels = probe.last["search"]
    _, _, rows, cols = probe.last["refine"]
    template_s = time_calls(lambda: engine.template(z), repeats, warmup, f"{label} template")
    search_s = time_calls(lambda: engine.search(x, kernels), repeats, warmup, f"{label} search")
    result = engine.search(x, kernels)
    refine_s = time_calls(lambda: engine.refine(result, kernels, rows, cols), repeats, warmup, f"{label} refine")

    # 2. the sequence, engine time separated from the tracker's own work
    timing = TimingEngine(engine)
    tracker = Tracker(timing, config)
    first = read_image(frames[0])
    tic = time.perf_counter()
    tracker.init(first, box)
    init_s = time.perf_counter() - tic
    frame_s, host_s, polygons, states = [], [], [], []
    for path in progress(frames[1:], f"{label} track"):
        frame = read_image(path)
        # the input state of each frame: a reduced precision replays them (open-loop agreement)
        states.append([float(v) for v in (*tracker.state.pos, *tracker.state.size)])
        before = timing.engine_seconds
        tic = time.perf_counter()
        out = tracker.track(frame)
        elapsed = time.perf_counter() - tic
        frame_s.append(elapsed)
        host_s.append(elapsed - (timing.engine_seconds - before))
        polygons.append([float(v) for v in np.asarray(out.polygon).ravel()])
    figures = timing_figures(template_s, search_s, refine_s, host_s, frame_s, init_s, first.shape, polygons)
    figures["states"] = states
    return figures


def run_engine_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Worker body for one backend x precision: load the engine, measure, and (given the fp32
    run's states) replay them for the open-loop agreement with fp32."""
    threads = spec.get("threads")
    precision = spec.get("precision")
    # the one road to an engine (as track/eval take it): the precision checked the same way, and
    # the settings the model's own (a pysot checkpoint's torch row runs pysot's settings, as its
    # export's rows do); ONNX Runtime on the CPU provider, OpenVINO on its CPU device
    from siammask.engines.factory import EngineSpec

    providers = (spec.get("providers") or "cpu") if spec["backend"] == "onnxruntime" else None
    source = {"checkpoint": spec["checkpoint"]} if spec["backend"] == "torch" else {"model": spec["model"]}
    engine, config = EngineSpec(**source, backend=spec["backend"], threads=threads, providers=providers,
                                precision=precision).build()
    out = measure_engine(engine, config, spec["frames"], spec["box"], spec["repeats"], spec["warmup"],
                         spec["label"])
    out.update(backend=spec["backend"], precision=engine.precision, requested_precision=precision, threads=threads)
    if spec["backend"] == "onnxruntime":
        out["providers"] = list(getattr(engine, "providers", []))
    base = spec.get("replay")
    if base:
        from siammask.bench.matrix import replay_agreement

        out["agreement"] = {"vs": base["label"], **replay_agreement(
            engine, config, spec["frames"], spec["box"], base["states"], base["polygons"], read_image)}
    return out


def run_gemm_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """fp32 GEMM rate of numpy's BLAS (its threads set by the worker's environment): the best of a
    few n x n matmuls, i.e. what this machine's cores can sustain on the convolutions' core kernel.
    With "precisions": torch's matmul at each (bf16, int8) as well, the floors of reduced rows."""
    n = int(spec.get("size", GEMM_SIZE))
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    times = time_calls(lambda: a @ b, int(spec.get("repeats", 5)), 1, "fp32 GEMM")
    flop = 2.0 * n**3
    out: dict[str, Any] = {
        "size": n,
        "threads": spec.get("threads"),
        "gflops_best": flop / min(times) / 1e9,
        "gflops_median": flop / statistics.median(times) / 1e9,
    }
    if spec.get("precisions"):
        from siammask.bench.matrix import cpu_bf16_units, gemm_probe

        if spec.get("threads"):
            try:
                import torch

                torch.set_num_threads(int(spec["threads"]))
            except ModuleNotFoundError:
                pass
        out["bf16_units"], out["bf16_units_source"] = cpu_bf16_units()
        out["precisions"] = {p: gemm_probe(p) for p in spec["precisions"]}
    return out


def run_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The figures of one worker spec, or {"error": ...} so the parent can show it beside the
    other rows; with this process's peak memory, load and whether it imported torch."""
    before = load_average()
    try:
        if spec["kind"] == "engine":
            out = run_engine_worker(spec)
        elif spec["kind"] == "gemm":
            out = run_gemm_worker(spec)
        elif spec["kind"] == "reference":
            from siammask.bench.reference import run_reference_worker

            out = run_reference_worker(spec)
        else:
            raise SiamMaskError(f"unknown worker kind {spec['kind']!r}")
    except SiamMaskError as exc:
        out = {"error": str(exc)}
    except Exception as exc:  # a worker must report, never die silently
        last = traceback.format_exc().strip().splitlines()[-3:]
        out = {"error": f"{type(exc).__name__}: {exc}", "traceback": last}
    out["peak_rss_mb"] = peak_rss_mb()
    out["torch_imported"] = "torch" in sys.modules
    out["label"] = spec.get("label")
    out["load_average"] = {"before": before, "after": load_average()}
    return out


def worker_main(argv: Sequence[str]) -> int:
    """`python -m siammask.bench.workers --worker SPEC OUT`: run one measurement, write its JSON
    to OUT (atomically: a worker killed while writing leaves no half a result to misread)."""
    if len(argv) != 3 or argv[0] != "--worker":
        print(USAGE, file=sys.stderr)
        return 2
    out = run_spec(json.loads(Path(argv[1]).read_text()))
    write_text_atomically(Path(argv[2]), json_text(out, indent=None))
    return 0


if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1:]))
