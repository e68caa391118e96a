"""Held-out evaluation on a one-pass dataset: the sequences tracked once (evaluation/ope) and the
models ranked by pysot's success AUC; a test split without boxes is refused before any tracking."""

from __future__ import annotations

import numpy as np
import pytest

from siammask.datasets.onepass import OnePassSequence
from siammask.datasets.otb import OTBDataset
from siammask.datasets.synth import make_dataset
from siammask.errors import SiamMaskError
from siammask.training import holdout


def _otb(tmp_path, annotated: bool = True) -> OTBDataset:
    root = make_dataset(tmp_path / "vot", sequences=2, frames=12, size=(96, 96), seed=4)
    sequences = []
    for name in ("synth00", "synth01"):
        corners = np.loadtxt(root / name / "groundtruth.txt", delimiter=",").reshape(-1, 4, 2)
        boxes = np.column_stack([corners.min(axis=1), np.ptp(corners, axis=1)])
        if not annotated:
            boxes[1:] = np.nan
        sequences.append(OnePassSequence(name=name, frames=sorted((root / name).glob("*.jpg")), groundtruth=boxes,
                                         tags={}, annotated=annotated))
    return OTBDataset(root=root, name="OTB-synthetic", benchmark="OTB", split=None, sequences=sequences)


def test_one_pass_held_out_sequences_are_scored_by_success(tmp_path, seeded_checkpoint):
    lines = []
    report, table = holdout.evaluate(_otb(tmp_path), ["synth01"], {"before": seeded_checkpoint}, threads=1,
                                     work=tmp_path / "work", engine="torch", say=lines.append)
    assert report["protocol"] == "ope" and list(report["trackers"]["before"]["sequences"]) == ["synth01"]
    assert 0 < holdout.score(report, "before")[0] <= 1
    assert holdout.describe(report, "before").startswith("success AUC ")
    assert "Success" in table and any("synth01 done" in line for line in lines)


def test_a_test_split_is_refused(tmp_path, seeded_checkpoint):
    with pytest.raises(SiamMaskError, match="scored by its server"):
        holdout.evaluate(_otb(tmp_path, annotated=False), ["synth01"], {"before": seeded_checkpoint}, threads=1,
                         work=tmp_path / "work", engine="torch", say=lambda line: None)
    assert not (tmp_path / "work" / "results").exists()
