"""Result files travel both ways between this package and the reference's tools (pysot format).

In: the golden results written by the reference's tools/test.py are read unchanged, and our
writer reproduces them byte for byte. Out: files written by `siammask eval` are what pysot's VOT
loader expects: found by its `*0*.txt` glob, every line a comma-separated list of floats (a single
value 1, 2 or 0 for init, failure and skip; 8 polygon values otherwise). The scores themselves are
checked in tests/evaluation (test_report_cli.py); here only the headline figures, briefly.
"""

from __future__ import annotations

import glob
import json
import os
from pathlib import Path

import pytest

from siammask.cli import main
from siammask.evaluation.vot.results import format_region, parse_region, read_trajectory

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden"
RESULTS = GOLDEN / "results" / "VOT2016"


def pysot_style_read(results: Path, tracker: str, sequence: str) -> list[list[list[float]]]:
    """Read one tracker's baseline files the way pysot's VOT loader does (glob, split, float)."""
    files = sorted(glob.glob(os.path.join(results, tracker, "baseline", sequence, "*0*.txt")))
    out = []
    for name in files:
        with open(name) as handle:
            out.append([list(map(float, line.strip().split(","))) for line in handle.readlines()])
    return out


def test_reference_files_read_unchanged_and_rewritten_identically(tmp_path, capsys):
    """Every golden line parses and formats back to the same bytes; the report gives pysot's figures."""
    files = sorted(RESULTS.glob("Reference/baseline/*/*_001.txt"))
    assert len(files) == 3
    for path in files:
        text = path.read_text()
        assert "".join(format_region(r) + "\n" for r in read_trajectory(path)) == text, path.name
    out = tmp_path / "report.json"
    assert main(["report", "--dataset", str(GOLDEN / "dataset"), "--results", str(RESULTS), "--json", str(out)]) == 0
    capsys.readouterr()
    ours = json.loads(out.read_text())["trackers"]["Reference"]
    expected = json.loads((GOLDEN / "pysot_metrics.json").read_text())
    for key in ("accuracy", "lost_number", "robustness"):
        assert ours[key] == pytest.approx(expected[key], abs=1e-6), key
    assert ours["eao"]["pysot"] == pytest.approx(expected["eao"], abs=1e-6)


def test_eval_files_read_by_pysot_style_reader(exported_model, tmp_path, capsys):
    """`siammask eval` output: one file per sequence matched by pysot's glob, lines as pysot parses them."""
    from siammask.datasets.synth import make_dataset

    data = make_dataset(tmp_path / "data", sequences=1, frames=8, size=(160, 120), seed=3)
    results = tmp_path / "results"
    args = ["eval", "--dataset", str(data), "--model", str(exported_model), "--results", str(results),
            "--tracker-name", "SiamMask", "--eao-interval", "2,6"]
    assert main(args) == 0
    capsys.readouterr()
    (trajectory,) = pysot_style_read(results, "SiamMask", "synth00")
    ours = read_trajectory(results / "SiamMask" / "baseline" / "synth00" / "synth00_001.txt")
    assert len(trajectory) == len(ours) == 8
    assert trajectory[0] == [1.0]
    for line, region in zip(trajectory, ours):
        if len(line) == 1:
            assert line[0] in (0.0, 1.0, 2.0) and line[0] == region
        else:
            assert len(line) == 8 and tuple(line) == region
    raw = (results / "SiamMask" / "baseline" / "synth00" / "synth00_001.txt").read_bytes()
    assert raw.endswith(b"\n") and b"\n\n" not in raw and raw.isascii() and b" " not in raw
    assert parse_region(raw.splitlines()[1].decode(), "line 2") == ours[1]
