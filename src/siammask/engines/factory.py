"""The one road to an engine: an EngineSpec (what the user has, a checkpoint (.pth) or an exported
folder, and the options) is checked (`choose_backend`), then built (`build_engine`) with the
settings `tracking.presets.chosen_settings` decides. The API, every command, the bench's workers
and the page all take this road; a model load reads the manifest once and opens OpenVINO once.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from siammask.deploy.graphs import MANIFEST
from siammask.deploy.manifest import Manifest
from siammask.engine_contract import PRECISIONS, Engine
from siammask.engines.registry import BACKENDS, REGISTRY, EngineOptions
from siammask.errors import SiamMaskError
from siammask.tracking.config import TrackerConfig

# Engine threads beyond a few per core only add switching; with no bound, --threads 100000
# created threads up to the system's limit, after which the process no longer answered SIGTERM.
THREADS_PER_CORE = 4


def max_threads() -> int:
    """The most engine threads siammask starts: THREADS_PER_CORE per core of this machine."""
    return THREADS_PER_CORE * (os.cpu_count() or 1)


def check_threads(threads: object, option: str = "--threads") -> int | None:
    """A thread count as every engine takes it: None (the engine's default) or 1 to max_threads()."""
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise SiamMaskError(f"{option} must be at least 1, got {str(threads)[:40]}")
    if threads > max_threads():
        shown = str(threads) if threads < 10**12 else f"{str(threads)[:12]}... ({len(str(threads))} digits)"
        raise SiamMaskError(f"{option} {shown}: more than the {max_threads()} threads this machine can use "
                            f"({THREADS_PER_CORE} per core, {os.cpu_count() or 1} cores)")
    return threads


@dataclass(frozen=True)
class BackendChoice:
    """The backend that will run, the precision asked of it (None: the model's own) and why; with
    what deciding it read, for the engine to reuse: the folder's Manifest and OpenVINO's Core."""

    backend: str
    precision: str | None
    reason: str
    manifest: Manifest | None = field(default=None, compare=False, repr=False)
    core: Any = field(default=None, compare=False, repr=False)  # the backend check's handle (OpenVINO's Core)


def choose_backend(
    checkpoint: str | Path | None = None, model: str | Path | Manifest | None = None, backend: str | None = None,
    precision: str | None = None, providers: str | list[str] | None = None,
) -> BackendChoice:
    """Which backend runs, decided from the manifest and the CPU alone (no model is loaded), so a
    bad combination is refused before any work. None and "auto" pick by the measured rule in
    engines/auto.py; a named backend is checked against the precision asked of it. `model`: an
    exported folder or its Manifest already read."""
    if (checkpoint is None) == (model is None):
        raise SiamMaskError("give exactly one of --checkpoint FILE.pth or --model EXPORTED_DIR")
    if backend not in (None, *BACKENDS):
        raise SiamMaskError(f"unknown backend {backend!r} (choose from {', '.join(BACKENDS)})")
    if precision not in (None, *PRECISIONS):
        raise SiamMaskError(f"unknown precision {precision!r} (choose from {', '.join(PRECISIONS)})")
    named = None if backend in (None, "auto") else REGISTRY[backend]
    if checkpoint is not None:
        if named is not None and named.runs != "checkpoint":
            raise SiamMaskError(f"the {backend} backend runs an exported folder: run `siammask export "
                                "--checkpoint FILE --output DIR`, then pass --model DIR")
        runner = named or next(b for b in REGISTRY.values() if b.runs == "checkpoint")
        runner.check(None, precision, providers)
        why = "given" if named else "auto: a .pth checkpoint runs on PyTorch (export it for the others)"
        return BackendChoice(runner.name, precision, why)
    if named is not None and named.runs != "export":
        raise SiamMaskError(f"the {backend} backend needs --checkpoint FILE.pth, not an exported folder")
    manifest = model if isinstance(model, Manifest) else Manifest.read(model)
    if named is None:
        name, why = auto_backend(manifest.precision, precision, providers)
        named = REGISTRY[name]
    else:
        why = "given"
    handle = named.check(manifest, precision, providers)
    return BackendChoice(named.name, precision, why, manifest, handle)


def auto_backend(
    offered: str, precision: str | None = None, providers: str | list[str] | None = None
) -> tuple[str, str]:
    """(backend, why) that --backend auto gives a folder holding `offered` on this machine."""
    if providers not in (None, "", "auto", []):
        return "onnxruntime", "auto: --providers names ONNX Runtime's providers"
    from siammask.engines.auto import cpu_flags, measured_openvino_cpu, pick_backend

    return pick_backend(offered, precision, _openvino_installed(), _onnx_has_gpu(), measured_openvino_cpu(cpu_flags()))


def _openvino_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("openvino") is not None


def _onnx_has_gpu() -> bool:
    import onnxruntime as ort

    return bool({"CUDAExecutionProvider", "TensorrtExecutionProvider"} & set(ort.get_available_providers()))


def load_engine(
    checkpoint: str | Path | None = None, model: str | Path | None = None, backend: str | None = None,
    threads: int | None = None, providers: str | list[str] | None = None, precision: str | None = None,
    cache_dir: str | None = None,
) -> tuple[Engine, TrackerConfig]:
    """The engine and the model's own tracker settings (an EngineSpec's build, for callers that
    hold the options one by one).

    --checkpoint runs PyTorch; --model (an exported folder) runs ONNX Runtime or OpenVINO and
    never imports torch. `backend` None or "auto" picks the fastest measured backend for the
    precision (choose_backend says which and why); a named one is checked against it.
    `precision` None runs what the model holds. For OpenVINO `providers` names the device and
    `cache_dir` its model cache (None: the default folder, see openvino_engine.cache_root; "none": off).
    """
    check_threads(threads, "threads")
    choice = choose_backend(checkpoint, model, backend, precision, providers)
    return build_engine(choice, checkpoint, threads, providers, cache_dir)


def build_engine(
    choice: BackendChoice, checkpoint: str | Path | None = None, threads: int | None = None,
    providers: str | list[str] | None = None, cache_dir: str | None = None,
) -> tuple[Engine, TrackerConfig]:
    """The engine `choice` names, with the model's own settings (an export's recorded ones, a
    checkpoint's by its layout), from what choosing it already read (manifest, OpenVINO's Core)."""
    backend = REGISTRY[choice.backend]
    # choose_backend read the manifest of every exported folder
    model = Path(checkpoint) if backend.runs == "checkpoint" and checkpoint is not None else choice.manifest
    if model is None:
        raise SiamMaskError("give exactly one of --checkpoint FILE.pth or --model EXPORTED_DIR")
    options = EngineOptions(choice.precision, threads, providers, cache_dir, choice.core)
    return backend.build(model, options)


def folder_precision(model: str | Path) -> str:
    """An exported folder's graph precisions as its engine names them (`fp32`, `fp16`, `fp32+int8`),
    read from the manifest alone, so that a bad folder is refused before any work."""
    return Manifest.read(model).precision


@dataclass(frozen=True)
class EngineSpec:
    """How to build an engine, in a form that crosses process (and Ray) boundaries.

    Paths are made absolute on creation: a worker process may run in another working directory
    (the bench's workers do), and a relative path would then name another file or none.
    """

    checkpoint: str | None = None
    model: str | None = None
    backend: str | None = None
    threads: int | None = None
    providers: str | list[str] | None = None
    config: str | None = None  # tracker settings file overriding the engine's
    precision: str | None = None  # requested; None: what the model holds
    preset: str | None = None  # named settings (siammask.tracking.presets); a settings file overrides them
    cache_dir: str | None = None  # OpenVINO's model cache: None the default folder, "none" (or "") off
    long_term: bool = False  # long-term tracking (the settings' long_term, whatever else they say)

    def __post_init__(self) -> None:
        for name in ("checkpoint", "model", "config"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, os.path.abspath(os.fspath(value)))
        if self.cache_dir is not None:
            off = not str(self.cache_dir).strip() or str(self.cache_dir).strip().lower() == "none"
            object.__setattr__(self, "cache_dir", "none" if off else os.path.abspath(os.fspath(self.cache_dir)))
        check_threads(self.threads)

    def __getstate__(self) -> dict[str, Any]:
        # what choosing read (a Manifest, OpenVINO's Core) stays in this process: a worker that
        # receives the spec (bench, Ray) chooses anew, as it must on its own machine
        return {k: v for k, v in self.__dict__.items() if k != "choice"}

    @classmethod
    def for_path(cls, path: str | Path, **options: Any) -> EngineSpec:
        """The spec of a checkpoint file (PyTorch) or an exported folder, whichever `path` is."""
        if Path(path).is_dir():
            return cls(model=os.fspath(path), **options)
        if Path(path).is_file():
            return cls(checkpoint=os.fspath(path), **options)
        raise SiamMaskError(f"{path}: no such checkpoint file or model folder")

    @cached_property
    def choice(self) -> BackendChoice:
        """The backend that will run and why (reads the manifest and asks the device once per spec:
        label, identity and check all need it; refuses what cannot run)."""
        return choose_backend(self.checkpoint, self.model, self.backend, self.precision, self.providers)

    def check(self) -> None:
        """What can be checked without loading the model: the folder's manifest, the backend and
        the requested precision, the settings file. Commands call it before any long work."""
        self.choice  # noqa: B018 - computed (and cached) for its refusals
        self.settings()

    def settings(self) -> TrackerConfig | None:
        """The settings the user chose (--config file, else --preset), None: the model's own
        (long_term applies on top of either: `build`)."""
        if not (self.config or self.preset):
            return None
        from siammask.tracking.presets import chosen_settings

        return self._with_mode(chosen_settings(self.config, self.preset))

    def _with_mode(self, config: TrackerConfig) -> TrackerConfig:
        return dataclasses.replace(config, long_term=True) if self.long_term else config

    def build(self) -> tuple[Engine, TrackerConfig]:
        """The engine and the settings the run uses (tracking.presets.chosen_settings' rule)."""
        from siammask.tracking.presets import chosen_settings

        engine, own = build_engine(self.choice, self.checkpoint, self.threads, self.providers, self.cache_dir)
        return engine, self._with_mode(chosen_settings(self.config, self.preset, own))

    def identity(self) -> dict[str, object]:
        """What decides a run's results: the model's bytes (the checkpoint's SHA-256, or the
        export's manifest, which holds every graph's), the backend, the precision and the settings
        file's values. Recorded beside results, so that a resumed run never mixes two models."""
        from siammask.files import file_sha256

        source = self.checkpoint or str(Path(self.model or "") / MANIFEST)
        try:
            digest = file_sha256(source)
        except OSError as exc:
            raise SiamMaskError(f"{source}: cannot be read ({exc.strerror or exc})") from None
        return {
            "model": "checkpoint" if self.checkpoint else "export",
            "sha256": digest,
            "backend": self.label,
            "precision": self.model_precision,
            "settings": chosen.to_dict() if (chosen := self.settings()) else "the model's own",
        } | ({"long_term": True} if self.long_term else {})

    @property
    def label(self) -> str:
        """The backend that will run (auto resolved)."""
        return self.choice.backend

    @property
    def model_precision(self) -> str:
        """What the engine will compute in: `fp32` for a checkpoint, else the export's graph
        precisions as its engine names them (`fp32`, `fp16`, `fp32+int8`). Reads only the manifest,
        so a bad folder is refused here, before any tracking. bf16/fp16 asked of an fp32 export
        (OpenVINO's precision hint) name the arithmetic instead."""
        if self.checkpoint or not self.model:
            return "fp32"
        offered = self.choice.manifest.precision if self.choice.manifest else folder_precision(self.model)
        return self.precision if self.precision in ("bf16", "fp16") and offered == "fp32" else offered
