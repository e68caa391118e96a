"""The real vot-toolkit (0.9.0) analyses our multistart, realtime and unsupervised results; its
figures equal `siammask report --experiment ...` (within 1e-6, as stated in issue 25).

vot-toolkit runs from its own virtualenv (build/vot-venv, or SIAMMASK_VOT_VENV; skipped without it),
as in test_vot_toolkit.py. What is checked, on a synthetic 2 x 30-frame dataset (96x96) whose
sequences get an anchor.value (forward anchors 0 and 12, backward 17 and 29):

- `siammask eval --experiment multistart|realtime|unsupervised` writes into a vot-toolkit
  workspace's results folder, and `vot analysis` (a stack with vot2020/shortterm.yaml's three
  experiments and analyses) reads every file as it is;
- two trackers: ours, and "Drifting", our files edited so that runs fail (a region moved off the
  image from the 4th frame on), drift and recover (5 frames), and unsupervised runs hold unknown (0)
  and failure (2) codes: vot-toolkit's failure, grace and masking rules all take part;
- per tracker and experiment: multistart/realtime accuracy, robustness, EAO over [5, 25] and over
  vot2020's [115, 755], the EAO curve point by point; unsupervised average overlap (burnin 1):
  equal within 1e-6 (measured: equal to about 1e-16);
- `vot evaluate` itself runs our TraX server through the unsupervised experiment and the multistart
  one (vot_multistart.RunnableMultiStart: 0.9.0's own multistart stops at once, see that file):
  its trajectories, backward runs included, equal `siammask eval`'s frame for frame (the 4 decimals
  our files keep; a value on a rounding boundary may round either way, on at most 1 % of the
  values), and `siammask report` reads vot's own files (full floats, their .value files) to the
  figures its `vot analysis` gives;
- the real-time clock: vot-toolkit's own RealtimeTrackerRuntime, driven by scripted tracker times,
  lets the same frames go by and repeats the same answers as our run_pass under RealtimeClock.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from siammask.cli import main
from siammask.datasets.vot import load_dataset
from siammask.evaluation.votexp.report import evaluate_folder

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
TIMEOUT_S = 600
TOLERANCE = 1e-6  # issue 25: every figure within 1e-6 of vot-toolkit's
FRAMES = 30
ANCHORS = {0: 1, 12: 1, 17: -1, 29: -1}
INTERVAL = (5, 25)
OURS, DRIFTING = "SiamMask", "Drifting"
EXPERIMENTS = {"multistart": "baseline", "realtime": "realtime", "unsupervised": "unsupervised"}


def _vot_venv() -> Path | None:
    configured = os.environ.get("SIAMMASK_VOT_VENV")
    venv = Path(configured) if configured else REPO / "build" / "vot-venv"
    return venv if (venv / "bin" / "vot").is_file() else None


VOT_VENV = _vot_venv()
pytestmark = pytest.mark.skipif(
    VOT_VENV is None, reason="no vot-toolkit virtualenv: run scripts/setup_vot_env.sh (or set SIAMMASK_VOT_VENV)"
)

MULTISTART_ANALYSES = f"""\
      - type: multistart_average_ar
      - type: multistart_eao_score
        low: {INTERVAL[0]}
        high: {INTERVAL[1]}
      - type: multistart_eao_score
        low: 115
        high: 755
      - type: multistart_eao_curve
        high: {INTERVAL[1]}
"""
# vot2020/shortterm.yaml's three experiments, with an EAO interval that fits 30-frame sequences beside its own
STACK = f"""\
title: siammask synthetic VOT2020-style stack
experiments:
  baseline:
    type: multistart
    analyses:
{MULTISTART_ANALYSES}  realtime:
    type: multistart
    realtime:
      grace: 3
    analyses:
{MULTISTART_ANALYSES}  unsupervised:
    type: unsupervised
    repetitions: 1
    analyses:
      - type: average_accuracy
        burnin: 1
"""


def write_anchors(dataset: Path, anchors: dict[int, int], frames: int) -> None:
    """An anchor.value in each sequence (VOT2020's file: 1 forward, -1 backward, 0 none a line)."""
    for name in (dataset / "list.txt").read_text().split():
        (dataset / name / "anchor.value").write_text("".join(f"{anchors.get(i, 0)}\n" for i in range(frames)))


def _drift(line: str) -> str:
    """A result line's region moved 200 px right (off the 96-pixel image): overlap 0."""
    values = [float(v) for v in line.split(",")]
    return ",".join(f"{v + 200 * (i % 2 == 0):.4f}" for i, v in enumerate(values))


def _drifting_copy(results: Path) -> None:
    """Drifting's results: ours, edited run by run (see the module docstring)."""
    for experiment in EXPERIMENTS.values():
        for k, path in enumerate(sorted((results / OURS / experiment).glob("*/*[0-9].txt"))):
            lines = path.read_text().splitlines()
            if experiment == "unsupervised":
                lines[5:9] = ["0"] * 4  # unknown frames
                lines[12] = "2"  # a failure code
                lines[20:] = [_drift(x) for x in lines[20:]]
            elif k % 3 == 0:
                lines[3:] = [_drift(x) for x in lines[3:]]  # fails: 10 frames in a row at overlap 0
            elif k % 3 == 1:
                lines[4:9] = [_drift(x) for x in lines[4:9]]  # 5 frames: recovers within the grace
            target = results / DRIFTING / path.relative_to(results / OURS)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("".join(x + "\n" for x in lines))


def _vot(workspace: Path, *args: str) -> str:
    path = os.pathsep.join(p for p in (str(HERE), os.environ.get("PYTHONPATH", "")) if p)  # vot_multistart
    env = dict(os.environ, VOT_RESULTS_BINARY="false", PYTHONPATH=path)
    proc = subprocess.run([str(VOT_VENV / "bin" / "vot"), *args], cwd=workspace, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT_S)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    return output


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    """A workspace whose results our eval wrote (and Drifting's edits), analysed by vot-toolkit."""
    from siammask.datasets.synth import make_dataset

    root = tmp_path_factory.mktemp("votexp")
    dataset = make_dataset(root / "dataset", sequences=2, frames=FRAMES, size=(96, 96), seed=3)
    write_anchors(dataset, ANCHORS, FRAMES)
    workspace = root / "workspace"
    workspace.mkdir()
    (workspace / "stack.yaml").write_text(STACK)
    (workspace / "config.yaml").write_text(
        f"stack: {workspace / 'stack.yaml'}\nsequences: {dataset}\nregistry:\n  - ./trackers.ini\n"
    )
    # analysis only: the trackers are never started
    (workspace / "trackers.ini").write_text(
        "".join(f"[{n}]\nlabel = {n}\nprotocol = trax\ncommand = /bin/false\n" for n in (OURS, DRIFTING))
    )
    results = workspace / "results"
    for experiment in EXPERIMENTS:
        # the embedded default model: it tracks these sequences (the seeded one loses them at once),
        # so that runs that never fail, and Drifting's recoveries, take part
        code = main(["eval", "--dataset", str(dataset), "--backend", "onnxruntime", "--threads", "2",
                     "--results", str(results), "--tracker-name", OURS, "--experiment", experiment])
        assert code == 0
    _drifting_copy(results)
    _vot(workspace, "analysis", "--workspace", str(workspace), "--format", "json", OURS, DRIFTING)
    (report,) = sorted((workspace / "analysis").glob("*.json"))
    return dataset, results, json.loads(report.read_text())


def test_result_files_are_vot_toolkits_layout(analysed):
    """One file per anchor (8 digits) with its _time.value; backward runs as long as the frames they visit."""
    dataset, results, analysis = analysed
    assert analysis["trackers"] and set(analysis["results"]) == set(EXPERIMENTS.values())
    folder = results / OURS / "baseline" / "synth00"
    for anchor, direction in ANCHORS.items():
        run = folder / f"synth00_{anchor:08d}.txt"
        lines = run.read_text().splitlines()
        assert lines[0] == "1" and len(lines) == (anchor + 1 if direction < 0 else FRAMES - anchor)
        assert len((folder / f"synth00_{anchor:08d}_time.value").read_text().splitlines()) == len(lines)
    lines = (results / OURS / "unsupervised" / "synth00" / "synth00_001.txt").read_text().splitlines()
    assert len(lines) == FRAMES and lines[0] == "1"


@pytest.mark.parametrize("experiment", ["multistart", "realtime"])
def test_multistart_analyses_agree(analysed, experiment, tmp_path, capsys):
    """Accuracy, robustness, EAO (two intervals) and the EAO curve equal vot-toolkit's."""
    dataset_dir, results, analysis = analysed
    grids = analysis["results"][EXPERIMENTS[experiment]]["results"]
    out = tmp_path / "report.json"
    for interval, grid in ((INTERVAL, 1), (None, 2)):
        extra = ["--eao-interval", "{},{}".format(*interval)] if interval else []
        assert main(["report", "--dataset", str(dataset_dir), "--results", str(results), "--experiment", experiment,
                     "--tracker", OURS, "--tracker", DRIFTING, "--json", str(out), *extra]) == 0
        ours = json.loads(out.read_text())["trackers"]
        for row, name in enumerate((OURS, DRIFTING)):
            accuracy, robustness = grids[0][row][:2]  # a grid: one cell a tracker
            assert abs(ours[name]["accuracy"] - accuracy) < TOLERANCE, (name, ours[name]["accuracy"], accuracy)
            assert abs(ours[name]["robustness"] - robustness) < TOLERANCE, (name, ours[name]["robustness"], robustness)
            assert abs(ours[name]["eao"] - grids[grid][row][0]) < TOLERANCE, (name, interval, ours[name]["eao"])
    capsys.readouterr()
    drifting = json.loads(out.read_text())["trackers"][DRIFTING]
    assert drifting["robustness"] < 1.0, "Drifting's runs should fail"
    metrics = evaluate_folder(load_dataset(dataset_dir), results, experiment, [OURS, DRIFTING], INTERVAL)
    for row, name in enumerate((OURS, DRIFTING)):
        curve = np.array(grids[3][row][0], dtype=float)
        np.testing.assert_allclose(metrics[name].curve, curve, rtol=0, atol=TOLERANCE)


def test_unsupervised_average_overlap_agrees(analysed, tmp_path, capsys):
    dataset_dir, results, analysis = analysed
    (grid,) = analysis["results"]["unsupervised"]["results"]
    out = tmp_path / "report.json"
    assert main(["report", "--dataset", str(dataset_dir), "--results", str(results), "--experiment", "unsupervised",
                 "--tracker", OURS, "--tracker", DRIFTING, "--json", str(out)]) == 0
    capsys.readouterr()
    ours = json.loads(out.read_text())["trackers"]
    for row, name in enumerate((OURS, DRIFTING)):
        assert abs(ours[name]["average_overlap"] - grid[row][0]) < TOLERANCE, (name, ours[name], grid[row][0])
    assert abs(ours[DRIFTING]["average_overlap"] - ours[OURS]["average_overlap"]) > 1e-3, "the edits changed nothing"


EVALUATE_STACK = """\
title: vot-toolkit's own runs
experiments:
  baseline:
    type: vot_multistart.RunnableMultiStart
    analyses:
      - type: multistart_average_ar
      - type: multistart_eao_score
        low: 5
        high: 25
  unsupervised:
    type: unsupervised
    repetitions: 1
    analyses:
      - type: average_accuracy
        burnin: 1
"""
ROUNDING_UNIT = 1e-4  # our files' 4th decimal
FLOAT32_SLACK = 1e-5  # vot writes the float32 nearest the 4-decimal text it received


@pytest.fixture(scope="module")
def vot_evaluated(analysed, tmp_path_factory):
    """vot-toolkit runs our TraX server (the model and threads of our eval above), then analyses its files."""
    pytest.importorskip("trax", reason="the TraX server needs vot-trax here: pip install 'siammask[vot]'")
    import sys

    dataset, _, _ = analysed
    workspace = tmp_path_factory.mktemp("vot-evaluate")
    (workspace / "stack.yaml").write_text(EVALUATE_STACK)
    (workspace / "config.yaml").write_text(
        f"stack: {workspace / 'stack.yaml'}\nsequences: {dataset}\nregistry:\n  - ./trackers.ini\n"
    )
    (workspace / "trackers.ini").write_text(
        f"[{OURS}]\nlabel = {OURS}\nprotocol = trax\n"
        f"command = {sys.executable} -m siammask.cli trax --backend onnxruntime --threads 2\n"
    )
    log = _vot(workspace, "evaluate", "--workspace", str(workspace), OURS)
    assert "Evaluation concluded" in log, log[-4000:]
    _vot(workspace, "analysis", "--workspace", str(workspace), "--format", "json", OURS)
    (report,) = sorted((workspace / "analysis").glob("*.json"))
    return workspace / "results", json.loads(report.read_text())


def test_vot_evaluate_runs_are_ours(analysed, vot_evaluated):
    """vot's multistart (forward and backward anchors) and unsupervised trajectories equal our eval's."""
    _, ours, _ = analysed
    theirs, _ = vot_evaluated
    files = values = flips = 0
    for experiment in ("baseline", "unsupervised"):
        for path in sorted((theirs / OURS / experiment).glob("*/*[0-9].txt")):
            mine = (ours / OURS / path.relative_to(theirs / OURS)).read_text().splitlines()
            lines = path.read_text().splitlines()
            assert len(lines) == len(mine) and lines[0] == mine[0] == "1", path
            a = np.array([[float(v) for v in x.split(",")] for x in lines[1:]])
            b = np.array([[float(v) for v in x.split(",")] for x in mine[1:]])
            np.testing.assert_allclose(a, b, rtol=0, atol=ROUNDING_UNIT + FLOAT32_SLACK, err_msg=str(path))
            files += 1
            values += b.size
            flips += int(np.sum(np.abs(a - b) > ROUNDING_UNIT / 2 + FLOAT32_SLACK))
    assert files == 2 * len(ANCHORS) + 2
    assert flips <= 0.01 * values, f"{flips} of {values} values one unit of the 4th decimal apart"


def test_report_reads_vot_toolkits_own_files(analysed, vot_evaluated, tmp_path, capsys):
    dataset_dir, _, _ = analysed
    results, analysis = vot_evaluated
    out = tmp_path / "report.json"
    args = ["report", "--dataset", str(dataset_dir), "--results", str(results), "--json", str(out)]
    assert main([*args, "--experiment", "multistart", "--eao-interval", "{},{}".format(*INTERVAL)]) == 0
    ours = json.loads(out.read_text())["trackers"][OURS]
    ar, eao = analysis["results"]["baseline"]["results"]
    assert abs(ours["accuracy"] - ar[0][0]) < TOLERANCE and abs(ours["robustness"] - ar[0][1]) < TOLERANCE
    assert abs(ours["eao"] - eao[0][0]) < TOLERANCE
    assert main([*args, "--experiment", "unsupervised"]) == 0
    (accuracy,) = analysis["results"]["unsupervised"]["results"]
    assert abs(json.loads(out.read_text())["trackers"][OURS]["average_overlap"] - accuracy[0][0]) < TOLERANCE
    capsys.readouterr()


# vot-toolkit's RealtimeTrackerRuntime around a scripted runtime: which frames reach the tracker, what
# each frame gets back (the index of the call that produced it; -1 for the initialisation)
REALTIME_DRIVER = textwrap.dedent("""\
    import json, sys
    from vot.tracker import OnlineTrackerRuntime, RealtimeTrackerRuntime

    class Scripted(OnlineTrackerRuntime):
        def __init__(self, times):
            self._tracker, self.times, self.calls = None, times, 0
        def initialize(self, frame, new=None):
            self.calls = 1
            return -1, self.times[0]
        def update(self, frame, new=None):
            answer = self.calls
            self.calls += 1
            return answer, self.times[answer]
        def stop(self): pass
        def restart(self): pass

    out = []
    for grace, interval, times in json.load(sys.stdin):
        runtime = RealtimeTrackerRuntime(Scripted(times), grace, interval)
        answers = [runtime.initialize(None, [])[0]]
        answers += [runtime.update(None)[0] for _ in range(len(times) - 1)]
        out.append(answers)
    print(json.dumps(out))
""")


def test_realtime_clock_is_vot_toolkits(tmp_path, monkeypatch):
    """Scripted tracker times (some within the budget, some up to 3.5 frames over): the frames that go by
    and the answers they repeat are vot-toolkit's, for grace 0, 1 and 3."""
    from siammask.evaluation.votexp import protocol
    from siammask.evaluation.votexp.realtime import RealtimeClock

    rng = np.random.default_rng(7)
    interval = 1 / 30
    cases = [(grace, interval, (rng.uniform(0, 3.5, 40) * interval).tolist()) for grace in (0, 1, 3) for _ in range(3)]
    proc = subprocess.run([str(VOT_VENV / "bin" / "python"), "-c", REALTIME_DRIVER], input=json.dumps(cases),
                          capture_output=True, text=True, timeout=TIMEOUT_S)
    assert proc.returncode == 0, proc.stderr[-4000:]
    theirs = json.loads(proc.stdout)

    frame = tmp_path / "frame.png"
    import cv2

    cv2.imwrite(str(frame), np.zeros((24, 24, 3), np.uint8))
    for (grace, _, times), expected in zip(cases, theirs):
        tracker = _ScriptedTracker()
        monkeypatch.setattr(protocol, "time", SimpleNamespace(perf_counter=_ScriptedClock(times)))
        groundtruth = np.tile([[4.0, 4.0, 8.0, 8.0]], (len(times), 1))
        run = protocol.run_pass(tracker, [str(frame)] * len(times), groundtruth, list(range(len(times))),
                                RealtimeClock(grace, interval))
        answers = [-1] + [int(r[0]) - 100 if r != [4.0, 4.0, 8.0, 8.0] else -1 for r in run.regions[1:]]
        assert answers == expected, (grace, times)
        assert run.skipped == sum(1 for a, b in zip(expected[1:], expected[:-1]) if a == b)
    assert any(a == b for case in theirs for a, b in zip(case[1:], case[:-1])), "no frame went by: a weak script"


class _ScriptedTracker:
    """Answers call k (1, 2, ...) with a polygon whose first value is 100 + k."""

    def __init__(self) -> None:
        self.calls = 0

    def init(self, frame, region) -> None:  # noqa: ANN001
        self.calls = 1

    def track(self, frame):  # noqa: ANN001, ANN201
        answer = self.calls
        self.calls += 1
        return type("Result", (), {"polygon": np.array([[100.0 + answer, 0], [1, 0], [1, 1], [0, 1]])})()


class _ScriptedClock:
    """perf_counter for run_pass: three readings a tracked frame (start, before and after the tracker
    call); call k takes times[k] between its last two."""

    def __init__(self, times: list[float]) -> None:
        self.times, self.now, self.readings, self.call = times, 0.0, 0, 0

    def __call__(self) -> float:
        self.readings += 1
        if self.readings % 3 == 0:
            self.now += self.times[self.call]
            self.call += 1
        return self.now
