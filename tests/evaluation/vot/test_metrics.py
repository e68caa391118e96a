"""Accuracy, robustness and EAO against pysot's figures and vot-toolkit's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from siammask.datasets.vot import Dataset, Sequence, load_dataset
from siammask.errors import SiamMaskError
from siammask.evaluation.vot import eao
from siammask.evaluation.vot.metrics import evaluate
from siammask.evaluation.vot.results import read_tracker
from tests.evaluation.helpers import DATASET, GOLDEN, RESULTS, SEQUENCES


@pytest.fixture(scope="module")
def golden_metrics():
    ds = load_dataset(DATASET)
    return evaluate(ds, read_tracker(RESULTS, "Reference", ds.names))


def test_pysot_golden(golden_metrics):
    """pysot_metrics.json (the reference's toolkit on its own results): every figure within 1e-6."""
    expected = json.loads((GOLDEN / "pysot_metrics.json").read_text())
    m = golden_metrics
    assert m.accuracy == pytest.approx(expected["accuracy"], abs=1e-6)
    assert m.lost_number == pytest.approx(expected["lost_number"], abs=1e-6)
    assert m.robustness == pytest.approx(expected["robustness"], abs=1e-6)
    assert m.eao_pysot == pytest.approx(expected["eao"], abs=1e-6)
    assert list(m.interval_pysot) == expected["eao_interval"]
    for seq, values in expected["per_sequence"].items():
        assert m.sequences[seq].accuracy == pytest.approx(values["accuracy"], abs=1e-6)
        assert m.sequences[seq].lost == values["lost"]
    assert m.eao_per_tag["all"] == m.eao_pysot
    assert np.isnan(m.eao_per_tag["occlusion"])  # no frame has the tag
    assert np.isnan(m.eao_vot) and m.interval_vot == (108, 371)  # runs shorter than 108 frames


def _deterministic_dataset():
    """Four sequences (no RNG): rotated boxes crossing the border, jittered predictions, fixed failures."""
    specs = [("a", (320, 240), 420, [57, 203]), ("b", (640, 360), 380, []), ("c", (480, 270), 300, [12, 150, 191])]
    specs.append(("d", (320, 240), 250, [240]))
    seqs, results = [], {}
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) / 2
    for k, (name, (w, h), n, fails) in enumerate(specs):
        t = np.arange(n)
        cx = w / 2 + 0.45 * w * np.sin(t / (40.0 + 7 * k))
        cy = h / 2 + 0.35 * h * np.cos(t / (55.0 + 5 * k))
        sx, sy, ang = 30 + 12 * np.sin(t / 23.0), 22 + 9 * np.cos(t / 31.0), 0.4 * np.sin(t / 47.0 + k)
        c, s = np.cos(ang)[:, None], np.sin(ang)[:, None]
        px, py = corners[None, :, 0] * sx[:, None], corners[None, :, 1] * sy[:, None]
        gt = np.round(np.stack([cx[:, None] + c * px - s * py, cy[:, None] + s * px + c * py], 2).reshape(n, 8), 4)
        traj, restart = [], 0
        for f in range(n):
            if f < restart:
                traj.append(0)
            elif f == restart:
                traj.append(1)
            elif f in fails:
                traj.append(2)
                restart = f + 5
            else:
                d = np.array([3 * np.sin(0.7 * f + i) + 2 * np.cos(0.13 * f) for i in range(8)])
                traj.append(tuple(np.round(gt[f] + d, 4).tolist()))
        tags = {name: np.zeros(n, bool) for name in ("camera_motion", "illum_change", "motion_change")}
        tags |= {"occlusion": (t // 17) % 3 == 0, "size_change": (t // 29) % 2 == 1}
        seqs.append(Sequence(name, [Path(f"{i}.jpg") for i in range(n)], gt, tags, size_hint=(w, h)))
        results[name] = [traj]
    return Dataset(Path("synthetic"), "VOT2016", seqs), results


def test_vot_toolkit_eao():
    """EAO as vot-toolkit 0.9 computes it (its own rasteriser and curve), values it gave: within 1e-9.

    The pysot figures are those of a transcription of pysot's benchmark code run on the same data.
    """
    ds, results = _deterministic_dataset()
    m = evaluate(ds, results)
    assert m.eao_vot == pytest.approx(0.4043123865927453, abs=1e-9)
    assert m.curve_vot[50] == pytest.approx(0.6869620217217339, abs=1e-9)
    assert len(m.curve_vot) == 380  # the longest run
    assert evaluate(ds, results, interval_vot=(20, 100)).eao_vot == pytest.approx(0.6640388609123493, abs=1e-9)
    assert m.eao_pysot == pytest.approx(0.4182652136463136, abs=1e-9)
    assert m.eao_per_tag["occlusion"] == pytest.approx(0.3405197801988876, abs=1e-9)
    assert m.eao_per_tag["size_change"] == pytest.approx(0.47909197686711175, abs=1e-9)
    assert m.lost_number == 6 and m.robustness == pytest.approx(100 * 6 / 1350)


def test_curves_by_hand():
    """Tiny curves worked out by hand (exact to float32)."""
    runs = [(np.array([0, 0.5, 0.5]), False), (np.array([0, 1.0]), True)]
    np.testing.assert_allclose(eao.vot_curve(runs), [0.0, 0.75, 0.5], atol=1e-7)
    assert eao.vot_score(np.array([0.0, 0.75, 0.5]), (1, 2)) == pytest.approx(0.625)
    # pysot: one failed fragment (padded with 0) and one that ends; the curve starts at 1
    frags = [eao.Fragment(np.array([0, 0.5, 0.5]), True, 0, 3, 3), eao.Fragment(np.array([0, 1.0]), False, 3, 5, 2)]
    curve = eao.pysot_curve(frags, [1.0, 1.0], 4)
    np.testing.assert_allclose(curve, [1.0, 0.75, 0.5, 1 / 3], atol=1e-7)
    assert eao.pysot_score(curve, (2, 3)) == pytest.approx(0.625, abs=1e-7)  # lengths 2, 3: indices 1, 2


def test_results_of_another_dataset():
    """Fewer lines than frames, a missing sequence, or no init first: SiamMaskError."""
    ds = load_dataset(DATASET)
    results = read_tracker(RESULTS, "Reference", ds.names)
    short = {**results, "synth01": [results["synth01"][0][:-1]]}
    with pytest.raises(SiamMaskError, match="119 result lines for 120 frames"):
        evaluate(ds, short)
    with pytest.raises(SiamMaskError, match="synth02"):
        evaluate(ds, {k: v for k, v in results.items() if k != "synth02"})
    with pytest.raises(SiamMaskError, match="init"):
        evaluate(ds, {**results, "synth00": [[0] + results["synth00"][0][1:]]})


def test_repetitions_average():
    """Two identical repetitions give the figures of one (exact)."""
    ds = load_dataset(DATASET)
    one = read_tracker(RESULTS, "Reference", SEQUENCES)
    two = {k: v * 2 for k, v in one.items()}
    a, b = evaluate(ds, one), evaluate(ds, two)
    assert (a.accuracy, a.lost_number, a.eao_pysot) == (b.accuracy, b.lost_number, b.eao_pysot)
