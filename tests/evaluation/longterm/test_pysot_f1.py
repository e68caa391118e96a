"""Our long-term figures equal pysot's F1Benchmark run on the same files (1e-6).

pysot's own code is loaded from a copy of STVIR/pysot (never committed here): SIAMMASK_PYSOT names
a checkout or a bare git directory; otherwise the fetched mirror /work/.mirror/STVIR+pysot/repo or
../shared/pysot beside the project. Without one the test skips and says so. Its modules run as
they are: toolkit/datasets/{dataset,video,vot}.py (VOTLTVideo reads our result files with
load_tracker), toolkit/utils/{__init__,statistics}.py and toolkit/evaluation/f1_benchmark.py.
Only two things are not pysot's: the package __init__ files of datasets/ and evaluation/ (empty:
pysot's import every dataset and benchmark), and `region`, its Cython overlap, which is not built
here (its setup fails under Cython 3): its vot_overlap_traj is stood in by our region.c
reproduction, itself checked against region.c's own overlaps in tests/evaluation/vot/test_region.py.
The final figures are show_result's three lines (mean curves, F, argmax) applied to eval()'s output.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from siammask.datasets.votlt import load_votlt
from siammask.evaluation.longterm.report import evaluate_tracker
from siammask.evaluation.longterm.results import write_result
from tests.evaluation.pysot_toolkit import pysot_modules

FILES = ("toolkit/__init__.py", "toolkit/datasets/dataset.py", "toolkit/datasets/video.py",
         "toolkit/datasets/vot.py", "toolkit/utils/__init__.py", "toolkit/utils/statistics.py",
         "toolkit/evaluation/f1_benchmark.py")
REGION = '''
import numpy as np
from siammask.evaluation.vot.region import region_overlap

def vot_overlap(polygon1, polygon2, bounds=None):
    if len(polygon1) == 1 or len(polygon2) == 1:
        return float("nan")
    return region_overlap(polygon1, polygon2, bounds)

def vot_overlap_traj(polygons1, polygons2, bounds=None):
    assert len(polygons1) == len(polygons2)
    return [vot_overlap(a, b, bounds) for a, b in zip(polygons1, polygons2)]
'''


@pytest.fixture(scope="module")
def pysot(tmp_path_factory):
    modules = ("datasets.dataset", "datasets.vot", "evaluation.f1_benchmark")
    for loaded in pysot_modules(tmp_path_factory.mktemp("pysot"), FILES, REGION, modules):
        yield tuple(loaded[name] for name in modules)


def _fake_results(dataset, results: Path, name: str, seed: int) -> None:
    """Boxes near the truth (and wrong ones), scores that mostly follow presence, as a tracker's."""
    rng = np.random.default_rng(seed)
    for seq in dataset:
        gt = seq.groundtruth
        present = ~np.isnan(gt).any(axis=1)
        held = np.where(present[:, None], gt, np.nan)
        for t in range(1, len(gt)):  # absent frames keep the last box seen, as a tracker would
            if not present[t]:
                held[t] = held[t - 1]
        boxes = held + rng.normal(0, 3, gt.shape) * np.array([1, 1, 0.5, 0.5])
        wrong = rng.uniform(size=len(gt)) < 0.15
        boxes[wrong, :2] += rng.uniform(20, 60, (wrong.sum(), 2))
        boxes[:, 2:] = np.maximum(boxes[:, 2:], 2)
        scores = np.clip(np.where(present, 0.8, 0.3) + rng.normal(0, 0.2, len(gt)), 0, 1)
        scores[rng.uniform(size=len(gt)) < 0.05] = 0.0  # never reported at -inf (score > 0)
        scores[0] = np.nan
        box_path = results / name / "longterm" / seq.name / f"{seq.name}_001.txt"
        write_result(box_path, boxes, scores)


def _pysot_figures(pysot, dataset, results: Path, name: str) -> tuple[float, float, float, dict]:
    dataset_module, vot_module, f1_module = pysot
    videos = {}
    for seq in dataset:
        gt = [[float(v) for v in row] for row in seq.groundtruth]  # NaN rows, as VOTLTDataset's JSON gives
        frames = [str(p.resolve()) for p in seq.frames]
        videos[seq.name] = vot_module.VOTLTVideo(seq.name, str(dataset.root), seq.name, gt[0], frames, gt)
    ds = dataset_module.Dataset("lt", str(dataset.root))
    ds.videos = videos
    ds.set_tracker(str(results), [name])
    result = f1_module.F1Benchmark(ds).eval([name])[name]
    precision = np.mean(list(result["precision"].values()), axis=0)  # show_result's arithmetic
    recall = np.mean(list(result["recall"].values()), axis=0)
    f1 = 2 * precision * recall / (precision + recall)
    best = np.argmax(f1)
    return precision[best], recall[best], f1[best], result


@pytest.mark.parametrize("seed", [0, 1])
def test_precision_recall_f_equal_pysots(pysot, tmp_path, seed):
    from siammask.datasets.synth_lt import make_lt_dataset

    root = make_lt_dataset(tmp_path / "lt", sequences=3, frames=70, size=(96, 96), seed=seed)
    dataset = load_votlt(root)
    _fake_results(dataset, tmp_path / "res", "T", seed)
    precision, recall, f1, per_video = _pysot_figures(pysot, dataset, tmp_path / "res", "T")
    ours = evaluate_tracker(dataset, tmp_path / "res", "T")
    best = ours.curves.best
    assert abs(ours.curves.precision[best] - precision) <= 1e-6
    assert abs(ours.curves.recall[best] - recall) <= 1e-6
    assert abs(ours.curves.f_score[best] - f1) <= 1e-6
    for seq in dataset.names:  # the whole curves, sequence by sequence
        np.testing.assert_allclose(ours.sequences[seq].precision, per_video["precision"][seq], rtol=0, atol=1e-6)
        np.testing.assert_allclose(ours.sequences[seq].recall, per_video["recall"][seq], rtol=0, atol=1e-6)
    assert 0.2 < f1 < 0.95  # a case where thresholds matter, not a degenerate one
