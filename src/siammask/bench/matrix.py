"""`siammask bench` across backends x precisions: which combinations run here, GEMM floors at each
precision, and the open-loop agreement of a reduced precision with fp32.

Why it is built this way:

* Which combination runs is decided by `factory.choose_backend`, the very check `track` and `eval`
  make: a combination this machine cannot run (bf16 on a CPU without bf16 units, OpenVINO not
  installed, int8 asked of an fp32 folder) is a row carrying that one-line reason, not a failure,
  so the same command runs on every machine and says what it could not use.
* Floors are per precision: a bf16 row measured against the fp32 GEMM rate would look faster than
  the hardware allows. The probes are torch's matmul in fp32/bf16 and `torch._int_mm` for int8,
  the kernels torch's own convolutions reach; each runs only where the CPU has the units.
* Agreement is open-loop: the reduced engine starts every frame from the fp32 run's input state
  (centre and size), so one early disagreement is not carried into every later frame. That is
  the figure that says what the precision costs per decision; closed loop is `siammask compare`.

`open_loop` and `agreement` are shared with scripts/engine_matrix.py (the golden records).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from siammask.deploy.manifest import Manifest, precision_parts
from siammask.engine_contract import PRECISIONS
from siammask.engines.registry import ENGINE_BACKENDS, REGISTRY
from siammask.errors import SiamMaskError, first_line

BENCH_BACKENDS = ENGINE_BACKENDS  # the bench measures every engine (engines/registry.py)
GEMM_PRECISION_SIZE = 1024  # bf16/int8 probes: big enough to reach the units' rate, quick at 2 threads


@dataclass(frozen=True)
class Combination:
    """One row to measure: backend, precision asked, the folder (None: the checkpoint) and, when
    this machine cannot run it, why (the row is then shown with that reason and not measured)."""

    backend: str
    precision: str
    model: str | None = None
    refused: str | None = None

    @property
    def label(self) -> str:
        return f"{self.backend} {self.precision}"


def parse_backends(text: str) -> tuple[str, ...]:
    """'torch,openvino:bf16' -> ('torch', 'openvino:bf16'); unknown names are one-line errors."""
    entries = tuple(e.strip() for e in text.split(",") if e.strip())
    for entry in entries:
        backend, _, precision = entry.partition(":")
        if backend not in BENCH_BACKENDS:
            raise SiamMaskError(f"unknown backend {backend!r} (choose from {', '.join(BENCH_BACKENDS)})")
        if precision and precision not in PRECISIONS:
            raise SiamMaskError(f"unknown precision {precision!r} in {entry!r} (choose from {', '.join(PRECISIONS)})")
    return entries


def folder_kind(model: str | Path) -> str:
    """fp32, fp16 or int8: what an exported folder's graphs hold (its manifest alone)."""
    return Manifest.read(model).kind


def _refusal(backend: str, precision: str, model: str | None, checkpoint: str | None) -> str | None:
    """None when choose_backend accepts the combination, else its one-line reason."""
    from siammask.engines.factory import choose_backend

    try:
        if backend == "torch":
            choose_backend(checkpoint=checkpoint or "seeded.pth", backend="torch", precision=precision)
        else:
            choose_backend(model=model, backend=backend, precision=precision)
    except SiamMaskError as exc:
        return str(exc)
    return None


def plan(entries: Sequence[str] | None, models: Sequence[str | Path], checkpoint: str | None) -> list[Combination]:
    """The rows of the bench. `entries` None: every combination this machine might run for the
    given models (torch fp32 for the checkpoint, each folder's precisions on each backend).
    BACKEND alone: that backend's precisions for each folder; BACKEND:PRECISION: that one, on
    every folder that can give it (refused on all: one row per folder saying why)."""
    wanted = list(entries) if entries is not None else list(BENCH_BACKENDS)
    rows: list[Combination] = []
    for entry in wanted:
        backend, _, precision = entry.partition(":")
        if backend == "torch":
            rows.append(Combination("torch", precision or "fp32", None,
                                    _refusal("torch", precision or "fp32", None, checkpoint)))
            continue
        candidates = []
        for model in models:
            kind = folder_kind(model)
            for p in ([precision] if precision else REGISTRY[backend].offers.get(kind, (kind,))):
                candidates.append(Combination(backend, p, str(model), _refusal(backend, p, str(model), None)))
        if precision and any(c.refused is None for c in candidates):
            # asked for one precision: the folders that cannot give it are not news
            candidates = [c for c in candidates if c.refused is None]
        rows.extend(candidates)
    unique: list[Combination] = []
    for row in rows:
        if row not in unique:
            unique.append(row)
    return unique


def auto_picks(models: Sequence[str | Path], checkpoint: str | None) -> list[dict[str, Any]]:
    """What `--backend auto` runs for each precision, and why (choose_backend's reason), over the
    given folders: the first folder it accepts; refused on all: the first folder's reason."""
    from siammask.engines.factory import choose_backend

    picks: list[dict[str, Any]] = []
    for precision in PRECISIONS:
        pick: dict[str, Any] | None = None
        reason = "no exported folder given" if not models else None
        for model in models:
            try:
                choice = choose_backend(model=model, backend="auto", precision=precision)
            except SiamMaskError as exc:
                # the first folder's reason: the fp32 export's names what the CPU offers, an INT8
                # folder's would only say it is not that folder
                reason = reason or str(exc)
                continue
            pick = {"precision": precision, "backend": choice.backend, "model": str(model), "reason": choice.reason}
            break
        if pick is None and not models and checkpoint is not None and precision == "fp32":
            choice = choose_backend(checkpoint=checkpoint, backend="auto", precision="fp32")
            pick = {"precision": precision, "backend": choice.backend, "model": None, "reason": choice.reason}
        picks.append(pick or {"precision": precision, "backend": None, "model": None, "refused": reason})
    return picks


# --------------------------------------------------------------------------------------------
# GEMM probes at each precision (run in the gemm worker)
# --------------------------------------------------------------------------------------------
def cpu_bf16_units() -> tuple[bool, str]:
    """(has bf16 units, how that was read): OpenVINO's OPTIMIZATION_CAPABILITIES where it is
    installed (it lists BF16 for AVX512-BF16 or AMX), else the CPU flags."""
    try:
        import openvino as ov

        caps = list(ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"))
        return "BF16" in caps, f"OpenVINO CPU OPTIMIZATION_CAPABILITIES: {', '.join(caps)}"
    except ModuleNotFoundError:
        pass
    from siammask.engines.auto import cpu_flags

    flags = cpu_flags()
    if not flags:
        return False, "no OpenVINO and no /proc/cpuinfo to read the CPU's flags"
    return flags_present(flags, BF16_FLAGS)


BF16_FLAGS = ("avx512_bf16", "amx_bf16")
INT8_DOT_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8")


def flags_present(flags: set[str], wanted: tuple[str, ...]) -> tuple[bool, str]:
    """(any of `wanted` in `flags`, a line naming those found or all that are missing)."""
    found = [f for f in wanted if f in flags]
    return bool(found), f"CPU flags: {', '.join(found) or 'no ' + ' / '.join(wanted)}"


def cpu_int8_units(flags: set[str]) -> tuple[bool, str]:
    """(has int8 dot-product units, the flags that say so). Without them torch._int_mm has no fast
    CPU kernel and is no floor: measured 2.0 GFLOP/s on an AVX2 EPYC, where ONNX Runtime's and
    OpenVINO's own AVX2 int8 kernels ran the search graph at 209-216 GFLOP/s (docs/engines.md).
    Unknown flags (no /proc/cpuinfo) count as units: the probe then runs and shows its rate."""
    if not flags:
        return True, "no /proc/cpuinfo to read the CPU's flags"
    return flags_present(flags, INT8_DOT_FLAGS)


def gemm_probe(dtype: str, size: int = GEMM_PRECISION_SIZE, repeats: int = 5, seconds: float = 1.0) -> dict[str, Any]:
    """GFLOP/s of an n x n torch matmul in `dtype` (fp32, bf16; int8: torch._int_mm, int32 sums),
    best call over `seconds` (at least `repeats` calls); {"skipped": why} where this CPU or this
    torch cannot run it."""
    try:
        import torch
    except ModuleNotFoundError:
        return {"skipped": "needs PyTorch"}
    if dtype == "bf16":
        units, how = cpu_bf16_units()
        if not units:
            return {"skipped": f"no bf16 units ({how})"}
    elif dtype == "int8":
        from siammask.engines.auto import cpu_flags

        units, how = cpu_int8_units(cpu_flags())
        if not units:
            return {"skipped": f"no int8 dot-product units ({how}): torch._int_mm has no fast kernel here, "
                               "so it would be no floor"}
    gen = torch.Generator().manual_seed(0)
    if dtype == "int8":
        a = torch.randint(-128, 128, (size, size), dtype=torch.int8, generator=gen)
        b = torch.randint(-128, 128, (size, size), dtype=torch.int8, generator=gen)
        call: Callable[[], Any] = lambda: torch._int_mm(a, b)  # noqa: E731
    else:
        kind = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype]
        a = torch.randn(size, size, generator=gen).to(kind)
        b = torch.randn(size, size, generator=gen).to(kind)
        call = lambda: torch.matmul(a, b)  # noqa: E731
    try:
        call()
    except Exception as exc:  # e.g. a torch build without a CPU _int_mm kernel
        first = first_line(exc, 160)
        return {"skipped": f"{'torch._int_mm' if dtype == 'int8' else 'torch.matmul'} does not run here ({first})"}
    # an int8 1024^3 product takes a few ms: a handful of calls is one scheduler hiccup on a shared
    # machine, so keep calling for `seconds` (at least `repeats` calls) and take the best
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < repeats or time.perf_counter() - start < seconds:
        tic = time.perf_counter()
        call()
        times.append(time.perf_counter() - tic)
    flop = 2.0 * size**3
    return {"size": size, "op": "torch._int_mm" if dtype == "int8" else f"torch.matmul {dtype}", "calls": len(times),
            "gflops_best": flop / min(times) / 1e9, "gflops_median": flop / statistics.median(times) / 1e9}


def row_floor_precision(row: dict[str, Any]) -> str:
    """Which floor a row is held to: int8 for a quantized folder (its fp32 layers make the int8
    floor a lower bound), else the precision it computed in."""
    precision = str(row.get("requested_precision") or row.get("precision") or "fp32")
    return "int8" if "int8" in precision_parts(precision) else precision


def floors(flops: dict[str, float] | None, rates: dict[str, dict[str, Any]],
           rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """Per precision the graphs' GFLOP at its GEMM rate, and each row's search latency as a
    multiple of its own precision's floor."""
    if not flops:
        return None
    out: dict[str, Any] = {"precisions": {}, "search_vs_floor": {}}
    for precision, rate in rates.items():
        if rate.get("gflops_best"):
            out["precisions"][precision] = {
                "gemm_gflops": rate["gflops_best"],
                "search_ms": flops["search_gflop"] / rate["gflops_best"] * 1000.0,
                "frame_ms": flops["frame_gflop"] / rate["gflops_best"] * 1000.0,
            }
    for row in rows:
        if not row.get("search_ms"):
            continue
        precision = row_floor_precision(row)
        floor = out["precisions"].get(precision)
        out["search_vs_floor"][row["label"]] = {
            "precision": precision,
            "multiple": row["search_ms"]["median"] / floor["search_ms"] if floor else None,
        }
    return out


# --------------------------------------------------------------------------------------------
# open-loop replay and agreement (shared with scripts/engine_matrix.py)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """One frame of a replay: init at `box`, or track starting from the state (pos, size)."""

    image: Callable[[], np.ndarray]
    box: Sequence[float] | None = None
    pos: Sequence[float] | None = None
    size: Sequence[float] | None = None


def open_loop(engines: dict[str, Any], configs: dict[str, Any], steps: Iterable[Step],
              ) -> tuple[dict[str, list[np.ndarray]], dict[str, list[float]]]:
    """Replay `steps` through every engine, interleaved frame by frame (a neighbour's load hits
    them alike): each tracked frame starts from its recorded state. Returns each engine's
    polygons and whole-frame times (ms: crop, engine calls, decode, mask, box)."""
    from siammask.tracking.tracker import Tracker

    trackers = {n: Tracker(e, configs[n]) for n, e in engines.items()}
    polygons: dict[str, list[np.ndarray]] = {n: [] for n in engines}
    times: dict[str, list[float]] = {n: [] for n in engines}
    for step in steps:
        image = step.image()
        for name, tracker in trackers.items():
            if step.box is not None:
                tracker.init(image, step.box)
                continue
            tracker.state.pos = np.array(step.pos, dtype=np.float64)
            tracker.state.size = np.array(step.size, dtype=np.float64)
            tic = time.perf_counter()
            result = tracker.track(image)
            times[name].append(1000 * (time.perf_counter() - tic))
            polygons[name].append(np.asarray(result.polygon, dtype=np.float64).ravel())
    return polygons, times


def agreement(polygons: Sequence[Sequence[float]], base: Sequence[Sequence[float]]) -> dict[str, Any]:
    """Share of frames whose polygon is within 1 px (largest corner-coordinate difference) of
    `base`'s, and the median of that difference."""
    n = min(len(polygons), len(base))
    if n == 0:
        return {"frames": 0, "within_1px": None, "median_error_px": None, "max_error_px": None}
    errors = np.array([np.max(np.abs(np.asarray(p, dtype=np.float64) - np.asarray(q, dtype=np.float64)))
                       for p, q in zip(polygons[:n], base[:n])])
    return {"frames": n, "within_1px": float(np.mean(errors <= 1.0)), "median_error_px": float(np.median(errors)),
            "max_error_px": float(errors.max())}


def replay_agreement(engine: Any, config: Any, frames: Sequence[str], box: Sequence[float],
                     states: Sequence[Sequence[float]], base_polygons: Sequence[Sequence[float]],
                     read: Callable[[str], np.ndarray]) -> dict[str, Any]:
    """The bench's agreement: `engine` replays the fp32 run's frames from its per-frame input
    states ([x, y, w, h] before each track) and is compared with fp32's polygons."""
    steps = [Step(lambda p=frames[0]: read(p), box=box)]
    steps += [Step(lambda p=path: read(p), pos=s[:2], size=s[2:]) for path, s in zip(frames[1:], states)]
    polygons, times = open_loop({"row": engine}, {"row": config}, steps)
    out = agreement(polygons["row"], base_polygons)
    out["replay_frame_ms"] = statistics.median(times["row"]) if times["row"] else None
    return out
