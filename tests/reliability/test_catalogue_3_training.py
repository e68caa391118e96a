"""Issue 26, `siammask train`: a fine-tuning that makes the model worse is not called done (new
user 1); resume states, boxes, batch sizes and frames are checked at the boundary (C, D, K, O);
killed runs' temporaries are swept (L); outputs never replace what siammask did not write (G, O)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from tests.reliability.helpers import assert_one_line_error, cli, snapshot, write_dataset

torch = pytest.importorskip("torch")

FAST = ["--batch", "1", "--threads", "1", "--holdout", "0", "--steps", "1"]


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def ds(tmp_path_factory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("train") / "ds", ["a", "b", "c"], frames=4)


def train(capsys, *args: object) -> tuple[int, str, str]:
    return cli(capsys, "train", *args)


def moved(path: Path, reference: dict) -> set[str]:
    from siammask.model.checkpoint import read_checkpoint

    state = read_checkpoint(path).state
    return {k for k, v in state.items() if not torch.equal(v, reference[k])}


# --- new user 1: defaults safe for fine-tuning, a worse model is not called done -------------------
def test_heads_leave_the_layer_the_frozen_mask_branch_reads_alone(ds, tmp_path, capsys):
    from siammask.model.seeded import seeded_state_dict

    out = tmp_path / "h.pth"
    rc, text, _ = train(capsys, "--dataset", ds, "--seeded", "--output", out, "--train", "heads", *FAST)
    assert rc == 0, text
    changed = moved(out, {k: torch.from_numpy(v) for k, v in seeded_state_dict().items()})
    assert changed and all(k.startswith("rpn_model.") for k in changed), sorted(changed)[:3]


def test_fine_tuning_a_checkpoint_defaults_to_a_small_step(ds, tmp_path, capsys, seeded_checkpoint):
    rc, text, _ = train(capsys, "--dataset", ds, "--checkpoint", seeded_checkpoint, "--output", tmp_path / "f.pth",
                        *FAST)
    assert rc == 0 and "(lr 1e-05)" in text
    rc, text, _ = train(capsys, "--dataset", ds, "--seeded", "--output", tmp_path / "s.pth", *FAST)
    assert rc == 0 and "(lr 0.0001)" in text


def fake_evaluate(after_accuracy: float):
    def evaluate(dataset, names, models, threads, interval=None, work=None, engine="auto", say=None):  # noqa: ANN001, ANN202
        for name in models:
            assert Path(models[name]).is_file()
        rows = {"before": {"accuracy": 0.8, "lost_number": 0.0},
                "after": {"accuracy": after_accuracy, "lost_number": 0.0}}
        return {"trackers": rows}, "table\n"

    return evaluate


@pytest.mark.parametrize("keep_worse", [False, True])
def test_a_worse_trained_model_is_not_written_unless_asked(ds, tmp_path, capsys, monkeypatch, seeded_checkpoint,
                                                           keep_worse):
    from siammask.model.checkpoint import read_checkpoint
    from siammask.training import holdout

    monkeypatch.setattr(holdout, "evaluate", fake_evaluate(0.3))
    out = tmp_path / "w.pth"
    extra = ["--keep-worse"] if keep_worse else []
    rc, text, _ = train(capsys, "--dataset", ds, "--checkpoint", seeded_checkpoint, "--output", out, "--batch", 1,
                        "--threads", 1, "--steps", 1, "--holdout", 1, "--json", tmp_path / "w.json", *extra)
    assert rc == 0, text
    assert "accuracy 0.800, 0 failures before, accuracy 0.300, 0 failures after" in text
    changed = moved(out, read_checkpoint(seeded_checkpoint).state)
    if keep_worse:
        assert changed and "kept by --keep-worse" in text
    else:
        assert not changed, sorted(changed)[:3]  # the input model, in the authors' layout
        assert "wrote the INPUT model" in text
        # the training state kept the trained tensors: --resume --keep-worse writes them, training nothing
        rc, text, _ = train(capsys, "--dataset", ds, "--checkpoint", seeded_checkpoint, "--output", out, "--batch",
                            1, "--threads", 1, "--steps", 1, "--holdout", 1, "--resume", "--keep-worse")
        assert rc == 0 and "trained 0 steps" in text and "kept by --keep-worse" in text
        assert moved(out, read_checkpoint(seeded_checkpoint).state)
    import json

    assert json.loads((tmp_path / "w.json").read_text())["written"] == ("trained" if keep_worse else "input")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no work folder left


def test_a_better_trained_model_is_written(ds, tmp_path, capsys, monkeypatch, seeded_checkpoint):
    from siammask.model.checkpoint import read_checkpoint
    from siammask.training import holdout

    monkeypatch.setattr(holdout, "evaluate", fake_evaluate(0.9))
    out = tmp_path / "b.pth"
    rc, text, _ = train(capsys, "--dataset", ds, "--checkpoint", seeded_checkpoint, "--output", out, "--batch", 1,
                        "--threads", 1, "--steps", 1, "--holdout", 1)
    assert rc == 0 and "wrote the trained model" in text
    assert moved(out, read_checkpoint(seeded_checkpoint).state)


@pytest.mark.parametrize("engine", ["torch", "export"])
def test_held_out_scoring_says_each_sequence_and_ranks_failures_first(ds, tmp_path, engine):
    import re

    from siammask.datasets.vot import load_dataset
    from siammask.model.seeded import write_checkpoint
    from siammask.training import holdout

    lines: list[str] = []
    ckpt = write_checkpoint(tmp_path / "m.pth")
    report, _ = holdout.evaluate(load_dataset(ds), ["b", "c"], {"m": ckpt}, 1, (1, 3), tmp_path / "w", engine,
                                 lines.append)
    assert re.fullmatch(r"held-out m: scoring 2 sequences with (\w+)", lines[0])
    assert (lines[0].split()[-1] == "torch") == (engine == "torch")
    assert [re.sub(r", \d+ s\)$", ")", line) for line in lines[1:]] == [
        "held-out m: b done (1/2 sequences)", "held-out m: c done (2/2 sequences)"]
    assert set(report["trackers"]) == {"m"}
    assert holdout.score({"trackers": {"x": {"lost_number": 1, "accuracy": 0.9}}}, "x") < \
        holdout.score({"trackers": {"x": {"lost_number": 0, "accuracy": 0.1}}}, "x")


# --- D: the resume state is checked before the model or Adam take it -----------------------------------
def _break_state(kind: str, state: dict) -> dict:
    name = next(iter(state["trainable"]))
    if kind == "shape":
        state["trainable"][name] = torch.zeros(3, 2)
    elif kind == "missing":
        del state["trainable"][name]
    elif kind == "optimizer":
        state["optimizer"] = {}
    elif kind == "adam-moment":
        entry = state["optimizer"]["state"][0]
        entry["exp_avg"] = torch.zeros(1)
    elif kind == "step":
        state["step"] = "four"
    elif kind == "history":
        state["history"] = [1.0]
    elif kind == "not-a-dict":
        state = [1, 2]
    elif kind == "nan":
        state["trainable"][name] = state["trainable"][name] * float("nan")
    return state


@pytest.mark.parametrize("kind, fragment", [
    ("shape", "has shape (3, 2)"), ("missing", "is missing"), ("optimizer", "optimizer state"),
    ("adam-moment", "exp_avg does not have"), ("step", "'four' is not a whole number"),
    ("history", "loss history"), ("not-a-dict", "not a training state"), ("nan", "NaN"),
])
def test_a_damaged_resume_state_is_refused_in_one_line(ds, tmp_path, capsys, kind, fragment):
    out = tmp_path / "r.pth"
    assert train(capsys, "--dataset", ds, "--seeded", "--output", out, *FAST)[0] == 0
    state_path = out.with_name("r.pth.train")
    torch.save(_break_state(kind, torch.load(state_path, weights_only=True)), state_path)
    before = snapshot(tmp_path)
    rc, _, err = train(capsys, "--dataset", ds, "--seeded", "--output", out, "--batch", 1, "--threads", 1,
                       "--holdout", 0, "--steps", 2, "--resume")
    assert_one_line_error(rc, err, str(state_path), fragment)
    assert snapshot(tmp_path) == before


# --- C, K, O: boxes, batch and frame sizes are bounded before any work --------------------------------
def test_a_huge_groundtruth_box_is_refused_before_any_crop(tmp_path, capsys):
    data = write_dataset(tmp_path / "d", ["a", "b"], frames=3)
    (data / "b" / "groundtruth.txt").write_text("30,30,24,24\n0,0,100000,100000\n32,32,24,24\n")
    rc, _, err = train(capsys, "--dataset", data, "--seeded", "--output", tmp_path / "o.pth", *FAST)
    assert_one_line_error(rc, err, "sequence b: groundtruth.txt line 2", "over 10 times")
    assert not (tmp_path / "o.pth").exists()


def test_frames_of_changing_size_are_refused_before_training(tmp_path, capsys):
    data = write_dataset(tmp_path / "d", ["a", "b"], frames=3)
    frame = data / "a" / "00000002.jpg"
    cv2.imwrite(str(frame), cv2.resize(cv2.imread(str(frame)), (80, 80)))
    rc, out, err = train(capsys, "--dataset", data, "--seeded", "--output", tmp_path / "o.pth", *FAST)
    assert_one_line_error(rc, err, "sequence a: frame 00000002.jpg is 80x80", "96x96")
    assert "train heads" not in out


def test_a_batch_beyond_memory_is_refused_in_one_line(ds, tmp_path, capsys):
    from siammask.training.memory import check_batch

    rc, _, err = train(capsys, "--dataset", ds, "--seeded", "--output", tmp_path / "o.pth", "--batch", 100000)
    assert_one_line_error(rc, err, "--batch 100000", "use --batch")
    assert not (tmp_path / "o.pth").exists()
    assert check_batch(8, "heads", available=4 << 30) == 8
    with pytest.raises(Exception, match=r"use --batch 6 or less"):
        check_batch(8, "mask", available=(1536 + 6 * 40 + 1) << 20)


# --- G, O: outputs ------------------------------------------------------------------------------------
def test_output_onto_a_dataset_file_is_refused(ds, tmp_path, capsys):
    before = snapshot(ds)
    rc, _, err = train(capsys, "--dataset", ds, "--seeded", "--output", ds / "list.txt", *FAST)
    assert_one_line_error(rc, err, "list.txt exists and is not a SiamMask checkpoint")
    assert snapshot(ds) == before


def test_outputs_colliding_with_each_other_are_refused(ds, tmp_path, capsys, seeded_checkpoint):
    out = tmp_path / "r.pth"
    rc, _, err = train(capsys, "--dataset", ds, "--seeded", "--output", out, "--json", out, *FAST)
    assert_one_line_error(rc, err, "--json", "is the same file as --output")
    rc, _, err = train(capsys, "--dataset", ds, "--seeded", "--output", out, "--json", str(out) + ".train", *FAST)
    assert_one_line_error(rc, err, "is the same file as training state")
    rc, _, err = train(capsys, "--dataset", ds, "--checkpoint", seeded_checkpoint, "--output", out, "--json",
                       seeded_checkpoint, *FAST)
    assert_one_line_error(rc, err, "is the input --checkpoint")
    assert not out.exists()


def test_outputs_siammask_did_not_write_are_not_replaced(ds, tmp_path, capsys):
    notes = tmp_path / "notes.json"
    notes.write_text('{"mine": 1}')
    rc, _, err = train(capsys, "--dataset", ds, "--seeded", "--output", tmp_path / "o.pth", "--json", notes, *FAST)
    assert_one_line_error(rc, err, "notes.json exists and is not a summary")
    state = tmp_path / "p.pth.train"
    state.write_text("my notes")
    rc, _, err = train(capsys, "--dataset", ds, "--seeded", "--output", tmp_path / "p.pth", *FAST)
    assert_one_line_error(rc, err, "p.pth.train exists and is not one siammask wrote")
    assert notes.read_text() == '{"mine": 1}' and state.read_text() == "my notes"
    # what siammask wrote is replaced: the same command twice
    for _ in range(2):
        rc, text, err = train(capsys, "--dataset", ds, "--seeded", "--output", tmp_path / "q.pth", "--json",
                              tmp_path / "q.json", *FAST)
        assert rc == 0, err


def test_a_fifo_output_is_refused_before_any_work(ds, tmp_path, capsys):
    fifo = tmp_path / "f.pth"
    os.mkfifo(fifo)
    rc, out, err = train(capsys, "--dataset", ds, "--seeded", "--output", fifo, *FAST)
    assert_one_line_error(rc, err, "is a FIFO")
    assert out == ""


def test_a_diverged_resume_names_what_exists(ds, tmp_path, capsys, monkeypatch):
    from siammask.training import loop

    out = tmp_path / "n.pth"
    assert train(capsys, "--dataset", ds, "--seeded", "--output", out, *FAST)[0] == 0
    out.unlink()
    real = loop.losses

    def nan(model, batch, settings):  # noqa: ANN001, ANN202
        parts = real(model, batch, settings)
        parts["total"] = parts["total"] * float("nan")
        return parts

    monkeypatch.setattr(loop, "losses", nan)
    rc, _, err = train(capsys, "--dataset", ds, "--seeded", "--output", out, "--batch", 1, "--threads", 1,
                       "--holdout", 0, "--steps", 3, "--resume")
    assert_one_line_error(rc, err, "the training state of step 1", "n.pth.train")
    assert "(" + str(out) + ")" not in err


def test_a_file_size_limit_in_torch_save_is_one_line(ds, tmp_path, capsys):
    out = tmp_path / "big.pth"
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, hard))  # the checkpoint is 86 MB; Python ignores SIGXFSZ
    try:
        rc, _, err = train(capsys, "--dataset", ds, "--seeded", "--output", out, *FAST)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert_one_line_error(rc, err, "big.pth", "cannot be written")
    assert [p.name for p in tmp_path.iterdir()] == []


# --- L: a killed run's temporaries are removed by the next ------------------------------------------------
def test_a_killed_runs_temporaries_are_swept_and_live_ones_kept(ds, tmp_path, capsys):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "k.pth"
    stale = [tmp_path / f".k.pth.{dead.pid}.0a1b2c3d.tmp.pth", tmp_path / f".k.pth.train.{dead.pid}.0a1b2c3d.tmp.train"]
    for path in stale:
        path.write_bytes(b"x" * 1000)
    (tmp_path / f".k.pth.{dead.pid}.0a1b2c3d.work").mkdir()
    (tmp_path / f".k.pth.{dead.pid}.0a1b2c3d.work" / "before.pth").write_bytes(b"x")
    live = tmp_path / f".k.pth.{os.getppid()}.0a1b2c3d.tmp.pth"  # a run still going: not touched
    live.write_bytes(b"y")
    mine = tmp_path / ".k.pth.notes"  # not a temporary name at all
    mine.write_text("keep")
    rc, _, err = train(capsys, "--dataset", ds, "--seeded", "--output", out, *FAST)
    assert rc == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, mine.name, "k.pth", "k.pth.train"])
