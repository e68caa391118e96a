"""The real vot-toolkit (0.9.0) runs our TraX server; its analysis agrees with `siammask report`.

vot-toolkit lives in its own virtualenv (scripts/setup_vot_env.sh makes build/vot-venv, or point
SIAMMASK_VOT_VENV at one), because it pulls the non-headless opencv-python that would replace this
environment's pinned opencv-python-headless. The tracker itself runs in this environment:
trackers.ini starts `sys.executable -m siammask.cli trax --model <exported seeded model>`.

What is checked, on a synthetic 2 x 20-frame dataset in the VOT2016 layout (seed 3: the tracker
fails 3 times and is re-initialised twice, in the same TraX process):
- `vot evaluate` (supervised baseline through vot_supervised.SingleObjectSupervised, text results)
  completes, stops after 3 identical repetitions, and its result files are read by
  siammask.evaluation.vot.results as they are;
- its trajectories equal those of our own runner (`run_dataset`) frame for frame: same init,
  failure and skip codes, same polygons to the 4 decimals our files keep, where a value that falls
  on a rounding boundary may round either way (one unit of the 4th decimal, on at most 1 % of the
  values): the two runs are separate processes, and a CI run on an AVX-512 machine (OpenVINO)
  once had 21.90015 land as 21.9002 in one and 21.9001 in the other. Both sides name the same
  engine and thread count, so the comparison is of vot's reading, not of two engine defaults;
- `vot analysis --format json` vs `siammask report --json` on vot's results:
  failures equal (cumulative_failures == lost_number); vot-toolkit's EAO equals our `eao.vot` over
  the same interval (measured: bit-identical); EAO over VOT2016's official interval is NaN in both
  (sequences shorter than the interval);
- accuracy: vot's (per-sequence means weighted by length) equals the same average of our
  per-sequence accuracies within 2e-3 (measured 6.2e-4 here: ours use pysot's C overlap, vot-toolkit
  its own rasteriser; on 2 low-overlap frames the two differ most), where a sequence with no frame
  left after the burn-in counts as 0 for vot-toolkit and is null (NaN) for us; computed with our
  vot-toolkit overlap (`run_overlaps(...).toolkit`, the one behind `eao.vot`) and vot's rules it
  is equal (within 1e-9). Our headline `accuracy` is pysot's (a mean over all frames of all
  sequences), a different average, so it is not compared.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from siammask.cli import main
from siammask.datasets.vot import load_dataset
from siammask.evaluation.vot.metrics import run_overlaps
from siammask.evaluation.vot.results import read_tracker
from siammask.evaluation.vot.runner import EngineSpec, run_dataset

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
TRACKER = "SiamMask"
INTERVAL = (5, 15)  # EAO interval fitting 20-frame sequences
TIMEOUT_S = 600
# one engine and thread count on both sides: the comparison is of vot's reading of our results
BACKEND, THREADS = "onnxruntime", 2
ROUNDING_UNIT = 1e-4  # our files' 4th decimal
FLOAT32_SLACK = 1e-5  # vot writes the float32 nearest the 4-decimal text it received


def _vot_venv() -> Path | None:
    configured = os.environ.get("SIAMMASK_VOT_VENV")
    venv = Path(configured) if configured else REPO / "build" / "vot-venv"
    return venv if (venv / "bin" / "vot").is_file() else None


VOT_VENV = _vot_venv()
pytestmark = pytest.mark.skipif(
    VOT_VENV is None, reason="no vot-toolkit virtualenv: run scripts/setup_vot_env.sh (or set SIAMMASK_VOT_VENV)"
)

STACK = f"""\
title: siammask synthetic baseline
experiments:
  baseline:
    type: vot_supervised.SingleObjectSupervised
    repetitions: 15
    skip_initialize: 5
    analyses:
      - type: supervised_average_ar
        sensitivity: 30
      - type: cumulative_failures
      - type: supervised_eao_score
        low: {INTERVAL[0]}
        high: {INTERVAL[1]}
      - type: supervised_eao_score
        low: 108
        high: 371
"""


def _vot(workspace: Path, *args: str) -> str:
    """Run a `vot` command of the vot-toolkit venv in `workspace`; its combined output."""
    path = os.pathsep.join(p for p in (str(HERE), os.environ.get("PYTHONPATH", "")) if p)
    env = dict(os.environ, VOT_RESULTS_BINARY="false", PYTHONPATH=path)
    proc = subprocess.run(
        [str(VOT_VENV / "bin" / "vot"), *args, "--workspace", str(workspace), TRACKER],
        cwd=workspace, env=env, capture_output=True, text=True, timeout=TIMEOUT_S,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    return output


@pytest.fixture(scope="module")
def vot_run(exported_model, tmp_path_factory):
    """A workspace on a synthetic dataset, evaluated and analysed by vot-toolkit."""
    pytest.importorskip("trax", reason="the TraX server needs vot-trax here: pip install 'siammask[vot]'")
    from siammask.datasets.synth import make_dataset

    root = tmp_path_factory.mktemp("vot")
    dataset = make_dataset(root / "dataset", sequences=2, frames=20, size=(160, 120), seed=3)
    workspace = root / "workspace"
    workspace.mkdir()
    (workspace / "stack.yaml").write_text(STACK)
    (workspace / "config.yaml").write_text(
        f"stack: {workspace / 'stack.yaml'}\nsequences: {dataset}\nregistry:\n  - ./trackers.ini\n"
    )
    (workspace / "trackers.ini").write_text(
        f"[{TRACKER}]\nlabel = {TRACKER}\nprotocol = trax\n"
        f"command = {sys.executable} -m siammask.cli trax --model {exported_model} "
        f"--backend {BACKEND} --threads {THREADS}\n"
    )
    evaluate_log = _vot(workspace, "evaluate")
    assert "Evaluation concluded" in evaluate_log, evaluate_log[-4000:]
    _vot(workspace, "analysis", "--format", "json")
    reports = sorted((workspace / "analysis").glob("*.json"))
    assert reports, "vot analysis wrote no JSON report"
    return dataset, workspace, json.loads(reports[-1].read_text())


def test_vot_results_are_our_trajectories(vot_run, exported_model, tmp_path):
    """vot's text results read as they are; 3 identical repetitions; equal to our runner's files."""
    dataset_dir, workspace, _ = vot_run
    dataset = load_dataset(dataset_dir)
    theirs = read_tracker(workspace / "results", TRACKER, dataset.names)
    run_dataset(dataset, EngineSpec(model=str(exported_model), backend=BACKEND, threads=THREADS), tmp_path, "ours")
    ours = read_tracker(tmp_path, "ours", dataset.names)
    failures = reinits = values = flips = 0
    for seq in dataset.names:
        assert len(theirs[seq]) == 3, "a deterministic tracker stops after 3 identical repetitions"
        assert theirs[seq][1] == theirs[seq][0] and theirs[seq][2] == theirs[seq][0]
        (mine,) = ours[seq]
        assert len(theirs[seq][0]) == len(mine) == len(dataset[seq])
        for frame, (a, b) in enumerate(zip(theirs[seq][0], mine)):
            if isinstance(b, int):
                assert a == b, f"{seq} frame {frame}: vot {a}, ours {b}"
                failures += b == 2
                reinits += b == 1 and frame > 0
            else:  # vot writes float32 values in full, our files keep 4 decimals
                assert not isinstance(a, int), f"{seq} frame {frame}: vot {a}, ours a region"
                np.testing.assert_allclose(a, b, atol=ROUNDING_UNIT + FLOAT32_SLACK, err_msg=f"{seq} frame {frame}")
                values += len(b)
                flips += int(np.sum(np.abs(np.subtract(a, b)) > ROUNDING_UNIT / 2 + FLOAT32_SLACK))
    assert failures > 0 and reinits > 0, "the dataset should make the tracker fail and re-initialise"
    assert flips <= 0.01 * values, f"{flips} of {values} values one unit of the 4th decimal apart"


def test_vot_analysis_agrees_with_report(vot_run, tmp_path, capsys):
    """Failures and EAO equal; EAO over [108, 371] NaN in both; accuracy equal as a length-weighted mean."""
    dataset_dir, workspace, analysis = vot_run
    out = tmp_path / "report.json"
    args = ["report", "--dataset", str(dataset_dir), "--results", str(workspace / "results"), "--json", str(out)]
    assert main([*args, "--eao-interval", "{},{}".format(*INTERVAL)]) == 0
    ours = json.loads(out.read_text())["trackers"][TRACKER]
    assert main(args) == 0  # default intervals: VOT2016's official [108, 371] for vot-toolkit's EAO
    official = json.loads(out.read_text())["trackers"][TRACKER]
    capsys.readouterr()

    # one grid per analysis, in stack order; one tracker: AR (accuracy, failures, (R, A), length), ...
    ar, cumulative, eao, eao_official = (grid[0] for grid in analysis["results"]["baseline"]["results"])
    accuracy = ar[0]
    assert cumulative[0] == ours["lost_number"] and ours["lost_number"] > 0
    assert ours["eao"]["interval_vot"] == list(INTERVAL)
    assert abs(eao[0] - ours["eao"]["vot"]) < 1e-9, (eao[0], ours["eao"]["vot"])
    assert math.isnan(eao_official[0]) and official["eao"]["vot"] is None
    assert official["eao"]["interval_vot"] == [108, 371]
    lengths = {seq: len(load_dataset(dataset_dir)[seq]) for seq in ours["sequences"]}
    # a sequence without accuracy frames: 0 for vot-toolkit (compute_accuracy), null (NaN) for us
    per_sequence = {s: ours["sequences"][s]["accuracy"] for s in lengths}
    weighted = sum((per_sequence[s] or 0.0) * n for s, n in lengths.items()) / sum(lengths.values())
    assert abs(accuracy - weighted) < 2e-3, (accuracy, weighted)
    assert abs(accuracy - _vot_rule_accuracy(dataset_dir, workspace)) < 1e-9


def _vot_rule_accuracy(dataset_dir, workspace, burnin=10):
    """vot-toolkit's AR accuracy from our vot-toolkit overlaps: per run, frames other than codes and
    the `burnin` frames from each init; 0 for a run without such frames; runs averaged; sequences
    weighted by length."""
    dataset = load_dataset(dataset_dir)
    results = read_tracker(workspace / "results", TRACKER, dataset.names)
    total = 0.0
    for seq in dataset:
        means = []
        for trajectory in results[seq.name]:
            run = run_overlaps(seq, trajectory)
            keep = run.codes < 0
            for start in np.flatnonzero(run.codes == 1):
                keep[start : start + burnin] = False
            means.append(float(np.mean(run.toolkit[keep])) if keep.any() else 0.0)
        total += np.mean(means) * len(seq)
    return total / sum(len(seq) for seq in dataset)
