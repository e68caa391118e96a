"""`siammask bench`: one run that times every backend x precision side by side, with the same frames
and weights (which combinations, the per-precision floors and the open-loop agreement of reduced
precisions with fp32: siammask.bench.matrix).

Why it is built this way:

* Each backend (and the authors' reference code, and the GEMM probe) runs in its own fresh
  subprocess. Peak RSS (``ru_maxrss``) is then that backend's alone, one backend's thread pools
  and caches never warm or disturb another's, and the ONNX Runtime worker can prove that the
  torch-free runtime really runs without importing torch.
* Latencies of the three engine calls are medians over repetitions with batch 1, on the inputs
  the tracker really produced for the sequence's first tracked frame (recorded, then replayed).
* The tracker's own per-frame work (crops, decoding, mask paste, rotated box) is measured by
  wrapping the engine in a timing proxy: ``Tracker.track`` time minus the time spent inside the
  engine. That is the number the "host work <= 10 ms at 1280x720" target is about, so the
  synthetic sequence is 1280x720 by default.
* The model's GFLOP per frame and this machine's measured fp32 GEMM rate give a floor (the time
  the convolutions would take at GEMM speed), so a reader can tell how far a backend is from
  what the hardware allows, not only how it compares with another backend.

Timings are reported, never judged: the numbers depend on the machine and its load.

Workers are started as ``python -m siammask.bench.run --worker SPEC.json OUT.json``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from siammask.bench.matrix import BENCH_BACKENDS
from siammask.errors import SiamMaskError
from siammask.io.files import json_text, write_text_atomically

BACKENDS = BENCH_BACKENDS  # torch, onnxruntime, openvino; each with its precisions (bench_matrix.plan)
DEFAULT_FRAMES = 20
DEFAULT_REPEATS = 10
DEFAULT_WARMUP = 2
DEFAULT_FRAME_SIZE = (1280, 720)
GEMM_SIZE = 2048
DECODE_TARGET_MS = 10.0  # the target for per-frame work outside the network at 1280x720
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


# --------------------------------------------------------------------------------------------
# small helpers shared by the parent and the workers
# --------------------------------------------------------------------------------------------
def summarize(seconds: Sequence[float]) -> dict[str, float | int] | None:
    """Median, mean and minimum in milliseconds; the median is what the table shows, since one
    stray scheduling hiccup on a shared machine moves the mean but not the median."""
    if not seconds:
        return None
    ms = [s * 1000.0 for s in seconds]
    return {"median": statistics.median(ms), "mean": statistics.fmean(ms), "min": min(ms), "n": len(ms)}


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB.

    On Linux it is /proc/self/status VmHWM, the high-water mark of this process image: ru_maxrss
    is kept across execve, so a worker forked from a parent holding torch and an export would
    report the parent's peak instead of its own. Elsewhere ru_maxrss (KiB, bytes on macOS).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _progress(iterable: Any, desc: str, total: int | None = None) -> Any:
    """A tqdm bar on stderr when it is a terminal; plain iteration otherwise (logs stay clean)."""
    try:
        from tqdm import tqdm
    except ModuleNotFoundError:  # tqdm is a dependency, but a bar is never worth a crash
        return iterable
    return tqdm(iterable, desc=desc, total=total, leave=False, disable=None, file=sys.stderr)


def _loadavg() -> float | None:
    """The 1-minute load average: recorded beside the timings, since on a shared machine other
    processes' load inflates every number (None where the platform has none)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def box_polygon(box: Sequence[float]) -> list[float]:
    """x,y,w,h -> the 8 corner values; polygons pass through. Both our tracker and the reference's
    get_axis_aligned_bbox then start from the very same region."""
    values = [float(v) for v in box]
    if len(values) == 4:
        x, y, w, h = values
        return [x, y, x + w, y, x + w, y + h, x, y + h]
    return values


# --------------------------------------------------------------------------------------------
# engine worker: latency of the three calls, then a tracked sequence
# --------------------------------------------------------------------------------------------
class TimingEngine:
    """Wraps an engine and accumulates the time spent in each call.

    The tracker sees an ordinary engine; the bench subtracts `engine_seconds` from the time of
    `Tracker.track` to get the tracker's own per-frame work. The last inputs are kept so that the
    latency loop can replay exactly what the tracker fed the network.
    """

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.name = engine.name
        self.precision = engine.precision
        self.seconds = {"template": 0.0, "search": 0.0, "refine": 0.0}
        self.last: dict[str, Any] = {}

    @property
    def engine_seconds(self) -> float:
        return sum(self.seconds.values())

    def template(self, z: np.ndarray) -> Any:
        tic = time.perf_counter()
        out = self.engine.template(z)
        self.seconds["template"] += time.perf_counter() - tic
        self.last["template"] = (z,)
        return out

    def search(self, x: np.ndarray, kernels: Any) -> Any:
        tic = time.perf_counter()
        out = self.engine.search(x, kernels)
        self.seconds["search"] += time.perf_counter() - tic
        self.last["search"] = (x, kernels)
        return out

    def refine(self, search: Any, kernels: Any, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        tic = time.perf_counter()
        out = self.engine.refine(search, kernels, rows, cols)
        self.seconds["refine"] += time.perf_counter() - tic
        self.last["refine"] = (search, kernels, rows, cols)
        return out


def _read_frame(path: str) -> np.ndarray:
    import cv2

    frame = cv2.imread(path, cv2.IMREAD_COLOR)
    if frame is None:
        raise SiamMaskError(f"cannot read image {path}")
    return frame


def _time_calls(fn: Callable[[], Any], repeats: int, warmup: int, desc: str) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in _progress(range(repeats), desc):
        tic = time.perf_counter()
        fn()
        out.append(time.perf_counter() - tic)
    return out


def measure_engine(
    engine: Any, config: Any, frames: Sequence[str], box: Sequence[float], repeats: int, warmup: int, label: str,
) -> dict[str, Any]:
    """Latency of template/search/refine (batch 1) and a tracked sequence with `engine`.

    Frames are read from disk before each timed call (reading is not tracking). End-to-end FPS is
    tracked frames / (init + all track calls), as the reference's track_vot computes its speed.
    """
    from siammask.tracking.tracker import Tracker

    # 1. one init + one track records the real inputs (and warms the engine up)
    probe = TimingEngine(engine)
    tracker = Tracker(probe, config)
    tracker.init(_read_frame(frames[0]), box)
    tracker.track(_read_frame(frames[1]))
    (z,) = probe.last["template"]
    x, kernels = probe.last["search"]
    _, _, rows, cols = probe.last["refine"]
    template_s = _time_calls(lambda: engine.template(z), repeats, warmup, f"{label} template")
    search_s = _time_calls(lambda: engine.search(x, kernels), repeats, warmup, f"{label} search")
    result = engine.search(x, kernels)
    refine_s = _time_calls(lambda: engine.refine(result, kernels, rows, cols), repeats, warmup, f"{label} refine")

    # 2. the sequence, engine time separated from the tracker's own work
    timing = TimingEngine(engine)
    tracker = Tracker(timing, config)
    first = _read_frame(frames[0])
    tic = time.perf_counter()
    tracker.init(first, box)
    init_s = time.perf_counter() - tic
    frame_s, host_s, polygons, states = [], [], [], []
    for path in _progress(frames[1:], f"{label} track"):
        frame = _read_frame(path)
        # the input state of each frame: a reduced precision replays them (open-loop agreement)
        states.append([float(v) for v in (*tracker.state.pos, *tracker.state.size)])
        before = timing.engine_seconds
        tic = time.perf_counter()
        out = tracker.track(frame)
        elapsed = time.perf_counter() - tic
        frame_s.append(elapsed)
        host_s.append(elapsed - (timing.engine_seconds - before))
        polygons.append([float(v) for v in np.asarray(out.polygon).ravel()])
    out = timing_figures(template_s, search_s, refine_s, host_s, frame_s, init_s, first.shape, polygons)
    out["states"] = states
    return out


def timing_figures(
    template_s: Sequence[float], search_s: Sequence[float], refine_s: Sequence[float], host_s: Sequence[float],
    frame_s: Sequence[float], init_s: float, frame_shape: tuple[int, ...], polygons: list[list[float]],
) -> dict[str, Any]:
    """One backend's figures, in the layout every bench row has (ours and the reference's alike)."""
    return {
        "template_ms": summarize(template_s),
        "search_ms": summarize(search_s),
        "refine_ms": summarize(refine_s),
        "decode_mask_ms": summarize(host_s),
        "frame_ms": summarize(frame_s),
        "init_ms": init_s * 1000.0,
        "fps": len(frame_s) / (init_s + sum(frame_s)),
        "tracked_frames": len(frame_s),
        "frame_size": [int(frame_shape[1]), int(frame_shape[0])],
        "polygons": polygons,
    }


def run_engine_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Worker body for one backend x precision: load the engine, measure, and (given the fp32
    run's states) replay them for the open-loop agreement with fp32."""
    threads = spec.get("threads")
    precision = spec.get("precision")
    if spec["backend"] == "torch":
        from siammask.engines.torch_engine import TorchEngine
        from siammask.tracking.config import TrackerConfig

        engine: Any = TorchEngine.from_checkpoint(spec["checkpoint"], threads)
        config = TrackerConfig()
    else:
        from siammask.engines.factory import load_engine

        # the same path as track/eval (the precision checked the same way); ONNX Runtime on the
        # CPU provider, OpenVINO on its CPU device
        providers = (spec.get("providers") or "cpu") if spec["backend"] == "onnxruntime" else None
        engine, config = load_engine(model=spec["model"], backend=spec["backend"], threads=threads,
                                     providers=providers, precision=precision)
    out = measure_engine(engine, config, spec["frames"], spec["box"], spec["repeats"], spec["warmup"],
                         spec["label"])
    out.update(backend=spec["backend"], precision=engine.precision, requested_precision=precision, threads=threads)
    if spec["backend"] == "onnxruntime":
        out["providers"] = list(getattr(engine, "providers", []))
    base = spec.get("replay")
    if base:
        from siammask.bench.matrix import replay_agreement

        out["agreement"] = {"vs": base["label"], **replay_agreement(
            engine, config, spec["frames"], spec["box"], base["states"], base["polygons"], _read_frame)}
    return out


def run_gemm_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """fp32 GEMM rate of numpy's BLAS (its threads set by the worker's environment): the best of a
    few n x n matmuls, i.e. what this machine's cores can sustain on the convolutions' core kernel.
    With "precisions": torch's matmul at each (bf16, int8) as well, the floors of reduced rows."""
    n = int(spec.get("size", GEMM_SIZE))
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    times = _time_calls(lambda: a @ b, int(spec.get("repeats", 5)), 1, "fp32 GEMM")
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


def _worker_main(argv: Sequence[str]) -> int:
    """`python -m siammask.bench.run --worker SPEC OUT`: run one measurement, write its JSON to OUT.

    Failures are written as {"error": ...} so the parent can show them beside the other rows.
    """
    if len(argv) != 3 or argv[0] != "--worker":
        print("usage: python -m siammask.bench.run --worker SPEC.json OUT.json", file=sys.stderr)
        return 2
    spec = json.loads(Path(argv[1]).read_text())
    load_before = _loadavg()
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
    out["load_average"] = {"before": load_before, "after": _loadavg()}
    Path(argv[2]).write_text(json.dumps(out))
    return 0


# --------------------------------------------------------------------------------------------
# the parent: preparation, workers, FLOPs, machine, table
# --------------------------------------------------------------------------------------------
@dataclass
class BenchOptions:
    """What `siammask bench` was asked to do (see the command's help)."""

    checkpoint: Path | None = None
    models: list[Path] = field(default_factory=list)
    sequence: Path | None = None
    frames: int = DEFAULT_FRAMES
    threads: int | None = None
    reference: Path | None = None
    # BACKEND or BACKEND:PRECISION entries; None: every combination this machine can run
    backends: tuple[str, ...] | None = None
    repeats: int = DEFAULT_REPEATS
    warmup: int = DEFAULT_WARMUP
    frame_size: tuple[int, int] = DEFAULT_FRAME_SIZE
    reference_no_grad: bool = True
    gemm_size: int = GEMM_SIZE

    def __post_init__(self) -> None:
        # the workers run in a scratch folder: a relative path would name another file there
        absolute = lambda p: Path(os.path.abspath(p)) if p is not None else None  # noqa: E731
        self.checkpoint, self.sequence, self.reference = map(absolute, (self.checkpoint, self.sequence, self.reference))
        self.models = [Path(os.path.abspath(m)) for m in self.models]


def run_worker(spec: dict[str, Any], workdir: Path, threads: int) -> dict[str, Any]:
    """Run one worker in a fresh interpreter with every thread pool capped at `threads`."""
    index = len(list(workdir.glob("spec-*.json")))
    spec_path, out_path = workdir / f"spec-{index}.json", workdir / f"out-{index}.json"
    spec_path.write_text(json.dumps(spec))
    env = dict(os.environ)
    env.update({name: str(threads) for name in THREAD_ENV})
    env.setdefault("PYTHONWARNINGS", "ignore")
    # cwd: the work dir, so neither the user's cwd nor a reference checkout shadows a module
    proc = subprocess.run([sys.executable, "-m", "siammask.bench.run", "--worker", str(spec_path), str(out_path)],
                          env=env, cwd=workdir)
    if not out_path.is_file():
        return {"error": f"worker exited with status {proc.returncode} and wrote no result",
                "label": spec.get("label")}
    return json.loads(out_path.read_text())


def machine_info(threads: int) -> dict[str, Any]:
    """CPU, cores and library versions, read without importing torch or onnxruntime."""
    from importlib import metadata

    import cv2

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def version(*names: str) -> str | None:
        for name in names:
            try:
                return metadata.version(name)
            except metadata.PackageNotFoundError:
                continue
        return None

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 1
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "threads": threads,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {
            "siammask": version("siammask"),
            "torch": version("torch"),
            "onnxruntime": version("onnxruntime", "onnxruntime-gpu", "onnxruntime-openvino"),
            "opencv": cv2.__version__,
            "numpy": np.__version__,
        },
    }


def _correlation_gflop(channels: int, kernel: int, out_hw: int) -> float:
    """Depth-wise correlation written as shifted multiply-adds: elementwise ops that the flop
    counter does not see, so counted here (2 FLOP per multiply-add)."""
    return 2.0 * channels * kernel * kernel * out_hw * out_hw / 1e9


def count_gflops() -> dict[str, float] | None:
    """GFLOP of the template, search and refine graphs at batch 1 (convolutions and matmuls by
    torch's FlopCounterMode, plus the correlations); None without torch."""
    try:
        import torch
        from torch.utils.flop_counter import FlopCounterMode
    except ModuleNotFoundError:
        return None
    from siammask.model.network import (
        KERNEL_SIZE,
        REFINE_WINDOWS,
        SCORE_SIZE,
        SEARCH_SIZE,
        SEARCH_WINDOW,
        TEMPLATE_SIZE,
        SiamMaskNet,
    )

    net = SiamMaskNet().eval()
    k = torch.zeros(1, 256, KERNEL_SIZE, KERNEL_SIZE)
    calls = {
        "template": lambda: net.template(torch.zeros(1, 3, TEMPLATE_SIZE, TEMPLATE_SIZE)),
        "search": lambda: net.search(torch.zeros(1, 3, SEARCH_SIZE, SEARCH_SIZE), k, k),
        "refine": lambda: net.refine(
            torch.zeros(1, 256, SEARCH_WINDOW, SEARCH_WINDOW), k,
            torch.zeros(1, 64, REFINE_WINDOWS[0], REFINE_WINDOWS[0]),
            torch.zeros(1, 256, REFINE_WINDOWS[1], REFINE_WINDOWS[1]),
            torch.zeros(1, 512, REFINE_WINDOWS[2], REFINE_WINDOWS[2]),
        ),
    }
    correlations = {"template": 0.0, "search": 2 * _correlation_gflop(256, KERNEL_SIZE, SCORE_SIZE),
                    "refine": _correlation_gflop(256, KERNEL_SIZE, 1)}
    out: dict[str, float] = {}
    with torch.no_grad():
        for name, call in calls.items():
            counter = FlopCounterMode(display=False)
            with counter:
                call()
            out[f"{name}_gflop"] = counter.get_total_flops() / 1e9 + correlations[name]
    out["frame_gflop"] = out["search_gflop"] + out["refine_gflop"]
    return out


def _sequence_from(folder: Path, frames: int) -> tuple[list[str], list[float]]:
    from siammask.evaluation.dataset import load_dataset, load_sequence

    seq = load_dataset(folder).sequences[0] if (folder / "list.txt").is_file() else load_sequence(folder)
    if len(seq) < 2:
        raise SiamMaskError(f"sequence {folder}: needs at least 2 frames, has {len(seq)}")
    count = min(len(seq), frames + 1)
    return [str(p) for p in seq.frames[:count]], box_polygon(seq.groundtruth[0])


def backend_names(entries: Sequence[str] | None) -> set[str]:
    """The backends named by --backends entries (BACKEND[:PRECISION]); None: all of them."""
    return set(BACKENDS) if entries is None else {e.partition(":")[0] for e in entries}


def prepare(options: BenchOptions, workdir: Path, say: Callable[[str], None]) -> dict[str, Any]:
    """Frames, initial box, checkpoint and model folders: whatever was not given is made here."""
    if options.sequence is not None:
        frames, box = _sequence_from(options.sequence, options.frames)
        source = str(options.sequence)
    else:
        from siammask.evaluation.synth import make_dataset

        w, h = options.frame_size
        say(f"making a synthetic {w}x{h} sequence of {options.frames + 1} frames")
        root = make_dataset(workdir / "synth", sequences=1, frames=options.frames + 1, size=options.frame_size)
        frames, box = _sequence_from(root, options.frames)
        source = f"synthetic {w}x{h}"

    checkpoint = options.checkpoint
    models = list(options.models)
    names = backend_names(options.backends)
    exported = bool(names & {"onnxruntime", "openvino"})
    needs_checkpoint = "torch" in names or options.reference is not None or (exported and not models)
    seeded = False
    if checkpoint is None and needs_checkpoint:
        try:
            from siammask.model.seeded import write_checkpoint
        except ModuleNotFoundError as exc:  # pragma: no cover - depends on the install
            raise SiamMaskError(f"making the seeded checkpoint needs PyTorch ({exc.name} missing): install "
                                "siammask[torch] or pass --model DIR with --backends onnxruntime") from None
        say("writing the seeded checkpoint (untrained weights: timings only)")
        checkpoint = write_checkpoint(workdir / "seeded.pth")
        seeded = True
    if exported and not models:
        assert checkpoint is not None
        from siammask.deploy.export import export

        say(f"exporting {checkpoint.name} to ONNX")
        models = [export(checkpoint, workdir / "exported")]
    return {"frames": frames, "box": box, "source": source, "checkpoint": checkpoint, "models": models,
            "seeded": seeded}


def _speedups(rows: list[dict[str, Any]], reference: dict[str, Any] | None) -> None:
    for row in rows:
        ok = reference and not reference.get("error") and not row.get("error")
        row["speedup_vs_reference"] = row["fps"] / reference["fps"] if ok else None


def run_bench(options: BenchOptions, say: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Prepare, run every worker, and gather all figures in one JSON-ready dict."""
    say = say or (lambda text: print(text, file=sys.stderr, flush=True))
    from siammask.bench.matrix import parse_backends

    if options.backends is not None:
        parse_backends(",".join(options.backends))  # unknown names: one line, before any work
    if options.backends is not None and not options.backends and options.reference is None:
        raise SiamMaskError("nothing to run: no backend and no --reference")
    if options.frames < 1 or options.repeats < 1 or options.warmup < 0:
        raise SiamMaskError("--frames and --repeats must be at least 1, --warmup at least 0")
    threads = options.threads or os.cpu_count() or 1
    if threads < 1:
        raise SiamMaskError("--threads must be at least 1")
    if options.checkpoint is not None and not Path(options.checkpoint).is_file():
        raise SiamMaskError(f"checkpoint {options.checkpoint}: not a file")
    for model in options.models:
        if not Path(model).is_dir():
            raise SiamMaskError(f"model folder {model}: not a directory")
    if options.models and not backend_names(options.backends) & {"onnxruntime", "openvino"}:
        raise SiamMaskError("--model folders run on the onnxruntime and openvino backends: add one to --backends")
    reference = None
    if options.reference is not None:
        from siammask.bench.reference import check_checkout

        reference = check_checkout(options.reference)

    load_start = _loadavg()
    with tempfile.TemporaryDirectory(prefix="siammask-bench-") as tmp:
        workdir = Path(tmp)
        prep = prepare(options, workdir, say)
        common = {"frames": prep["frames"], "box": prep["box"], "repeats": options.repeats,
                  "warmup": options.warmup, "threads": threads}
        say(f"measuring GEMM rates (fp32 {options.gemm_size}x{options.gemm_size}; bf16, int8; {threads} threads)")
        gemm = run_worker({"kind": "gemm", "label": "gemm", "size": options.gemm_size, "threads": threads,
                           "precisions": ["bf16", "int8"]}, workdir, threads)
        rows, combos = _run_matrix(options, prep, common, workdir, threads, say)
        ref_rows: list[dict[str, Any]] = []
        if reference is not None:
            modes = [False, True] if options.reference_no_grad else [False]
            for no_grad in modes:
                label = "reference (no_grad)" if no_grad else "reference"
                say(f"{label}: {reference}")
                ref_rows.append(run_worker({**common, "kind": "reference", "label": label, "checkout": str(reference),
                                            "checkpoint": str(prep["checkpoint"]), "no_grad": no_grad},
                                           workdir, threads))
        flops = count_gflops()
        # inside the scratch folder's life: a folder exported here is read for its manifest
        from siammask.bench.matrix import auto_picks

        auto = auto_picks([str(m) for m in prep["models"]], str(prep["checkpoint"]) if prep["checkpoint"] else None)

    _label_rows(rows)
    from siammask.bench.matrix import floors

    ran = [r for r in rows if not r.get("refused")]
    main_ref = ref_rows[0] if ref_rows else None
    _speedups(ran + ref_rows, main_ref)
    for row in ran + ref_rows:  # each row also against the reference run under no_grad
        other = ref_rows[1] if len(ref_rows) > 1 else None
        ok = other and not other.get("error") and not row.get("error")
        row["speedup_vs_reference_no_grad"] = row["fps"] / other["fps"] if ok else None
    floor = _floor(flops, gemm, ran)
    rates = {"fp32": gemm, **(gemm.get("precisions") or {})} if not gemm.get("error") else {}
    problems = [f"{r['label']}: {r['error']}" for r in rows + ref_rows if r.get("error")]
    if gemm.get("error"):
        problems.append(f"gemm: {gemm['error']}")
    for row in rows:
        if row.get("backend") == "onnxruntime" and row.get("torch_imported"):
            problems.append(f"{row['label']}: torch was imported by the torch-free ONNX Runtime worker")
    loads = [v for r in [gemm, *rows, *ref_rows] for v in (r.get("load_average") or {}).values() if v is not None]
    loads += [v for v in (load_start, _loadavg()) if v is not None]
    return {
        "machine": machine_info(threads),
        "load_average": {"max": max(loads) if loads else None, "start": load_start},
        "settings": {
            "frames": len(prep["frames"]) - 1, "repeats": options.repeats, "warmup": options.warmup,
            "threads": threads, "sequence": prep["source"], "checkpoint": str(options.checkpoint or "(seeded)"),
            "seeded_weights": prep["seeded"], "models": [str(m) for m in options.models] or None,
            "reference": str(reference) if reference else None,
        },
        "flops": flops,
        "gemm": gemm,
        "floor": floor,
        "floors": floors(flops, rates, ran),
        "combinations": [{"backend": c.backend, "precision": c.precision, "model": c.model, "refused": c.refused}
                         for c in combos],
        "auto": auto,
        "backends": rows,
        "reference": ref_rows,
        "parity": _parity(ran, ref_rows),
        "decode_target_ms": DECODE_TARGET_MS,
        "problems": problems,
    }


def _label_rows(rows: list[dict[str, Any]]) -> None:
    """'torch fp32', 'openvino bf16', 'onnxruntime int8'... (the combination asked: an INT8
    folder's engine says fp32+int8); folder names added on clashes."""
    for row in rows:
        precision = row.get("requested_precision") or row.get("precision", "?")
        row["label"] = f"{row.get('backend', row.get('label'))} {precision}"
    seen: dict[str, int] = {}
    for row in rows:
        seen[row["label"]] = seen.get(row["label"], 0) + 1
    for row in rows:
        if seen[row["label"]] > 1 and row.get("model"):
            row["label"] += f" ({Path(row['model']).name})"


def _run_matrix(options: BenchOptions, prep: dict[str, Any], common: dict[str, Any], workdir: Path, threads: int,
                say: Callable[[str], None]) -> tuple[list[dict[str, Any]], list[Any]]:
    """One worker per combination this machine can run, fp32 first: each reduced precision then
    replays the fp32 run's states (same folder's fp32 row where there is one, else the first)."""
    from siammask.bench.matrix import plan

    checkpoint = str(prep["checkpoint"]) if prep["checkpoint"] else None
    combos = plan(options.backends, [str(m) for m in prep["models"]], checkpoint)
    combos.sort(key=lambda c: c.precision != "fp32")  # stable: the asked order within each group
    rows: list[dict[str, Any]] = []
    for combo in combos:
        shown = combo.model if options.models else (f"(exported from {prep['checkpoint'].name})" if combo.model
                                                    else None)
        if combo.refused:
            say(f"{combo.label}: not run here ({combo.refused})")
            rows.append({"backend": combo.backend, "requested_precision": combo.precision, "model": shown,
                         "refused": combo.refused})
            continue
        spec: dict[str, Any] = {**common, "kind": "engine", "backend": combo.backend, "precision": combo.precision,
                                "label": combo.label}
        if combo.backend == "torch":
            spec["checkpoint"] = checkpoint
        else:
            spec["model"] = combo.model
        if combo.precision != "fp32":
            fp32 = [r for r in rows if r.get("requested_precision") == "fp32" and r.get("states")
                    and not r.get("error")]
            # the same folder's fp32 run, else an exported fp32 run (an INT8 folder's source), else torch's
            same = [r for r in fp32 if r.get("_folder") == combo.model]
            exported = [r for r in fp32 if r.get("_folder")]
            base = (same or exported or fp32 or [None])[0]
            if base is not None:
                spec["replay"] = {"label": f"{base['backend']} fp32", "states": base["states"],
                                  "polygons": base["polygons"]}
        say(f"{combo.label}" + (f": {combo.model}" if combo.model else ""))
        row = run_worker(spec, workdir, threads)
        row.setdefault("backend", combo.backend)
        row.setdefault("requested_precision", combo.precision)
        row["_folder"] = combo.model
        row["model"] = shown
        rows.append(row)
    for row in rows:
        row.pop("_folder", None)
    return rows, combos


def _floor(flops: dict[str, float] | None, gemm: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The fp32 floor: the graphs' GFLOP at the measured GEMM rate, beside each measured latency."""
    if not flops or gemm.get("error"):
        return None
    rate = gemm["gflops_best"]
    out: dict[str, Any] = {
        "gemm_gflops": rate,
        "template_ms": flops["template_gflop"] / rate * 1000.0,
        "search_ms": flops["search_gflop"] / rate * 1000.0,
        "refine_ms": flops["refine_gflop"] / rate * 1000.0,
        "frame_ms": flops["frame_gflop"] / rate * 1000.0,
        "measured_vs_floor": {},
    }
    for row in rows:
        if row.get("error"):
            continue
        out["measured_vs_floor"][row["label"]] = {
            "search": row["search_ms"]["median"] / out["search_ms"],
            "refine": row["refine_ms"]["median"] / out["refine_ms"],
            "engine_frame": (row["search_ms"]["median"] + row["refine_ms"]["median"]) / out["frame_ms"],
            "achieved_gflops_search": flops["search_gflop"] / (row["search_ms"]["median"] / 1000.0),
        }
    return out


def _parity(rows: list[dict[str, Any]], ref_rows: list[dict[str, Any]]) -> dict[str, float] | None:
    """Largest polygon difference (px) of each row against the first row that tracked: a check that
    everyone really ran the same frames with the same weights (the numbers mean nothing otherwise)."""
    done = [r for r in rows + ref_rows if not r.get("error") and r.get("polygons")]
    if len(done) < 2:
        return None
    base = np.asarray(done[0]["polygons"], dtype=np.float64)
    out = {}
    for row in done[1:]:
        other = np.asarray(row["polygons"], dtype=np.float64)
        n = min(len(base), len(other))
        out[f"{row['label']} vs {done[0]['label']}"] = float(np.max(np.abs(base[:n] - other[:n]))) if n else 0.0
    return out


# --------------------------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------------------------
def _num(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def _med(row: dict[str, Any], key: str) -> float | None:
    value = row.get(key)
    return value["median"] if isinstance(value, dict) else None


def format_report(result: dict[str, Any]) -> str:
    """The human-readable report: a table (medians, ms) and the FLOP / GEMM floor beneath it."""
    m, s = result["machine"], result["settings"]
    lines = [
        f"machine: {m['cpu']}, {m['usable_cores']} usable cores of {m['cores']}, {s['threads']} threads; "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v),
        f"sequence: {s['sequence']}, {s['frames']} tracked frames; latencies: median of {s['repeats']} calls "
        f"(batch 1) after {s['warmup']} warm-up; weights: {s['checkpoint']}",
        "",
    ]
    for pick in result.get("auto") or []:
        if pick.get("backend"):
            where = f" ({Path(pick['model']).name})" if pick.get("model") else ""
            lines.append(f"--backend auto, {pick['precision']}: {pick['backend']}{where}: {pick['reason']}")
        else:
            lines.append(f"--backend auto, {pick['precision']}: cannot run here: {pick.get('refused')}")
    if result.get("auto"):
        lines.append("")
    header = ["backend", "template ms", "search ms", "refine ms", "decode+mask ms", "frame ms", "FPS",
              "peak RSS MB", "speed-up", "search x floor", "<=1px of fp32", "median err px"]
    vs_floor = (result.get("floors") or {}).get("search_vs_floor", {})
    table = [header]
    for row in result["reference"] + result["backends"]:
        if row.get("refused"):
            table.append([row["label"], f"not run here: {row['refused']}"] + [""] * (len(header) - 2))
            continue
        if row.get("error"):
            table.append([row["label"], f"failed: {row['error']}"[:100]] + [""] * (len(header) - 2))
            continue
        speed = row.get("speedup_vs_reference")
        multiple = (vs_floor.get(row["label"]) or {}).get("multiple")
        agree = row.get("agreement") or {}
        table.append([
            row["label"], _num(_med(row, "template_ms")), _num(_med(row, "search_ms")), _num(_med(row, "refine_ms")),
            _num(_med(row, "decode_mask_ms"), ".2f"), _num(_med(row, "frame_ms")), _num(row.get("fps"), ".2f"),
            _num(row.get("peak_rss_mb"), ".0f"), "-" if speed is None else f"{speed:.2f}x",
            "-" if multiple is None else f"{multiple:.2f}x",
            "-" if agree.get("within_1px") is None else f"{100 * agree['within_1px']:.1f}%",
            _num(agree.get("median_error_px"), ".2f"),
        ])
    one_line = ("failed", "not run here")
    widths = [max(len(r[i]) if len(r) > i else 0 for r in table if not r[1].startswith(one_line))
              for i in range(len(header))]
    for i, row in enumerate(table):
        if row[1].startswith(one_line):
            lines.append(f"{row[0]:<{widths[0]}}  {row[1]}")
            continue
        lines.append("  ".join([row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]))
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    if result["reference"]:
        lines.append("speed-up: end-to-end FPS / the reference's (tools/test.py as the authors run it, autograd on)")
    agreed = [r for r in result["backends"] if r.get("agreement")]
    if agreed:
        base = agreed[0]["agreement"]["vs"]
        lines.append(f"<=1px of fp32, median err: open-loop, each frame replayed from the {base} run's input "
                     "state; error = largest polygon-coordinate difference from fp32's")
    lines.append("search x floor: search median / its precision's floor (GFLOP at the GEMM rate of that precision)")
    flops, gemm, floor = result["flops"], result["gemm"], result["floor"]
    lines.append("")
    if flops:
        lines.append(f"model: template {flops['template_gflop']:.2f} GFLOP (once per target), search "
                     f"{flops['search_gflop']:.2f} + refine {flops['refine_gflop']:.2f} = "
                     f"{flops['frame_gflop']:.2f} GFLOP per frame")
    ref_flops = [r for r in result["reference"] if r.get("gflop_per_frame")]
    if ref_flops:
        lines.append(f"reference: {ref_flops[0]['gflop_per_frame']:.2f} GFLOP per frame (it also runs the unused "
                     "63x63 mask head and the mask branch over the whole score map)")
    if not gemm.get("error"):
        lines.append(f"fp32 GEMM (numpy {gemm['size']}x{gemm['size']} matmul, {gemm['threads']} threads): "
                     f"{gemm['gflops_best']:.1f} GFLOP/s best, {gemm['gflops_median']:.1f} median")
    if floor:
        lines.append(f"fp32 floor = GFLOP / GEMM rate: search {floor['search_ms']:.1f} ms, refine "
                     f"{floor['refine_ms']:.2f} ms, per frame {floor['frame_ms']:.1f} ms")
        for label, ratio in floor["measured_vs_floor"].items():
            lines.append(f"  {label}: search {ratio['search']:.2f}x the floor "
                         f"({ratio['achieved_gflops_search']:.1f} GFLOP/s achieved), refine {ratio['refine']:.2f}x, "
                         f"search+refine {ratio['engine_frame']:.2f}x")
    precision_floors = (result.get("floors") or {}).get("precisions", {})
    for precision, probe in ((result.get("gemm") or {}).get("precisions") or {}).items():
        if probe.get("skipped"):
            lines.append(f"{precision} GEMM: not measured: {probe['skipped']}")
        else:
            floor_ms = precision_floors.get(precision, {}).get("search_ms")
            lines.append(f"{precision} GEMM ({probe['op']}, {probe['size']}x{probe['size']}): "
                         f"{probe['gflops_best']:.1f} GFLOP/s best"
                         + (f", search floor {floor_ms:.1f} ms" if floor_ms is not None else ""))
    if (result.get("gemm") or {}).get("bf16_units_source"):
        lines.append(f"bf16 units: {'yes' if result['gemm']['bf16_units'] else 'no'} "
                     f"({result['gemm']['bf16_units_source']})")
    for row in result["backends"]:
        if row.get("error") or row.get("refused"):
            continue
        host = row["decode_mask_ms"]
        w, h = row["frame_size"]
        verdict = "within" if host["median"] <= result["decode_target_ms"] else "over"
        lines.append(f"decode+mask at {w}x{h}, {row['label']}: median {host['median']:.2f} ms, mean "
                     f"{host['mean']:.2f} ms ({verdict} the {result['decode_target_ms']:.0f} ms target)")
    for row in result["backends"]:
        if row.get("backend") == "onnxruntime" and not row.get("error") and not row.get("refused"):
            lines.append(f"{row['label']} worker: torch imported: {'YES' if row['torch_imported'] else 'no'}")
    if result["parity"]:
        pairs = ", ".join(f"{pair} {diff:.3g} px" for pair, diff in result["parity"].items())
        lines.append(f"largest polygon difference (same frames and weights; bf16/int8 may differ): {pairs}")
    load = (result.get("load_average") or {}).get("max")
    if load is not None and load > m["usable_cores"] + 0.5:  # our own run alone stays near `threads`
        lines.append(f"NOTE: the machine was busy (1-min load average up to {load:.1f} on {m['usable_cores']} cores "
                     "during the run): other processes' load inflates these timings; run again on an idle machine")
    for problem in result["problems"]:
        lines.append(f"PROBLEM: {problem}")
    return "\n".join(lines)


def write_json(result: dict[str, Any], path: str | Path) -> None:
    """Write all figures (per-frame polygons included) atomically."""
    try:
        write_text_atomically(Path(path), json_text(result))
    except OSError as exc:
        raise SiamMaskError(f"--json {path}: cannot be written ({exc.strerror or exc})") from None


if __name__ == "__main__":
    sys.exit(_worker_main(sys.argv[1:]))
