"""`siammask report` end to end through `siammask.cli.main`."""

from __future__ import annotations

import json
import shutil

import pytest

from siammask.cli import main
from siammask.evaluation.vot.results import read_trajectory, result_path, write_trajectory

from .helpers import DATASET, GOLDEN, RESULTS, SEQUENCES

PNG = b"\x89PNG\r\n\x1a\n"


def test_report_json_and_plots(tmp_path, capsys):
    """JSON report equals pysot_metrics.json within 1e-6 (NaN as null); both PNGs written; table printed."""
    out = tmp_path / "report.json"
    plots = tmp_path / "plots"
    args = ["report", "--dataset", str(DATASET), "--results", str(RESULTS), "--json", str(out), "--plots", str(plots)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "Reference" in printed and "synth01" in printed
    report = json.loads(out.read_text())
    expected = json.loads((GOLDEN / "pysot_metrics.json").read_text())
    ref = report["trackers"]["Reference"]
    assert report["dataset"]["name"] == "VOT2016" and report["dataset"]["frames"] == 360
    assert ref["accuracy"] == pytest.approx(expected["accuracy"], abs=1e-6)
    assert ref["robustness"] == pytest.approx(expected["robustness"], abs=1e-6)
    assert ref["lost_number"] == pytest.approx(expected["lost_number"], abs=1e-6)
    assert ref["eao"]["pysot"] == pytest.approx(expected["eao"], abs=1e-6)
    assert ref["eao"]["vot"] is None  # NaN: every run is shorter than the interval
    assert ref["eao"]["interval_pysot"] == [100, 356] and ref["eao"]["interval_vot"] == [108, 371]
    assert ref["eao_per_tag"]["occlusion"] is None
    for seq, values in expected["per_sequence"].items():
        assert ref["sequences"][seq]["accuracy"] == pytest.approx(values["accuracy"], abs=1e-6)
        assert ref["sequences"][seq]["lost"] == values["lost"]
    for name in ("eao_curves.png", "accuracy_robustness.png"):
        assert (plots / name).read_bytes()[:8] == PNG


def _two_trackers(tmp_path):
    """The reference's results as tracker A, and B: its regions shifted by 3 px."""
    root = tmp_path / "results"
    shutil.copytree(RESULTS / "Reference", root / "A")
    for seq in SEQUENCES:
        traj = read_trajectory(result_path(root, "A", seq))
        write_trajectory(result_path(root, "B", seq), [r if isinstance(r, int) else [v + 3 for v in r] for r in traj])
    return root


def test_all_trackers_and_interval(tmp_path, capsys):
    """Without --tracker every tracker is scored; --eao-interval replaces both intervals (vot EAO then exists)."""
    root = _two_trackers(tmp_path)
    out = tmp_path / "r.json"
    base = ["report", "--dataset", str(DATASET), "--results", str(root), "--json", str(out)]
    assert main([*base, "--eao-interval", "10,30"]) == 0
    report = json.loads(out.read_text())
    assert sorted(report["trackers"]) == ["A", "B"]
    for t in report["trackers"].values():
        assert t["eao"]["interval_pysot"] == [10, 30] and t["eao"]["interval_vot"] == [10, 30]
        assert 0 < t["eao"]["vot"] < 1 and 0 < t["eao"]["pysot"] < 1
    assert main([*base, "--tracker", "B"]) == 0
    assert list(json.loads(out.read_text())["trackers"]) == ["B"]
    assert "B" in capsys.readouterr().out


def _fails(args, capsys, needle):
    assert main(args) == 1
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1, err


def test_bad_input(tmp_path, capsys):
    """Unknown tracker, bad interval, empty results, another dataset's results: exit 1, one-line message."""
    base = ["report", "--dataset", str(DATASET), "--results"]
    _fails([*base, str(RESULTS), "--tracker", "Nobody"], capsys, "Nobody")
    _fails([*base, str(RESULTS), "--eao-interval", "50"], capsys, "LOW,HIGH")
    _fails([*base, str(RESULTS), "--eao-interval", "60,50"], capsys, "LOW <= HIGH")
    _fails([*base, str(tmp_path)], capsys, "no tracker results")
    _fails(["report", "--dataset", str(tmp_path), "--results", str(RESULTS)], capsys, "list.txt")
    root = _two_trackers(tmp_path)
    shutil.copytree(root / "A" / "baseline" / "synth00", root / "A" / "baseline" / "other")
    _fails([*base, str(root), "--tracker", "A"], capsys, "other")
    traj = read_trajectory(result_path(root, "B", "synth02"))
    write_trajectory(result_path(root, "B", "synth02"), traj[:100])
    _fails([*base, str(root), "--tracker", "B"], capsys, "100 result lines for 120 frames")


def test_help_has_examples(capsys):
    """`siammask report --help` shows the examples epilog."""
    with pytest.raises(SystemExit) as done:
        main(["report", "--help"])
    assert done.value.code == 0
    assert "examples:" in capsys.readouterr().out
