"""Held-out evaluation with the tracker itself: the input model and the trained one on sequences
the training never saw, VOT supervised protocol (accuracy, failures, EAO) or DAVIS's (J, F), and
which of the two is better.

Both models are scored from checkpoints in the same layout (the input model rewritten as the
output would be), so they run with the same tracker settings. The engine: PyTorch fp32 from the
checkpoint, or an ONNX export run by the engine `--backend auto` picks (ONNX Runtime or
OpenVINO). Measured on this project's 2-core CPU (docs/training.md), the export tracks a frame
with about a quarter less CPU time but costs ~7 s a model to write, so "auto" exports from
EXPORT_FROM_FRAMES held-out frames on. A line on stderr says when each sequence is done.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from siammask.datasets.sequence_list import SequenceList
from siammask.engines.factory import EngineSpec
from siammask.errors import SiamMaskError

# Held-out frames from which exporting pays: export ~7 CPU s a model; tracking 60 frames took
# 13-15 CPU s on PyTorch fp32 and 11 on ONNX Runtime / OpenVINO (docs/training.md).
EXPORT_FROM_FRAMES = 200


def split_holdout(names: list[str], holdout: int | None) -> tuple[list[str], list[str]]:
    """(training names, held-out names): the last `holdout` sequences (default 1 when there are >= 3)."""
    if holdout is None:
        holdout = 1 if len(names) >= 3 else 0
    if holdout < 0 or holdout >= len(names):
        raise SiamMaskError(f"--holdout {holdout}: the dataset has {len(names)} sequences and at least one "
                            "must remain for training")
    return names[: len(names) - holdout], names[len(names) - holdout :]


def engine_spec(checkpoint: Path, work: Path, threads: int | None, engine: str, frames: int = 0) -> EngineSpec:
    """How a held-out model runs: `torch` from its checkpoint, `export` through an ONNX export
    in `work` run by the backend --backend auto picks; `auto` exports when the held-out
    sequences hold at least EXPORT_FROM_FRAMES `frames`."""
    if engine == "auto":
        engine = "export" if frames >= EXPORT_FROM_FRAMES else "torch"
    if engine == "torch":
        return EngineSpec(checkpoint=str(checkpoint), threads=threads)
    from siammask.deploy.export import export

    folder = export(checkpoint, work / f"{checkpoint.stem}-model")
    return EngineSpec(model=str(folder), threads=threads)


def evaluate(dataset: SequenceList[Any], names: list[str], models: dict[str, Path], threads: int | None,
             eao_interval: tuple[int, int] | None = None, work: Path | None = None, engine: str = "auto",
             say: Callable[[str], None] | None = None) -> tuple[dict[str, Any], str]:
    """Track the sequences `names` of `dataset` (of any format: its protocol scores it) with each model
    (tracker name -> checkpoint); return the report dict and its table. `work` holds exports and
    results (a temporary folder when None); `say` gets the progress lines (default: stderr)."""
    import tempfile

    if work is None:
        with tempfile.TemporaryDirectory(prefix="siammask-holdout-") as tmp:
            return evaluate(dataset, names, models, threads, eao_interval, Path(tmp), engine, say)
    say = say or _stderr
    results = work / "results"
    from siammask.datasets.formats import format_of

    subset = dataset.subset(names)
    protocol = format_of(dataset).protocol
    if protocol == "longterm":
        raise SiamMaskError("held-out evaluation scores VOT (supervised) and DAVIS datasets; a VOT-LT dataset's "
                            "long-term scoring is `siammask eval --experiment longterm`")
    if protocol == "ope" and not subset.annotated:
        raise SiamMaskError("held-out evaluation needs every frame's box; a test split (GOT-10k test, TrackingNet "
                            "TEST) is scored by its server")
    vos = protocol == "vos"
    for name, path in models.items():
        progress = _progress(name, len(names), say)
        spec = engine_spec(path, work, threads, engine, sum(len(seq) for seq in subset))
        say(f"held-out {name}: scoring {len(names)} sequence{'s' * (len(names) != 1)} with {spec.choice.backend}")
        if protocol == "ope":  # one pass: success AUC (pysot) or AO (GOT-10k)
            from siammask.evaluation.ope.runner import run_onepass_dataset

            run_onepass_dataset(subset, spec, results, name, on_done=progress)
        elif vos:
            from siammask.evaluation.vos.runner import run_vos_dataset

            run_vos_dataset(subset, spec, results, name, on_done=progress)
        else:
            from siammask.evaluation.vot.runner import run_dataset

            run_dataset(subset, spec, results, name, on_done=progress)
    if protocol == "ope":
        from siammask.evaluation.ope.report import build_report as build_ope_report
        from siammask.evaluation.ope.report import evaluate_folder as evaluate_ope
        from siammask.evaluation.ope.report import format_table as format_ope_table

        report = build_ope_report(subset, evaluate_ope(subset, results, list(models)))
        return report, format_ope_table(report)
    if vos:
        from siammask.evaluation.vos.report import build_vos_report, format_vos_table

        report = build_vos_report(subset, results, list(models))
        return report, format_vos_table(report)
    from siammask.evaluation.vot.report import build_report, evaluate_folder, format_table

    report = build_report(subset, evaluate_folder(subset, results, list(models), eao_interval))
    return report, format_table(report)


def _progress(name: str, total: int, say: Callable[[str], None]) -> Callable[[Any], None]:
    """The on_done hook of one model's run: a line per finished sequence."""
    start, done = time.monotonic(), [0]

    def finished(outcome: Any) -> None:
        done[0] += 1
        say(f"held-out {name}: {outcome.name} done ({done[0]}/{total} sequences, {time.monotonic() - start:.0f} s)")

    return finished


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def score(report: dict[str, Any], name: str) -> tuple[float, ...]:
    """What ranks a model on the held-out report, larger better: DAVIS's J&F mean; VOT's fewer
    failures first, then higher accuracy (EAO needs sequences longer than its interval, which a
    small held-out set rarely has)."""
    entry = report["trackers"][name]
    if "J&F-Mean" in entry:
        return (_finite(entry["J&F-Mean"], -math.inf),)
    if "ao" in entry or "norm_precision" in entry:  # one pass: GOT-10k's AO, else pysot's success AUC
        return (_finite(entry["ao" if "ao" in entry else "success"], -math.inf),)
    return (-_finite(entry["lost_number"], math.inf), _finite(entry["accuracy"], -math.inf))


def _finite(value: Any, otherwise: float) -> float:
    """`value` as a float, `otherwise` when it is none or not finite (a model that lost everything)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return otherwise
    return number if math.isfinite(number) else otherwise


def describe(report: dict[str, Any], name: str) -> str:
    """One model's held-out figures in words ("accuracy 0.815, 0 failures" or "J&F 0.719")."""
    entry = report["trackers"][name]
    if "J&F-Mean" in entry:
        return f"J&F {entry['J&F-Mean']:.3f}"
    if "ao" in entry:
        return f"AO {entry['ao']:.3f}"
    if "norm_precision" in entry:
        return f"success AUC {entry['success']:.3f}, precision {entry['precision']:.3f}"
    lost = entry["lost_number"]
    return f"accuracy {entry['accuracy']:.3f}, {lost:g} failure{'s' * (lost != 1)}"
