"""`siammask bench`: one run that times every backend x precision side by side, with the same frames
and weights, each in a worker of its own (siammask.bench.workers); which combinations run, the
per-precision floors and the open-loop agreement of reduced precisions with fp32 are
siammask.bench.matrix's, the report siammask.bench.report's.

Why it is built this way:

* The tracker's own per-frame work is measured beside the engine's: that is the number the
  "host work <= 10 ms at 1280x720" target is about, so the synthetic sequence is 1280x720 by
  default.
* The model's GFLOP per frame (siammask.bench.flops) and this machine's measured GEMM rate give
  a floor, so a reader can tell how far a backend is from what the hardware allows.
* Every row is checked against the first for the same polygons (parity): the numbers mean
  nothing unless everyone ran the same frames with the same weights.

Timings are reported, never judged: the numbers depend on the machine and its load.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from siammask.bench.flops import count_gflops
from siammask.bench.machine import machine_info
from siammask.bench.matrix import BENCH_BACKENDS, Combination, auto_picks, floors, parse_backends, plan
from siammask.bench.reference import check_checkout
from siammask.bench.timing import box_polygon, load_average
from siammask.bench.workers import GEMM_SIZE, run_worker
from siammask.errors import SiamMaskError

BACKENDS = BENCH_BACKENDS  # torch, onnxruntime, openvino; each with its precisions (matrix.plan)
DEFAULT_FRAMES = 20
DEFAULT_REPEATS = 10
DEFAULT_WARMUP = 2
DEFAULT_FRAME_SIZE = (1280, 720)
DECODE_TARGET_MS = 10.0  # the target for per-frame work outside the network at 1280x720


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


def sequence_from(folder: Path, frames: int) -> tuple[list[str], list[float]]:
    """The first `frames` + 1 frame paths of a sequence folder (or a dataset's first sequence) and
    its first ground-truth region as a polygon."""
    from siammask.datasets.vot import is_vot_dataset, load_dataset, load_sequence

    seq = load_dataset(folder).sequences[0] if is_vot_dataset(folder) else load_sequence(folder)
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
        frames, box = sequence_from(options.sequence, options.frames)
        source = str(options.sequence)
    else:
        from siammask.datasets.synth import make_dataset

        w, h = options.frame_size
        say(f"making a synthetic {w}x{h} sequence of {options.frames + 1} frames")
        root = make_dataset(workdir / "synth", sequences=1, frames=options.frames + 1, size=options.frame_size)
        frames, box = sequence_from(root, options.frames)
        source = f"synthetic {w}x{h}"

    checkpoint = options.checkpoint
    models = list(options.models)
    names = backend_names(options.backends)
    exported = bool(names & {"onnxruntime", "openvino"})
    needs_checkpoint = "torch" in names or options.reference is not None or (exported and not models)
    default = checkpoint is None and needs_checkpoint
    if default:
        checkpoint = default_checkpoint(say)
    if exported and not models:
        assert checkpoint is not None
        from siammask.deploy.export import export
        from siammask.model.default import default_model

        if default:  # the default's export is cached beside its checkpoint: written once, reused
            models = [Path(default_model(None, say)[0]["model"])]
        else:
            say(f"exporting {checkpoint.name} to ONNX")
            models = [export(checkpoint, workdir / "exported")]
    return {"frames": frames, "box": box, "source": source, "checkpoint": checkpoint, "models": models,
            "default": default}


def default_checkpoint(say: Callable[[str], None]) -> Path:
    """No --checkpoint and no --model: the embedded default's checkpoint (cached), said in one line."""
    from siammask.model.default import LABEL, default_model

    try:
        options, _ = default_model("torch", say)
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the install
        raise SiamMaskError(f"writing the embedded default's checkpoint needs PyTorch ({exc.name} missing): install "
                            "siammask[torch] or pass --model DIR with --backends onnxruntime") from None
    say(f"siammask: no --checkpoint or --model: using {LABEL}")
    return Path(options["checkpoint"])


def check_options(options: BenchOptions) -> tuple[int, Path | None]:
    """Refuse what cannot run, each in one line before any work; (threads, the reference checkout)."""
    if options.backends is not None:
        parse_backends(",".join(options.backends))  # unknown names
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
    reference = check_checkout(options.reference) if options.reference is not None else None
    return threads, reference


def replay_base(done: list[tuple[dict[str, Any], str | None]], model: str | None) -> dict[str, Any] | None:
    """The fp32 run a reduced precision on `model` replays, from the rows so far with their
    folders: the same folder's, else an exported fp32 run (an INT8 folder's source), else
    torch's; None before any fp32 run tracked."""
    fp32 = [(r, f) for r, f in done if r.get("requested_precision") == "fp32" and r.get("states")
            and not r.get("error")]
    same = [r for r, f in fp32 if f == model]
    exported = [r for r, f in fp32 if f]
    base = (same or exported or [r for r, _ in fp32] or [None])[0]
    if base is None:
        return None
    return {"label": f"{base['backend']} fp32", "states": base["states"], "polygons": base["polygons"]}


def run_matrix(options: BenchOptions, prep: dict[str, Any], common: dict[str, Any], workdir: Path, threads: int,
               say: Callable[[str], None]) -> tuple[list[dict[str, Any]], list[Combination]]:
    """One worker per combination this machine can run, fp32 first: each reduced precision then
    replays the fp32 run's states (same folder's fp32 row where there is one, else the first)."""
    checkpoint = str(prep["checkpoint"]) if prep["checkpoint"] else None
    combos = plan(options.backends, [str(m) for m in prep["models"]], checkpoint)
    combos.sort(key=lambda c: c.precision != "fp32")  # stable: the asked order within each group
    rows: list[dict[str, Any]] = []
    folders: list[str | None] = []  # each row's folder (None: the checkpoint), for replay_base
    for combo in combos:
        shown = combo.model if options.models else (f"(exported from {prep['checkpoint'].name})" if combo.model
                                                    else None)
        if combo.refused:
            say(f"{combo.label}: not run here ({combo.refused})")
            rows.append({"backend": combo.backend, "requested_precision": combo.precision, "model": shown,
                         "refused": combo.refused})
            folders.append(combo.model)
            continue
        spec: dict[str, Any] = {**common, "kind": "engine", "backend": combo.backend, "precision": combo.precision,
                                "label": combo.label}
        if combo.backend == "torch":
            spec["checkpoint"] = checkpoint
        else:
            spec["model"] = combo.model
        if combo.precision != "fp32":
            base = replay_base(list(zip(rows, folders)), combo.model)
            if base is not None:
                spec["replay"] = base
        say(f"{combo.label}" + (f": {combo.model}" if combo.model else ""))
        row = run_worker(spec, workdir, threads)
        row.setdefault("backend", combo.backend)
        row.setdefault("requested_precision", combo.precision)
        row["model"] = shown
        rows.append(row)
        folders.append(combo.model)
    return rows, combos


def label_rows(rows: list[dict[str, Any]]) -> None:
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


def fp32_floor(flops: dict[str, float] | None, gemm: dict[str, Any],
               rows: list[dict[str, Any]]) -> dict[str, Any] | None:
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


def parity(rows: list[dict[str, Any]], ref_rows: list[dict[str, Any]]) -> dict[str, float] | None:
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


def add_speedups(rows: list[dict[str, Any]], ref_rows: list[dict[str, Any]]) -> None:
    """Each row's FPS over the reference's, as the authors run it and (second run) under no_grad."""
    for key, reference in (("speedup_vs_reference", ref_rows[0] if ref_rows else None),
                           ("speedup_vs_reference_no_grad", ref_rows[1] if len(ref_rows) > 1 else None)):
        for row in rows:
            ok = reference and not reference.get("error") and not row.get("error")
            row[key] = row["fps"] / reference["fps"] if ok else None


def problems_of(rows: list[dict[str, Any]], ref_rows: list[dict[str, Any]], gemm: dict[str, Any]) -> list[str]:
    """Every failed worker, and an ONNX Runtime worker that imported torch (it must not)."""
    problems = [f"{r['label']}: {r['error']}" for r in rows + ref_rows if r.get("error")]
    if gemm.get("error"):
        problems.append(f"gemm: {gemm['error']}")
    for row in rows:
        if row.get("backend") == "onnxruntime" and row.get("torch_imported"):
            problems.append(f"{row['label']}: torch was imported by the torch-free ONNX Runtime worker")
    return problems


def measure(options: BenchOptions, threads: int, reference: Path | None,
            say: Callable[[str], None]) -> dict[str, Any]:
    """Prepare inputs in a scratch folder and run every worker there: the GEMM probe, the
    combinations, the reference (as the authors run it, then under no_grad)."""
    with tempfile.TemporaryDirectory(prefix="siammask-bench-") as tmp:
        workdir = Path(tmp)
        prep = prepare(options, workdir, say)
        common = {"frames": prep["frames"], "box": prep["box"], "repeats": options.repeats,
                  "warmup": options.warmup, "threads": threads}
        say(f"measuring GEMM rates (fp32 {options.gemm_size}x{options.gemm_size}; bf16, int8; {threads} threads)")
        gemm = run_worker({"kind": "gemm", "label": "gemm", "size": options.gemm_size, "threads": threads,
                           "precisions": ["bf16", "int8"]}, workdir, threads)
        rows, combos = run_matrix(options, prep, common, workdir, threads, say)
        ref_rows: list[dict[str, Any]] = []
        if reference is not None:
            for no_grad in [False, True] if options.reference_no_grad else [False]:
                label = "reference (no_grad)" if no_grad else "reference"
                say(f"{label}: {reference}")
                ref_rows.append(run_worker({**common, "kind": "reference", "label": label, "checkout": str(reference),
                                            "checkpoint": str(prep["checkpoint"]), "no_grad": no_grad},
                                           workdir, threads))
        # inside the scratch folder's life: a folder exported here is read for its manifest
        auto = auto_picks([str(m) for m in prep["models"]], str(prep["checkpoint"]) if prep["checkpoint"] else None)
    return {"prep": prep, "gemm": gemm, "rows": rows, "combos": combos, "ref_rows": ref_rows, "auto": auto}


def run_bench(options: BenchOptions, say: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Prepare, run every worker, and gather all figures in one JSON-ready dict."""
    say = say or (lambda text: print(text, file=sys.stderr, flush=True))
    threads, reference = check_options(options)
    load_start = load_average()
    done = measure(options, threads, reference, say)
    flops = count_gflops()
    prep, gemm, rows, ref_rows = done["prep"], done["gemm"], done["rows"], done["ref_rows"]
    label_rows(rows)
    ran = [r for r in rows if not r.get("refused")]
    add_speedups(ran + ref_rows, ref_rows)
    rates = {"fp32": gemm, **(gemm.get("precisions") or {})} if not gemm.get("error") else {}
    loads = [v for r in [gemm, *rows, *ref_rows] for v in (r.get("load_average") or {}).values() if v is not None]
    loads += [v for v in (load_start, load_average()) if v is not None]
    return {
        "machine": machine_info(threads),
        "load_average": {"max": max(loads) if loads else None, "start": load_start},
        "settings": {
            "frames": len(prep["frames"]) - 1, "repeats": options.repeats, "warmup": options.warmup,
            "threads": threads, "sequence": prep["source"],
            "checkpoint": str(options.checkpoint or "(embedded default)"),
            "default_weights": prep["default"], "models": [str(m) for m in options.models] or None,
            "reference": str(reference) if reference else None,
        },
        "flops": flops,
        "gemm": gemm,
        "floor": fp32_floor(flops, gemm, ran),
        "floors": floors(flops, rates, ran),
        "combinations": [{"backend": c.backend, "precision": c.precision, "model": c.model, "refused": c.refused}
                         for c in done["combos"]],
        "auto": done["auto"],
        "backends": rows,
        "reference": ref_rows,
        "parity": parity(ran, ref_rows),
        "decode_target_ms": DECODE_TARGET_MS,
        "problems": problems_of(rows, ref_rows, gemm),
    }
