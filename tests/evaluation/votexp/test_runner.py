"""`siammask eval/report --experiment multistart|realtime|unsupervised` end to end on the seeded
export: vot-toolkit's result layout, resume, --force, two workers, plots, one-line refusals; and a
pass in backward order given to the tracker frame by frame as vot-toolkit's FrameMapSequence does."""

from __future__ import annotations

import json
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from siammask.cli import main
from siammask.datasets.synth import make_dataset
from siammask.evaluation.votexp.protocol import anchor_order, run_pass
from tests.constants import AUTO_FP32

NAME = f"SiamMask_{AUTO_FP32}"
FRAMES = 14
ANCHORS = (0, 10)  # synth's: every 10 frames, forward in the first half, backward after


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("data") / "vot", sequences=2, frames=FRAMES, size=(96, 96), seed=2)


def _eval(dataset, results, model, *extra):
    return main(["eval", "--dataset", str(dataset), "--model", str(model), "--results", str(results),
                 "--json", str(results.parent / "report.json"), *extra])


def test_multistart_layout_resume_force_and_workers(dataset, tmp_path, exported_model, capsys):
    results = tmp_path / "res"
    assert _eval(dataset, results, exported_model, "--experiment", "multistart", "--eao-interval", "3,10",
                 "--plots", str(tmp_path / "plots")) == 0
    folder = results / NAME / "baseline" / "synth01"
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(f"synth01_{a:08d}{end}" for a in ANCHORS for end in (".txt", "_time.value"))
    assert len((folder / "synth01_00000000.txt").read_text().splitlines()) == FRAMES
    assert len((folder / "synth01_00000010.txt").read_text().splitlines()) == 11  # frames 10 .. 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["experiment"] == "multistart" and report["analysis"]["eao_interval"] == [3, 10]
    figures = report["trackers"][NAME]
    assert 0 <= figures["accuracy"] <= 1 and 0 <= figures["robustness"] <= 1 and 0 <= figures["eao"] <= 1
    assert figures["sequences"]["synth00"]["runs"] == 2
    assert (tmp_path / "plots" / "eao_curves.png").stat().st_size > 0
    before = (folder / "synth01_00000010.txt").stat().st_mtime_ns
    capsys.readouterr()
    assert _eval(dataset, results, exported_model, "--experiment", "multistart") == 0
    assert "kept 2 of 2 sequences" in capsys.readouterr().out
    assert (folder / "synth01_00000010.txt").stat().st_mtime_ns == before
    first = {p.name: p.read_text() for p in folder.glob("*.txt")}
    assert _eval(dataset, results, exported_model, "--experiment", "multistart", "--force", "--workers", "2") == 0
    assert {p.name: p.read_text() for p in folder.glob("*.txt")} == first  # deterministic, in any process
    # a tracker with supervised results only (baseline/SEQ/SEQ_001.txt) is not a multistart tracker
    supervised = results / "Supervised" / "baseline" / "synth00"
    supervised.mkdir(parents=True)
    (supervised / "synth00_001.txt").write_text("1\n")
    capsys.readouterr()
    assert main(["report", "--dataset", str(dataset), "--results", str(results), "--experiment", "multistart",
                 "--json", str(tmp_path / "all.json")]) == 0
    assert list(json.loads((tmp_path / "all.json").read_text())["trackers"]) == [NAME]


def test_unsupervised_and_realtime(dataset, tmp_path, exported_model, capsys):
    results = tmp_path / "res"
    assert _eval(dataset, results, exported_model, "--experiment", "unsupervised", "--plots", str(tmp_path)) == 0
    lines = (results / NAME / "unsupervised" / "synth00" / "synth00_001.txt").read_text().splitlines()
    assert len(lines) == FRAMES and lines[0] == "1" and all(len(x.split(",")) == 8 for x in lines[1:])
    assert 0 <= json.loads((tmp_path / "report.json").read_text())["trackers"][NAME]["average_overlap"] <= 1
    assert (tmp_path / "average_overlap.png").stat().st_size > 0
    assert _eval(dataset, results, exported_model, "--experiment", "realtime") == 0
    assert "EAO realtime" in capsys.readouterr().out
    times = (results / NAME / "realtime" / "synth00" / "synth00_00000000_time.value").read_text().split()
    assert len(times) == FRAMES and all(float(t) >= 0 for t in times)


def test_refusals(dataset, tmp_path, exported_model, capsys):
    from siammask.datasets.synth_lt import make_lt_dataset

    bare = make_dataset(tmp_path / "bare", sequences=1, frames=4, size=(96, 96))
    (bare / "synth00" / "anchor.value").unlink()
    results = tmp_path / "r"
    assert _eval(bare, results, exported_model, "--experiment", "multistart") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "anchor.value: no anchor file" in err
    assert not results.exists()  # refused before the results folder was claimed
    assert _eval(dataset, results, exported_model, "--experiment", "unsupervised", "--eao-interval", "2,9") == 1
    assert "the unsupervised one reports the average overlap" in capsys.readouterr().err
    lt = make_lt_dataset(tmp_path / "lt", sequences=1, frames=47, size=(96, 96))
    assert _eval(lt, results, exported_model, "--experiment", "realtime") == 1
    assert "--experiment realtime needs the target in every frame" in capsys.readouterr().err
    assert main(["report", "--dataset", str(dataset), "--results", str(tmp_path), "--experiment", "multistart"]) == 1
    assert "no multistart results in" in capsys.readouterr().err
    (tmp_path / "x" / "baseline" / "synth00").mkdir(parents=True)
    assert main(["report", "--dataset", str(dataset), "--results", str(tmp_path), "--experiment", "multistart",
                 "--tracker", "x"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing result file" in err and "synth00_00000000.txt" in err


def test_synth_writes_anchors(dataset):
    from siammask.evaluation.votexp.anchors import read_anchors

    anchors = read_anchors(dataset / "synth00", FRAMES)
    assert anchors.forward == (0,) and anchors.backward == (10,)


def test_a_backward_pass_gives_the_tracker_frames_in_reverse(tmp_path):
    """Each frame's pixel value is its index; the fake tracker answers that frame's ground truth, so
    the result lines follow the run's order exactly (line k: frame order[k])."""
    paths = []
    for i in range(8):
        paths.append(str(tmp_path / f"{i:08d}.png"))
        cv2.imwrite(paths[-1], np.full((16, 16, 3), i * 10, np.uint8))
    groundtruth = np.array([[i, 1, i + 2, 1, i + 2, 5, i, 5] for i in range(8)], dtype=float)

    class Oracle:
        def init(self, frame, region):  # noqa: ANN001
            self.first = int(frame[0, 0, 0]) // 10

        def track(self, frame):  # noqa: ANN001, ANN201
            return SimpleNamespace(polygon=groundtruth[int(frame[0, 0, 0]) // 10].reshape(4, 2))

    order = anchor_order(8, 5, backward=True)
    assert order == [5, 4, 3, 2, 1, 0]
    tracker = Oracle()
    run = run_pass(tracker, paths, groundtruth, order)
    assert tracker.first == 5 and run.regions[0] == 1
    assert run.regions[1:] == [groundtruth[f].tolist() for f in order[1:]]
    assert len(run.times) == len(order) and run.skipped == 0
