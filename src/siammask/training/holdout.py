"""Held-out evaluation with the tracker itself: the input model and the trained one on sequences
the training never saw, VOT supervised protocol (accuracy, failures, EAO) or DAVIS's (J, F)."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any

from siammask.engines.factory import EngineSpec


def split_holdout(names: list[str], holdout: int | None) -> tuple[list[str], list[str]]:
    """(training names, held-out names): the last `holdout` sequences (default 1 when there are >= 3)."""
    from siammask.errors import SiamMaskError

    if holdout is None:
        holdout = 1 if len(names) >= 3 else 0
    if holdout < 0 or holdout >= len(names):
        raise SiamMaskError(f"--holdout {holdout}: the dataset has {len(names)} sequences and at least one "
                            "must remain for training")
    return names[: len(names) - holdout], names[len(names) - holdout :]


def evaluate(dataset: Any, names: list[str], models: dict[str, Path], threads: int | None,
             eao_interval: tuple[int, int] | None = None) -> tuple[dict[str, Any], str]:
    """Track the sequences `names` of `dataset` (VOT Dataset or DavisDataset) with each model
    (tracker name -> checkpoint); return the report dict and its table."""
    with tempfile.TemporaryDirectory(prefix="siammask-holdout-") as results:
        if hasattr(dataset, "year"):  # DAVIS
            from siammask.evaluation.vos_report import build_vos_report, format_vos_table
            from siammask.evaluation.vos_runner import run_vos_dataset

            subset = dataclasses.replace(dataset, sequences=tuple(dataset[n] for n in names))
            for name, path in models.items():
                run_vos_dataset(subset, EngineSpec(checkpoint=str(path), threads=threads), results, name)
            report = build_vos_report(subset, results, list(models))
            return report, format_vos_table(report)
        from siammask.evaluation.dataset import Dataset
        from siammask.evaluation.report import build_report, evaluate_folder, format_table
        from siammask.evaluation.runner import run_dataset

        subset = Dataset(dataset.root, dataset.name, [dataset[n] for n in names])
        for name, path in models.items():
            run_dataset(subset, EngineSpec(checkpoint=str(path), threads=threads), results, name)
        report = build_report(subset, evaluate_folder(subset, results, list(models), eao_interval))
        return report, format_table(report)
