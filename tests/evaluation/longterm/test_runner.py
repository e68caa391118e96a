"""`siammask eval --experiment longterm` end to end on the seeded export: pysot's long-term files,
resume, --force, two workers, the report and its plot, and one-line refusals."""

from __future__ import annotations

import json

import pytest

from siammask.cli import main
from siammask.datasets.synth_lt import make_lt_dataset
from siammask.evaluation.longterm.results import read_result, result_paths
from tests.constants import AUTO_FP32

NAME = f"SiamMask_{AUTO_FP32}"


@pytest.fixture(scope="module")
def lt_dataset(tmp_path_factory):
    return make_lt_dataset(tmp_path_factory.mktemp("data") / "lt", sequences=2, frames=50, size=(96, 96), seed=5)


def _eval(dataset, results, model, *extra):
    return main(["eval", "--dataset", str(dataset), "--model", str(model), "--results", str(results),
                 "--json", str(results / "report.json"), *extra])


def test_eval_writes_pysots_layout_and_reports(lt_dataset, tmp_path, exported_model, capsys):
    results = tmp_path / "res"
    assert _eval(lt_dataset, results, exported_model, "--plots", str(tmp_path / "plots")) == 0
    out = capsys.readouterr().out
    assert "long-term" in out and "Precision" in out
    for seq in ("lt00", "lt01"):
        box, conf = result_paths(results, NAME, seq)
        assert box.read_text().startswith("1\n") and conf.read_text().startswith("\n")
        boxes, scores = read_result(box, conf, 50)
        assert (scores[1:] >= 0).all() and (boxes[1:, 2:] > 0).all()
    report = json.loads((results / "report.json").read_text())
    assert report["protocol"] == "longterm" and report["dataset"]["absent_frames"] >= 30
    t = report["trackers"][NAME]
    assert 0 <= t["precision"] <= 1 and 0 <= t["recall"] <= 1 and 0 <= t["f_score"] <= 1
    assert len(t["curve"]["precision"]) == 100 and set(t["sequences"]) == {"lt00", "lt01"}
    assert (tmp_path / "plots" / "precision_recall.png").stat().st_size > 1000
    # report alone reads the same files to the same figures
    assert main(["report", "--dataset", str(lt_dataset), "--results", str(results),
                 "--json", str(tmp_path / "again.json")]) == 0
    assert json.loads((tmp_path / "again.json").read_text())["trackers"] == report["trackers"]


def test_rerun_keeps_force_redoes_and_two_workers_agree(lt_dataset, tmp_path, exported_model, capsys):
    one = tmp_path / "one"
    assert _eval(lt_dataset, one, exported_model) == 0
    box, _ = result_paths(one, NAME, "lt00")
    stamp = box.stat().st_mtime_ns
    assert _eval(lt_dataset, one, exported_model) == 0
    assert "kept 2 of 2 sequences" in capsys.readouterr().out and box.stat().st_mtime_ns == stamp
    assert _eval(lt_dataset, one, exported_model, "--force") == 0
    assert box.stat().st_mtime_ns != stamp
    two = tmp_path / "two"
    assert _eval(lt_dataset, two, exported_model, "--workers", "2", "--threads", "1") == 0
    for seq in ("lt00", "lt01"):
        a, b = result_paths(one, NAME, seq), result_paths(two, NAME, seq)
        assert a[0].read_text() == b[0].read_text() and a[1].read_text() == b[1].read_text()


def test_a_foreign_result_is_refused_not_replaced(lt_dataset, tmp_path, exported_model, capsys):
    results = tmp_path / "res"
    assert _eval(lt_dataset, results, exported_model) == 0
    box, conf = result_paths(results, NAME, "lt01")
    conf.write_text("\n" + "0.5\n" * 48 + "high\n")
    capsys.readouterr()
    assert _eval(lt_dataset, results, exported_model) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "confidence.value:50: not a number in 'high'" in err and "--force" in err
    assert conf.read_text().endswith("high\n")


def test_refusals(lt_dataset, tmp_path, exported_model, capsys):
    from siammask.datasets.synth_davis import make_davis_dataset

    davis = make_davis_dataset(tmp_path / "davis", sequences=1, frames=3, size=(96, 96), objects=1)
    assert _eval(davis, tmp_path / "r", exported_model, "--experiment", "longterm") == 1
    assert "applies to VOT and VOT-LT datasets" in capsys.readouterr().err
    assert _eval(lt_dataset, tmp_path / "r", exported_model, "--experiment", "baseline") == 1
    assert "use --experiment longterm" in capsys.readouterr().err
    assert _eval(lt_dataset, tmp_path / "r", exported_model, "--eao-interval", "2,9") == 1
    assert "--eao-interval does not apply" in capsys.readouterr().err
    assert main(["report", "--dataset", str(lt_dataset), "--results", str(tmp_path / "empty")]) == 1
    assert capsys.readouterr().err.startswith("siammask: error: results folder")


def test_long_term_mode_runs_and_is_not_mixed_with_short_term(lt_dataset, tmp_path, exported_model, capsys):
    """--long-term reaches the tracker through eval (the run record says so), and a results folder of
    a short-term run refuses a long-term one under the same name (the record differs)."""
    results = tmp_path / "res"
    assert _eval(lt_dataset, results, exported_model, "--long-term", "--tracker-name", "lt") == 0
    record = json.loads(next((results / "lt").glob("*.json")).read_text())
    assert "long_term" in json.dumps(record)
    box, conf = result_paths(results, "lt", "lt00")
    assert read_result(box, conf, 50)[0].shape == (50, 4)
    assert _eval(lt_dataset, results, exported_model, "--tracker-name", "lt") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "long_term was True, now none" in err
