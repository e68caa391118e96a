"""Our GOT-10k figures equal the GOT-10k toolkit's (pip got10k 0.1.3, ExperimentGOT10k.report) on
the same files (1e-6): AO, SR0.5 and speed overall and per sequence, SR0.75 against the toolkit's
success curve at 0.75 (it reports SR at 0.5 only), and the 101-point curve itself.

The toolkit reads a GOT-10k layout from disk (val/list.txt, SEQ/*.jpg, groundtruth.txt,
meta_info.ini with its resolution line, cover/absence/cut_by_image labels) and results from
RESULT_DIR/GOT-10k/NAME/SEQ/SEQ_[0-9]*.txt with SEQ_time.txt; both are made here from the same
arrays as our dataset. Covers 0 are left out by both (absent frames: NaN rows in our ground truth,
the file's box in `shipped`, which one absent frame with cover 1 is scored with); one
sequence has two repetitions (pooled), a time file holds zero and nan entries (left out of speed),
and the meta resolution is smaller than some boxes reach (clipping).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from siammask.datasets.onepass import OnePassDataset, OnePassSequence
from siammask.evaluation.ope.report import evaluate_tracker
from siammask.evaluation.ope.results import result_paths, write_result
from tests.evaluation.ope.synthetic import results_for, truth

got10k_experiment = pytest.importorskip("got10k.experiments", reason="pip install got10k==0.1.3")
TOLERANCE = 1e-6
RESOLUTION = (150, 110)  # the meta line; boxes reach beyond it and are clipped


def _layout(root: Path, seed: int, count: int = 3) -> OnePassDataset:
    """A GOT-10k val folder on disk, and the same sequences as our dataset type."""
    rng = np.random.default_rng(seed)
    val = root / "val"
    names = [f"GOT-10k_Val_{i + 1:06d}" for i in range(count)]
    val.mkdir(parents=True)
    (val / "list.txt").write_text("\n".join(names) + "\n")
    sequences = []
    for i, name in enumerate(names):
        frames = 40 + 9 * i
        gt, absent = truth(rng, frames, absent_rate=0.15)
        gt[:, 2:] = np.maximum(gt[:, 2:], 1)  # GOT-10k boxes are never empty
        on_disk = np.where(np.isnan(gt), 5.0, gt)  # absent frames still carry a box in the files
        cover = np.where(absent, 0, rng.integers(1, 9, frames))
        cover[np.flatnonzero(absent)[:1]] = 1  # absent, yet cover 1: the toolkit scores it with the file's box
        folder = val / name
        folder.mkdir()
        for f in range(frames):
            cv2.imwrite(str(folder / f"{f + 1:08d}.jpg"), np.zeros((8, 8, 3), np.uint8))
        np.savetxt(folder / "groundtruth.txt", on_disk, fmt="%.4f", delimiter=",")
        (folder / "meta_info.ini").write_text(
            f"[METAINFO]\nobject_class: thing\nresolution: ({RESOLUTION[0]}, {RESOLUTION[1]})\n")
        for label, values in (("cover", cover), ("absence", absent.astype(int)), ("cut_by_image", np.zeros(frames))):
            np.savetxt(folder / f"{label}.label", values, fmt="%d")
        frames_list = sorted(folder.glob("*.jpg"))
        sequences.append(OnePassSequence(
            name=name, frames=frames_list, groundtruth=gt, tags={}, size_hint=(8, 8), absent=absent,
            labels={"cover": cover}, shipped=on_disk, meta={"resolution": f"({RESOLUTION[0]}, {RESOLUTION[1]})"}))
    return OnePassDataset(root=root, name="GOT-10k_val", benchmark="GOT-10k", split="val", sequences=sequences)


def _results(ds: OnePassDataset, results: Path, tracker: str, seed: int) -> None:
    rng = np.random.default_rng(seed + 7)
    for k, seq in enumerate(ds):
        boxes = results_for(rng, np.where(np.isnan(seq.groundtruth), 5.0, seq.groundtruth))
        boxes[np.isnan(boxes)] = 3.0  # the toolkit's loadtxt would carry nan into AO
        times = rng.uniform(0.005, 0.05, len(boxes))
        if k == 0:
            times[[3, 8]] = [0.0, np.nan]  # left out of the speed
        box, time_file = result_paths(results, tracker, seq.name, "GOT-10k")
        write_result(box, time_file, boxes, times)
        if k == 1:  # a second repetition: both toolkits pool its IoUs
            again = np.round(boxes + rng.normal(0, 2, boxes.shape), 4)
            np.savetxt(box.with_name(f"{seq.name}_002.txt"), again, fmt="%.4f", delimiter=",")


@pytest.mark.parametrize("seed", [0, 1])
def test_ao_sr_fps_equal_the_got10k_toolkit(tmp_path, seed):
    ds = _layout(tmp_path / "GOT10k", seed)
    results = tmp_path / "res" / "GOT-10k"  # the toolkit adds the GOT-10k level itself
    _results(ds, results, "T", seed)
    experiment = got10k_experiment.ExperimentGOT10k(str(tmp_path / "GOT10k"), subset="val",
                                                    result_dir=str(tmp_path / "res"), report_dir=str(tmp_path / "rep"))
    theirs = experiment.report(["T"])["T"]
    ours = evaluate_tracker(ds, results, "T")
    _same_as_toolkit(ours, theirs)
    # the same folder read by datasets/got10k.py: cover labels, meta resolution, the file's boxes
    from siammask.datasets.formats import detect_format

    read = detect_format(tmp_path / "GOT10k").load(tmp_path / "GOT10k")
    assert read.benchmark == "GOT-10k" and read.names == ds.names
    _same_as_toolkit(evaluate_tracker(read, results, "T"), theirs)
    assert 0.2 < ours.got10k.ao < 0.9


def _same_as_toolkit(ours, theirs) -> None:
    overall = theirs["overall"]
    assert abs(ours.got10k.ao - overall["ao"]) <= TOLERANCE
    assert abs(ours.got10k.sr50 - overall["sr"]) <= TOLERANCE
    assert abs(ours.got10k.sr75 - overall["succ_curve"][75]) <= TOLERANCE  # threshold 0.75 exactly
    assert abs(ours.got10k.fps - overall["speed_fps"]) <= TOLERANCE * overall["speed_fps"]  # relative: fps ~ 50
    np.testing.assert_allclose(ours.got10k.success, overall["succ_curve"], rtol=0, atol=TOLERANCE)
    for name, figures in theirs["seq_wise"].items():
        mine = ours.got10k_sequences[name]
        assert abs(mine.ao - figures["ao"]) <= TOLERANCE
        assert abs(mine.sr50 - figures["sr"]) <= TOLERANCE
        assert abs(mine.fps - figures["speed_fps"]) <= TOLERANCE * figures["speed_fps"]
