"""Our one-pass figures equal pysot's OPEBenchmark run on the same result files (1e-6).

pysot's own code is loaded from a copy of STVIR/pysot (never committed here): SIAMMASK_PYSOT names
a checkout or a bare git directory; otherwise the fetched mirror /work/.mirror/STVIR+pysot/repo or
../shared/pysot beside the project. Without one the test skips and says so. Its modules run as
they are: toolkit/datasets/{dataset,video,otb,uav,lasot}.py (their Video classes read our result
files with load_tracker: OTB's lower-case names too), toolkit/utils/{__init__,statistics}.py and
toolkit/evaluation/ope_benchmark.py. Not pysot's: the package __init__ files of datasets/ and
evaluation/ (empty: pysot's import every dataset and benchmark) and `region`, its Cython module,
which the one-pass arithmetic never calls (an empty stand-in). The dataset figures are
show_result's and draw_success_precision's arithmetic applied to eval_*'s per-video curves: the
success AUC the mean of every curve, precision and normalised precision index 20 of the mean curve,
an attribute's the same over its videos.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from siammask.evaluation.ope.report import evaluate_tracker
from tests.evaluation.ope.synthetic import dataset, truth, write_results
from tests.evaluation.pysot_toolkit import pysot_modules

FILES = ("toolkit/__init__.py", "toolkit/datasets/dataset.py", "toolkit/datasets/video.py",
         "toolkit/datasets/otb.py", "toolkit/datasets/uav.py", "toolkit/datasets/lasot.py",
         "toolkit/utils/__init__.py", "toolkit/utils/statistics.py", "toolkit/evaluation/ope_benchmark.py")
TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def pysot(tmp_path_factory):
    # the one-pass arithmetic never calls region: an empty stand-in
    yield from pysot_modules(tmp_path_factory.mktemp("pysot"), FILES, "", (
        "datasets.dataset", "datasets.otb", "datasets.uav", "datasets.lasot", "evaluation.ope_benchmark"))


def _pysot_eval(pysot, ds, results: Path, name: str) -> tuple[dict, dict, dict, dict]:
    """pysot's per-video success, precision and normalised precision curves, and its attr table."""
    videos = {}
    for seq in ds:
        gt = [[float(v) for v in row] for row in seq.groundtruth]
        frames = [str(p.resolve()) for p in seq.frames]
        attr = [a for a, has in seq.attributes.items() if has]
        args = (seq.name, str(ds.root), seq.name, gt[0], frames, gt, attr)
        if ds.benchmark == "LaSOT":  # pysot's `absent`: 1 where the target is visible
            videos[seq.name] = pysot["datasets.lasot"].LaSOTVideo(*args, (~seq.absent).astype(int).tolist())
        elif ds.benchmark == "OTB":
            videos[seq.name] = pysot["datasets.otb"].OTBVideo(*args)
        else:
            videos[seq.name] = pysot["datasets.uav"].UAVVideo(*args)
    pds = pysot["datasets.dataset"].Dataset(ds.name, str(ds.root))
    pds.videos = videos
    pds.attr = {a: [v for v in videos if a in videos[v].attr] for a in {a for v in videos.values() for a in v.attr}}
    pds.set_tracker(str(results), [name])
    bench = pysot["evaluation.ope_benchmark"].OPEBenchmark(pds)
    return (bench.eval_success(name)[name], bench.eval_precision(name)[name], bench.eval_norm_precision(name)[name],
            pds.attr)


def _check(ours, success, precision, norm, attrs) -> None:
    for seq, curve in success.items():  # every curve, sequence by sequence
        np.testing.assert_allclose(ours.sequences[seq].success, curve, rtol=0, atol=TOLERANCE)
        np.testing.assert_allclose(ours.sequences[seq].precision, precision[seq], rtol=0, atol=TOLERANCE)
        np.testing.assert_allclose(ours.sequences[seq].norm_precision, norm[seq], rtol=0, atol=TOLERANCE)
    # show_result: the mean of every success value; index 20 of the mean precision curves
    assert abs(ours.curves.auc - np.mean(list(success.values()))) <= TOLERANCE
    assert abs(ours.curves.precision_20 - np.mean(list(precision.values()), axis=0)[20]) <= TOLERANCE
    assert abs(ours.curves.norm_precision_20 - np.mean(list(norm.values()), axis=0)[20]) <= TOLERANCE
    assert set(ours.attributes) == set(attrs)
    for attr, videos in attrs.items():  # draw_success_precision's arithmetic over the attribute's videos
        count, curves = ours.attributes[attr]
        assert count == len(videos)
        assert abs(curves.auc - np.mean([success[v] for v in videos])) <= TOLERANCE
        assert abs(curves.precision_20 - np.mean([precision[v] for v in videos], axis=0)[20]) <= TOLERANCE
        assert abs(curves.norm_precision_20 - np.mean([norm[v] for v in videos], axis=0)[20]) <= TOLERANCE


@pytest.mark.parametrize("seed", [0, 1])
def test_otb_figures_equal_pysots(pysot, tmp_path, seed):
    names = ["Basketball", "Jogging-1", "Jogging-2", "Human4-2"]
    ds = dataset(tmp_path / "otb", "OTB", seed, names=names)
    # published OTB results use the toolkit's names; pysot's OTBVideo (and we) find them
    renamed = {"Jogging-1": "jogging_1.txt", "Human4-2": "human4_2.txt"}
    write_results(ds, tmp_path / "res", "T", seed, file_names=renamed)
    assert (tmp_path / "res" / "T" / "jogging_1.txt").exists()
    ours = evaluate_tracker(ds, tmp_path / "res", "T")
    _check(ours, *_pysot_eval(pysot, ds, tmp_path / "res", "T"))
    assert 0.2 < ours.curves.auc < 0.9  # a case where the thresholds matter, not a degenerate one


@pytest.mark.parametrize("seed", [0, 1])
def test_nan_rows_take_pysots_path(pysot, tmp_path, seed):
    """UAV123's NaN rows (no `absent` in pysot): never a success, within every distance."""
    ds = dataset(tmp_path / "uav", "UAV123", seed, absent_rate=0.15)
    write_results(ds, tmp_path / "res", "T", seed)
    ours = evaluate_tracker(ds, tmp_path / "res", "T")
    _check(ours, *_pysot_eval(pysot, ds, tmp_path / "res", "T"))
    absent = sum(int(s.absent.sum()) for s in ds)
    assert absent > 10


@pytest.mark.parametrize("seed", [0, 1])
def test_lasot_absent_frames_equal_pysots(pysot, tmp_path, seed):
    """LaSOT: absent frames left out, the divisor the sequence's length (LaSOTVideo.absent)."""
    ds = dataset(tmp_path / "lasot", "LaSOT", seed, absent_rate=0.2)
    write_results(ds, tmp_path / "res", "T", seed)
    ours = evaluate_tracker(ds, tmp_path / "res", "T")
    _check(ours, *_pysot_eval(pysot, ds, tmp_path / "res", "T"))
    # the divisor: a perfect tracker scores the visible fraction, not 1
    seq = ds.sequences[0]
    visible = 1 - seq.absent.mean()
    assert ours.sequences[seq.name].precision[0] <= visible + TOLERANCE
    assert visible < 0.95


def test_a_lasot_folder_read_by_our_reader_equals_pysot(pysot, tmp_path):
    """The same check from a LaSOT folder on disk (datasets/lasot.py): absent frames from
    full_occlusion.txt | out_of_view.txt with LaSOT's own 0,0,0,0 boxes there, attributes from
    pysot's LaSOT.json beside it; pysot is given the file's boxes and its 1-is-visible `absent`."""
    import json

    import cv2

    from siammask.datasets.formats import detect_format

    rng = np.random.default_rng(7)
    root = tmp_path / "LaSOT"
    meta, shipped, visible = {}, {}, {}
    for i, name in enumerate(["cat-1", "cat-2", "dog-1"]):
        gt, absent = truth(rng, 50 + 5 * i, absent_rate=0.2)
        gt[absent] = 0  # what LaSOT ships on absent frames
        folder = root / name.split("-")[0] / name
        (folder / "img").mkdir(parents=True)
        for f in range(len(gt)):
            cv2.imwrite(str(folder / "img" / f"{f + 1:08d}.jpg"), np.zeros((8, 8, 3), np.uint8))
        (folder / "groundtruth.txt").write_text("".join(",".join(f"{v:g}" for v in row) + "\n" for row in gt))
        occluded = absent & (rng.uniform(size=len(gt)) < 0.5)
        (folder / "full_occlusion.txt").write_text(",".join(str(int(v)) for v in occluded))
        (folder / "out_of_view.txt").write_text(",".join(str(int(v)) for v in absent & ~occluded))
        meta[name] = {"attr": ["FOC", "ROT"][: i + 1 if i < 2 else 1]}
        shipped[name], visible[name] = gt, (~absent).astype(int)
    (root / "LaSOT.json").write_text(json.dumps(meta))
    fmt = detect_format(root)
    assert fmt.name == "LaSOT"
    ds = fmt.load(root)
    write_results(ds, tmp_path / "res", "T", 7)
    ours = evaluate_tracker(ds, tmp_path / "res", "T")
    videos = {}
    for seq in ds:
        gt = shipped[seq.name].tolist()
        frames = [str(p.resolve()) for p in seq.frames]
        videos[seq.name] = pysot["datasets.lasot"].LaSOTVideo(seq.name, str(root), seq.name, gt[0], frames, gt,
                                                              meta[seq.name]["attr"], visible[seq.name].tolist())
    pds = pysot["datasets.dataset"].Dataset("LaSOT", str(root))
    pds.videos = videos
    pds.set_tracker(str(tmp_path / "res"), ["T"])
    bench = pysot["evaluation.ope_benchmark"].OPEBenchmark(pds)
    attrs = {"FOC": ["cat-1", "cat-2", "dog-1"], "ROT": ["cat-2"]}
    _check(ours, bench.eval_success("T")["T"], bench.eval_precision("T")["T"], bench.eval_norm_precision("T")["T"],
           attrs)
