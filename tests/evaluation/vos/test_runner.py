"""The VOS runner and `siammask eval` on a DAVIS dataset: DAVIS submission layout (palette PNGs),
label maps as the reference's, atomic per sequence, resume, --force, parallel workers."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from siammask.cli import main
from siammask.datasets.davis import load_davis
from siammask.engines.factory import EngineSpec
from siammask.errors import SiamMaskError
from siammask.evaluation.vos.runner import run_vos_dataset, sequence_folder
from siammask.tracking.labelmaps import davis_palette
from tests.evaluation.vos.golden import DATASET, davis_config, reference_labels

FRAMES = 3
SEQS = ("vos00", "vos01")


@pytest.fixture(scope="module")
def tiny_davis(tmp_path_factory):
    """The golden DAVIS dataset cut to 2 sequences x 3 frames (same files)."""
    root = tmp_path_factory.mktemp("davis") / "DAVIS"
    for year in ("2016", "2017"):
        (root / "ImageSets" / year).mkdir(parents=True)
        (root / "ImageSets" / year / "val.txt").write_text("".join(s + "\n" for s in SEQS))
    for sub, ext in (("JPEGImages", "jpg"), ("Annotations", "png")):
        for seq in SEQS:
            (root / sub / "480p" / seq).mkdir(parents=True)
            for t in range(FRAMES):
                shutil.copy(DATASET / sub / "480p" / seq / f"{t:05d}.{ext}", root / sub / "480p" / seq)
    return root


def spec_for(checkpoint, tmp_path):
    config = tmp_path / "davis.json"
    config.write_text(json.dumps(davis_config().to_dict()))
    return EngineSpec(checkpoint=str(checkpoint), config=str(config), threads=1)


def read_results(folder):
    out = {}
    for path in sorted(folder.glob("*.png")):
        with Image.open(path) as image:
            assert image.mode == "P" and image.getpalette()[:30] == davis_palette()[:30]
            out[path.stem] = np.array(image)
    return out


def test_results_are_the_reference_label_maps_and_resume(tiny_davis, seeded_checkpoint, tmp_path):
    dataset = load_davis(tiny_davis, 2017)
    spec = spec_for(seeded_checkpoint, tmp_path)
    results = tmp_path / "results"
    done = []
    outcomes = run_vos_dataset(dataset, spec, results, "SiamMask", on_done=done.append)
    assert sorted(o.name for o in outcomes) == list(SEQS) and len(done) == 2
    assert all(not o.skipped and o.frames == FRAMES for o in outcomes)
    for seq in SEQS:
        folder = sequence_folder(results, "SiamMask", seq)
        maps = read_results(folder)
        assert sorted(maps) == [f"{t:05d}" for t in range(FRAMES)]
        for t in range(FRAMES):
            # closed loop over 3 frames; near ties (saturated sigmoids) on at most 0.1% of the pixels
            assert np.mean(maps[f"{t:05d}"] != reference_labels("davis2017", seq, t)) <= 1e-3
        assert not list(folder.parent.glob(".*")), "a staging folder was left behind"

    # resume: finished folders are kept untouched; a killed run's staging folder is removed
    stamp = (sequence_folder(results, "SiamMask", "vos00") / "00001.png").stat().st_mtime_ns
    stale = results / "SiamMask" / ".vos01.killed"
    stale.mkdir()
    (stale / "00000.png").write_bytes(b"half")
    shutil.rmtree(sequence_folder(results, "SiamMask", "vos01"))
    outcomes = {o.name: o for o in run_vos_dataset(dataset, spec, results, "SiamMask")}
    assert outcomes["vos00"].skipped and not outcomes["vos01"].skipped
    assert (sequence_folder(results, "SiamMask", "vos00") / "00001.png").stat().st_mtime_ns == stamp
    assert not stale.exists()

    # a folder that is not a result of its sequence is refused by name, and replaced with force
    (sequence_folder(results, "SiamMask", "vos00") / "notes.txt").write_text("mine")
    with pytest.raises(SiamMaskError, match="notes.txt"):
        run_vos_dataset(dataset, spec, results, "SiamMask")
    run_vos_dataset(dataset, spec, results, "SiamMask", force=True)
    assert not (sequence_folder(results, "SiamMask", "vos00") / "notes.txt").exists()


class FailingEngine:
    """An engine whose second search call fails: a sequence interrupted half-way."""

    def __init__(self, engine) -> None:
        self.engine, self.searches = engine, 0

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def search(self, x, kernels):
        self.searches += 1
        if self.searches == 2:
            raise SiamMaskError("engine failed")
        return self.engine.search(x, kernels)


def test_interrupted_sequence_leaves_nothing(tiny_davis, torch_engine, tmp_path):
    from siammask.evaluation.vos.runner import track_sequence

    seq = load_davis(tiny_davis, 2017)["vos00"]
    out = tmp_path / "results" / "SiamMask" / "vos00"
    with pytest.raises(SiamMaskError, match="vos00: engine failed"):
        track_sequence(FailingEngine(torch_engine), davis_config(), seq, out)
    assert not out.exists() and list(out.parent.iterdir()) == []


def test_eval_cli_davis_2016_with_workers(tiny_davis, seeded_checkpoint, tmp_path, capsys):
    """`siammask eval` on a DAVIS folder: two worker processes, 2016 mode (objects merged), report."""
    results = tmp_path / "results"
    config = tmp_path / "davis.json"
    config.write_text(json.dumps(davis_config().to_dict()))
    args = ["eval", "--dataset", str(tiny_davis), "--checkpoint", str(seeded_checkpoint), "--config", str(config),
            "--results", str(results), "--year", "2016", "--workers", "2", "--threads", "1",
            "--json", str(tmp_path / "vos.json")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "DAVIS 2016" in out and "J&F" in out
    for seq in SEQS:
        maps = read_results(results / "SiamMask_torch" / seq)
        for t in range(FRAMES):
            assert set(np.unique(maps[f"{t:05d}"])) <= {0, 1}
            assert np.mean(maps[f"{t:05d}"] != reference_labels("davis2016", seq, t)) <= 1e-3
    report = json.loads((tmp_path / "vos.json").read_text())
    assert "SiamMask_torch" in json.dumps(report)


def test_eval_cli_davis_refuses_vot_options(tiny_davis, seeded_checkpoint, tmp_path, capsys):
    args = ["eval", "--dataset", str(tiny_davis), "--checkpoint", str(seeded_checkpoint),
            "--results", str(tmp_path / "r"), "--eao-interval", "2,10"]
    assert main(args) == 1
    assert "--eao-interval" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_eval_cli_year_on_a_vot_dataset_is_refused(seeded_checkpoint, tmp_path, capsys):
    from tests.constants import DATASET as VOT_DATASET

    args = ["eval", "--dataset", str(VOT_DATASET), "--checkpoint", str(seeded_checkpoint),
            "--results", str(tmp_path / "r"), "--year", "2016"]
    assert main(args) == 1
    assert "--year applies to DAVIS" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
