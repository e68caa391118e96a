"""`siammask train` end to end on tiny data: layout, resume, divergence, refusals."""

from __future__ import annotations

import shutil

import torch

from siammask.cli import main
from siammask.model.checkpoint import read_checkpoint
from siammask.model.seeded import read_spec, seeded_state_dict, write_checkpoint

FAST = ["--batch", "1", "--threads", "1", "--holdout", "0"]


def train(capsys, *args: object) -> tuple[int, str, str]:
    rc = main(["train", *map(str, args)])
    out, err = capsys.readouterr()
    return rc, out, err


def test_output_has_the_authors_layout_and_only_trained_tensors_move(vot_data, tmp_path, capsys):
    out = tmp_path / "t.pth"
    rc, text, _ = train(capsys, "--dataset", vot_data, "--seeded", "--output", out, "--steps", 2, "--train", "mask",
                        *FAST)
    assert rc == 0, text
    assert "trained 2 steps (2 pairs)" in text
    raw = torch.load(out, weights_only=True)["state_dict"]
    spec = [k for k, _, role in read_spec() if role != "bn_count"]
    assert list(raw) == ["module." + k for k in spec]  # SiamMask_VOT.pth's keys, in its order
    state = read_checkpoint(out).state
    seeded = seeded_state_dict()
    moved = {k for k in spec if not torch.equal(state[k], torch.from_numpy(seeded[k]))}
    assert moved and all(k.startswith(("features.downsample.", "rpn_model.", "mask_model.mask.conv_", "refine_model."))
                         for k in moved)
    assert any(k.startswith("refine_model.") for k in moved)
    # batch-norm statistics are frozen, even in the trained layers
    assert not any(k.endswith(("running_mean", "running_var")) for k in moved)


def test_resumed_run_equals_the_uninterrupted_one(vot_data, tmp_path, capsys):
    straight, split = tmp_path / "straight.pth", tmp_path / "split.pth"
    common = ["--dataset", vot_data, "--seeded", "--train", "heads", "--seed", 3, "--save-every", 1, *FAST]
    assert train(capsys, *common, "--output", straight, "--steps", 4)[0] == 0
    assert train(capsys, *common, "--output", split, "--steps", 2)[0] == 0
    rc, text, _ = train(capsys, *common, "--output", split, "--steps", 4, "--resume")
    assert rc == 0 and "step 2 of 4" in text
    a, b = read_checkpoint(straight).state, read_checkpoint(split).state
    assert all(torch.equal(a[k], b[k]) for k in a)  # bitwise: same data, same Adam state, one thread
    # and it did train: 4 steps differ from 2
    two = tmp_path / "two.pth"
    assert train(capsys, *common, "--output", two, "--steps", 2)[0] == 0
    assert not torch.equal(read_checkpoint(two).state["rpn_model.cls.head.3.weight"], a["rpn_model.cls.head.3.weight"])


def test_resume_with_other_settings_is_refused(vot_data, tmp_path, capsys):
    out = tmp_path / "o.pth"
    assert train(capsys, "--dataset", vot_data, "--seeded", "--output", out, "--steps", 1, *FAST)[0] == 0
    rc, _, err = train(capsys, "--dataset", vot_data, "--seeded", "--output", out, "--steps", 2, "--resume",
                       "--lr", "0.001", *FAST)
    assert rc == 1 and "written with other settings" in err and len(err.strip().splitlines()) == 1


def test_nan_loss_stops_and_keeps_the_last_checkpoint(vot_data, tmp_path, capsys, monkeypatch):
    from siammask.training import loop

    real = loop.losses
    calls = {"n": 0}

    def failing(model, batch, settings):  # noqa: ANN001, ANN202
        calls["n"] += 1
        out = real(model, batch, settings)
        if calls["n"] == 3:
            out["total"] = out["total"] * float("nan")
        return out

    monkeypatch.setattr(loop, "losses", failing)
    out = tmp_path / "n.pth"
    rc, _, err = train(capsys, "--dataset", vot_data, "--seeded", "--output", out, "--steps", 5, "--save-every", 2,
                       *FAST)
    assert rc == 1
    assert "the loss became nan at step 3: training stopped; the checkpoint of step 2" in err
    assert torch.load(out.with_name("n.pth.train"), weights_only=True)["step"] == 2
    read_checkpoint(out)  # the kept checkpoint is whole


def test_output_onto_the_input_checkpoint_is_refused(vot_data, tmp_path, capsys):
    ckpt = write_checkpoint(tmp_path / "in.pth")
    before = ckpt.read_bytes()
    rc, _, err = train(capsys, "--dataset", vot_data, "--checkpoint", ckpt, "--output", tmp_path / "." / "in.pth",
                       *FAST)
    assert rc == 1 and "is the input --checkpoint" in err
    assert ckpt.read_bytes() == before


def test_one_frame_dataset_is_refused(vot_data, tmp_path, capsys):
    data = tmp_path / "one"
    (data / "s").mkdir(parents=True)
    shutil.copy(vot_data / "synth00" / "00000001.jpg", data / "s" / "00000001.jpg")
    (data / "s" / "groundtruth.txt").write_text("10,10,30,30\n")
    (data / "list.txt").write_text("s\n")
    rc, _, err = train(capsys, "--dataset", data, "--seeded", "--output", tmp_path / "o.pth", *FAST)
    assert rc == 1 and "a training pair needs two" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o.pth").exists()


def test_mask_dataset_without_objects_is_refused(davis_data, tmp_path, capsys):
    import numpy as np
    from PIL import Image

    data = tmp_path / "d"
    shutil.copytree(davis_data, data)
    for png in (data / "Annotations" / "480p").rglob("*.png"):
        image = Image.open(png)
        blank = Image.fromarray(np.zeros_like(np.array(image)), mode="P")
        blank.putpalette(image.getpalette())
        blank.save(png)
    rc, _, err = train(capsys, "--dataset", data, "--seeded", "--output", tmp_path / "o.pth", *FAST)
    assert rc == 1 and "has no object" in err and len(err.strip().splitlines()) == 1


def test_davis_training_runs_and_scores_the_held_out_sequence(davis_data, tmp_path, capsys):
    rc, text, _ = train(capsys, "--dataset", davis_data, "--seeded", "--output", tmp_path / "d.pth", "--steps", 1,
                        "--train", "mask", *FAST, "--holdout", 1)
    assert rc == 0 and "trained 1 steps" in text
    assert "held-out sequences (davis01)" in text
    rows = [line.split()[0] for line in text.splitlines() if line.split()[:1] in (["before"], ["after"])]
    assert rows[:2] == ["before", "after"]


def test_bad_holdout_is_refused(vot_data, tmp_path, capsys):
    rc, _, err = train(capsys, "--dataset", vot_data, "--seeded", "--output", tmp_path / "o.pth", "--holdout", 3)
    assert rc == 1 and "at least one must remain for training" in err
