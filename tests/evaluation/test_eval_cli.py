"""`siammask eval` end to end with both backends: result files in the reference's layout, resume,
--force, parallel workers, and the report it ends with."""

from __future__ import annotations

import json

import pytest

from siammask.cli import main
from siammask.datasets.synth import make_dataset
from siammask.evaluation.vot.results import read_trajectory, result_path
from tests.constants import AUTO_FP32


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("data") / "synth", sequences=2, frames=10, size=(160, 120), seed=3)


ORT = f"SiamMask_{AUTO_FP32}"  # the default name of an export's eval run: SiamMask_<backend auto picks>


def _eval(dataset, results, *source, extra=()):
    return main(["eval", "--dataset", str(dataset), *source, "--results", str(results),
                 "--eao-interval", "2,10", "--json", str(results / "report.json"), *extra])


def test_eval_both_backends_agree(small_dataset, tmp_path, seeded_checkpoint, exported_model, capsys):
    results = tmp_path / "results"
    assert _eval(small_dataset, results, "--checkpoint", str(seeded_checkpoint)) == 0
    assert _eval(small_dataset, results, "--model", str(exported_model)) == 0
    out = capsys.readouterr().out
    assert "SiamMask_torch" in out and ORT in out
    for seq in ("synth00", "synth01"):
        a = read_trajectory(result_path(results, "SiamMask_torch", seq))
        b = read_trajectory(result_path(results, ORT, seq))
        assert len(a) == len(b) == 10
        assert a[0] == b[0] == 1
        for ra, rb in zip(a, b):
            assert isinstance(ra, int) == isinstance(rb, int)
            if not isinstance(ra, int):
                assert max(abs(x - y) for x, y in zip(ra, rb)) <= 0.01
    report = json.loads((results / "report.json").read_text())
    assert set(report["trackers"]) == {ORT}  # eval reports the tracker it ran


def test_rerun_skips_finished_sequences_and_force_redoes(small_dataset, tmp_path, exported_model):
    results = tmp_path / "results"
    assert _eval(small_dataset, results, "--model", str(exported_model)) == 0
    path = result_path(results, ORT, "synth00")
    stamp = path.stat().st_mtime_ns
    assert _eval(small_dataset, results, "--model", str(exported_model)) == 0
    assert path.stat().st_mtime_ns == stamp
    assert _eval(small_dataset, results, "--model", str(exported_model), extra=["--force"]) == 0
    assert path.stat().st_mtime_ns != stamp


def test_workers_give_the_same_results(small_dataset, tmp_path, exported_model):
    one, two = tmp_path / "one", tmp_path / "two"
    assert _eval(small_dataset, one, "--model", str(exported_model)) == 0
    assert _eval(small_dataset, two, "--model", str(exported_model), extra=["--workers", "2", "--threads", "1"]) == 0
    for seq in ("synth00", "synth01"):
        assert result_path(one, ORT, seq).read_text() == result_path(two, ORT, seq).read_text()


def test_onnxruntime_backend_with_a_checkpoint_is_refused(small_dataset, tmp_path, seeded_checkpoint, capsys):
    code = _eval(small_dataset, tmp_path / "r", "--checkpoint", str(seeded_checkpoint),
                 extra=["--backend", "onnxruntime"])
    assert code == 1
    assert "siammask export" in capsys.readouterr().err
