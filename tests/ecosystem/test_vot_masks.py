"""VOT2020's mask regions: our reading of vot-toolkit's mask lines and our overlaps with a mask on
either side equal vot-toolkit 0.9's own (`vot.region.io.parse_region`,
`vot.region.raster.calculate_overlaps`), run here in its virtualenv (build/vot-venv or
SIAMMASK_VOT_VENV; skipped without it) on the same lines.

The pairs: random masks (offsets inside, across and outside the image, empty ones, a full one),
rectangles, polygons and codes, each against each, bounded by a 60x50 image and unbounded."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from siammask.evaluation.vot.results import MaskRegion, format_mask_region, parse_mask_region, parse_region
from siammask.evaluation.vot.toolkit_region import toolkit_overlaps

REPO = Path(__file__).resolve().parents[2]
TOLERANCE = 1e-12
SIZE = (60, 50)


def _vot_python() -> Path | None:
    configured = os.environ.get("SIAMMASK_VOT_VENV")
    venv = Path(configured) if configured else REPO / "build" / "vot-venv"
    python = venv / "bin" / "python"
    return python if python.is_file() else None


VOT_PYTHON = _vot_python()


def _lines(seed: int = 7) -> list[str]:
    rng = np.random.default_rng(seed)
    lines = ["m0,0,0,0,0", "m5,5,3,3,9", "m5,5,3,3,0,1,2,1,2,1,2", "m-4,-3,70,60,0,4200", "m58,48,6,6,0,36",
             "m100,100,4,4,0,16", "1", "0"]
    for _ in range(14):
        w, h = int(rng.integers(1, 25)), int(rng.integers(1, 25))
        x, y = int(rng.integers(-10, 55)), int(rng.integers(-10, 45))
        mask = (rng.random((h, w)) < rng.uniform(0.2, 0.9)).astype(np.uint8)
        lines.append(format_mask_region(MaskRegion(mask, (x, y))))
    for _ in range(6):
        x, y = rng.uniform(-8, 55, 2)
        w, h = rng.uniform(0.5, 30, 2)
        lines.append(",".join(f"{v:.4f}" for v in (x, y, w, h)))
    for _ in range(6):
        cx, cy = rng.uniform(0, 60), rng.uniform(0, 50)
        angle = rng.uniform(0, np.pi)
        a, b = rng.uniform(2, 20, 2)
        corners = [(cx + a * np.cos(angle + k * np.pi / 2) * (1 if k % 2 else 0.6),
                    cy + b * np.sin(angle + k * np.pi / 2)) for k in range(4)]
        lines.append(",".join(f"{v:.4f}" for p in corners for v in p))
    return lines


def _region(line: str):
    return parse_mask_region(line, "test") if line.startswith("m") else parse_region(line, "test")


def _ours(lines: list[str], bounds) -> list[float]:
    a = [_region(x) for x in lines for _ in lines]
    b = [_region(y) for _ in lines for y in lines]
    a = [r if isinstance(r, MaskRegion) else np.atleast_1d(np.asarray(r, dtype=np.float64)) for r in a]
    b = [r if isinstance(r, MaskRegion) else np.atleast_1d(np.asarray(r, dtype=np.float64)) for r in b]
    return toolkit_overlaps(a, b, bounds).tolist()


def test_mask_lines_round_trip():
    mask = parse_mask_region("m10,20,3,2,1,2,3", "t")  # rows 011, 000: read cropped to its pixels
    assert mask.offset == (11, 20) and mask.mask.tolist() == [[1, 1]]
    assert mask.bounds == (11, 20, 12, 20) and mask.box() == (11.0, 20.0, 2.0, 1.0)
    # as vot-toolkit reads them: no pixel, or pixels in the first column only, is an empty mask at (0, 0)
    for line in ("m5,5,3,3,9", "m5,5,3,3,0,1,2,1,2,1,2"):
        empty = parse_mask_region(line, "t")
        assert empty.is_empty and empty.offset == (0, 0) and empty.mask.shape == (0, 0)
    assert format_mask_region(mask) == "m11,20,2,1,0,2"
    assert parse_mask_region(format_mask_region(mask), "t").mask.tolist() == [[1, 1]]
    assert format_mask_region(parse_mask_region("m0,0,2,2,0,4", "t")) == "m0,0,2,2,0,4"


@pytest.mark.parametrize("line, fragment", [
    ("m1,2,3", "m<x>,<y>,<width>,<height>"),
    ("m1,2,3,x", "integers only"),
    ("m0,0,2,2,1,9", "exceed its 2x2 size"),
    ("m0,0,-2,2,0", "negative or too large"),
    ("m0,0,100000,100000,0", "negative or too large"),
])
def test_bad_mask_lines_are_one_line_errors(line, fragment):
    from siammask.errors import SiamMaskError

    with pytest.raises(SiamMaskError, match="f.txt:3") as info:
        parse_mask_region(line, "f.txt:3")
    assert fragment in str(info.value) and "\n" not in str(info.value)


@pytest.mark.skipif(VOT_PYTHON is None, reason="vot-toolkit's virtualenv is not set up (scripts/setup_vot_env.sh)")
def test_mask_overlaps_equal_vot_toolkits(tmp_path):
    lines = _lines()
    (tmp_path / "regions.json").write_text(json.dumps(lines))
    script = (
        "import json, sys\n"
        "from vot.region.io import parse_region\n"
        "from vot.region.raster import calculate_overlaps\n"
        "lines = json.load(open(sys.argv[1]))\n"
        "a = [parse_region(x) for x in lines for _ in lines]\n"
        "b = [parse_region(y) for _ in lines for y in lines]\n"
        "print(json.dumps({'bounded': calculate_overlaps(a, b, (60, 50)), 'free': calculate_overlaps(a, b)}))\n"
    )
    done = subprocess.run([str(VOT_PYTHON), "-c", script, str(tmp_path / "regions.json")], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    for key, bounds in (("bounded", SIZE), ("free", None)):
        ours = np.array(_ours(lines, bounds))
        want = np.array(theirs[key], dtype=np.float64)
        assert ours.shape == want.shape
        worst = np.abs(ours - want).max()
        assert worst <= TOLERANCE, (key, worst, [(lines[i // len(lines)], lines[i % len(lines)], ours[i], want[i])
                                                 for i in np.flatnonzero(np.abs(ours - want) > TOLERANCE)[:5]])
    assert 0 < np.mean(np.array(theirs["bounded"]) > 0) < 1  # the pairs overlap in part, not all or none


# --------------------------------------------------------------------------------------------
# A VOT2020-style dataset: mask ground truth; `siammask eval` runs vot-toolkit's experiments on it
# (answering with masks, as our TraX server answers a mask-initialised client) and `siammask report`
# scores them as `vot analysis` does (ours, and a tracker answering with rectangles).

FRAMES = 30
BOXES = "Boxes"


def _mask_dataset(root: Path) -> Path:
    """synth's VOT sequences with each polygon's pixels written as a vot-toolkit mask line."""
    import cv2

    from siammask.datasets.synth import make_dataset
    from tests.ecosystem.test_vot_experiments import ANCHORS, write_anchors

    dataset = make_dataset(root, sequences=2, frames=FRAMES, size=(96, 96), seed=3)
    for name in (dataset / "list.txt").read_text().split():
        lines = []
        for row in np.loadtxt(dataset / name / "groundtruth.txt", delimiter=","):
            canvas = np.zeros((96, 96), dtype=np.uint8)
            cv2.fillPoly(canvas, [np.round(row.reshape(-1, 2)).astype(np.int32)], 1)
            lines.append(format_mask_region(MaskRegion(canvas, (0, 0))))
        (dataset / name / "groundtruth.txt").write_text("".join(x + "\n" for x in lines))
    write_anchors(dataset, ANCHORS, FRAMES)
    return dataset


def _as_box(line: str) -> str:
    """A result line's mask as its bounding rectangle x,y,w,h (codes kept)."""
    if not line.startswith("m"):
        return line
    region = parse_mask_region(line, "test")
    return "0" if region.is_empty else ",".join(f"{v:.4f}" for v in region.box())


def test_mask_dataset_is_refused_where_boxes_are_needed(tmp_path, capsys):
    from siammask.cli import main
    from siammask.datasets.vot import load_dataset
    from siammask.errors import SiamMaskError

    dataset = _mask_dataset(tmp_path / "vot2020")
    with pytest.raises(SiamMaskError, match="mask ground truth .VOT2020 on.; vot-toolkit's experiments score it"):
        load_dataset(dataset)
    seq = load_dataset(dataset, masks=True)["synth00"]
    assert len(seq.scored) == FRAMES and isinstance(seq.scored[0], MaskRegion)
    assert np.isfinite(seq.groundtruth).all() and seq.groundtruth.shape == (FRAMES, 4)  # the masks' boxes
    code = main(["eval", "--dataset", str(dataset), "--results", str(tmp_path / "r"), "--experiment", "baseline"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "mask ground truth" in err and "--experiment multistart" in err
    assert not (tmp_path / "r").exists()


@pytest.mark.skipif(VOT_PYTHON is None, reason="vot-toolkit's virtualenv is not set up (scripts/setup_vot_env.sh)")
def test_mask_groundtruth_experiments_equal_vot_analysis(tmp_path, capsys):
    from siammask.cli import main
    from tests.ecosystem.test_vot_experiments import EXPERIMENTS, INTERVAL, OURS, STACK, TOLERANCE, _vot

    dataset = _mask_dataset(tmp_path / "vot2020")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "stack.yaml").write_text(STACK)
    (workspace / "config.yaml").write_text(
        f"stack: {workspace / 'stack.yaml'}\nsequences: {dataset}\nregistry:\n  - ./trackers.ini\n")
    (workspace / "trackers.ini").write_text(
        "".join(f"[{n}]\nlabel = {n}\nprotocol = trax\ncommand = /bin/false\n" for n in (OURS, BOXES)))
    results = workspace / "results"
    # no --experiment: a mask dataset's default is multistart (vot-toolkit's baseline); then the other two
    assert main(["eval", "--dataset", str(dataset), "--backend", "onnxruntime", "--threads", "2",
                 "--results", str(results), "--tracker-name", OURS]) == 0
    lines = (results / OURS / "baseline" / "synth00" / "synth00_00000000.txt").read_text().splitlines()
    assert lines[0] == "1" and all(x.startswith("m") for x in lines[1:])  # masks, as over TraX
    for experiment in ("realtime", "unsupervised"):
        assert main(["eval", "--dataset", str(dataset), "--backend", "onnxruntime", "--threads", "2",
                     "--results", str(results), "--tracker-name", OURS, "--experiment", experiment]) == 0
    for path in sorted((results / OURS).rglob("*")):
        target = results / BOXES / path.relative_to(results / OURS)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif path.name.endswith(".txt"):
            target.write_text("".join(_as_box(x) + "\n" for x in path.read_text().splitlines()))
        else:
            target.write_bytes(path.read_bytes())
    _vot(workspace, "analysis", "--workspace", str(workspace), "--format", "json", OURS, BOXES)
    (report,) = sorted((workspace / "analysis").glob("*.json"))
    analysis = json.loads(report.read_text())
    capsys.readouterr()
    out = tmp_path / "report.json"
    figures = {}
    for experiment in ("multistart", "realtime"):
        grids = analysis["results"][EXPERIMENTS[experiment]]["results"]
        assert main(["report", "--dataset", str(dataset), "--results", str(results), "--experiment", experiment,
                     "--tracker", OURS, "--tracker", BOXES, "--json", str(out),
                     "--eao-interval", "{},{}".format(*INTERVAL)]) == 0
        ours = json.loads(out.read_text())["trackers"]
        for row, name in enumerate((OURS, BOXES)):
            accuracy, robustness = grids[0][row][:2]
            assert abs(ours[name]["accuracy"] - accuracy) < TOLERANCE, (experiment, name, ours[name], accuracy)
            assert abs(ours[name]["robustness"] - robustness) < TOLERANCE, (experiment, name, robustness)
            assert abs(ours[name]["eao"] - grids[1][row][0]) < TOLERANCE, (experiment, name, ours[name]["eao"])
            figures[experiment, name] = ours[name]["accuracy"]
    (grid,) = analysis["results"]["unsupervised"]["results"]
    assert main(["report", "--dataset", str(dataset), "--results", str(results), "--experiment", "unsupervised",
                 "--tracker", OURS, "--tracker", BOXES, "--json", str(out)]) == 0
    ours = json.loads(out.read_text())["trackers"]
    for row, name in enumerate((OURS, BOXES)):
        assert abs(ours[name]["average_overlap"] - grid[row][0]) < TOLERANCE, (name, ours[name], grid[row][0])
    # the tracker follows the targets, and the rectangles score apart from the masks they were drawn from
    assert 0.3 < figures["multistart", OURS] < 1 and figures["multistart", OURS] != figures["multistart", BOXES]



def test_a_run_from_an_empty_mask_is_refused_in_one_line(tmp_path):
    import cv2

    from siammask.errors import SiamMaskError
    from siammask.evaluation.votexp.protocol import run_pass

    frames = []
    for name in ("a.jpg", "b.jpg"):
        cv2.imwrite(str(tmp_path / name), np.zeros((20, 20, 3), np.uint8))
        frames.append(str(tmp_path / name))
    empty = parse_mask_region("m0,0,0,0,0", "t")
    with pytest.raises(SiamMaskError, match=r"ground truth line 2 \(frame 1, .*b.jpg\): the target's mask is empty"):
        run_pass(None, frames, np.full((2, 4), np.nan), [1, 0], masks=[empty, empty])  # type: ignore[arg-type]


def test_a_rerun_keeps_mask_results(tmp_path, capsys):
    """Resuming on a mask dataset: the earlier run's mask lines are read as results and kept."""
    from siammask.cli import main

    dataset = _mask_dataset(tmp_path / "vot2020")
    command = ["eval", "--dataset", str(dataset), "--backend", "onnxruntime", "--threads", "2",
               "--results", str(tmp_path / "r"), "--experiment", "unsupervised"]
    assert main(command) == 0
    run = tmp_path / "r" / "SiamMask_onnxruntime" / "unsupervised" / "synth00" / "synth00_001.txt"
    assert run.read_text().splitlines()[1].startswith("m")
    before = run.stat().st_mtime_ns
    capsys.readouterr()
    assert main(command) == 0
    assert "kept 2 of 2 sequences" in capsys.readouterr().out and run.stat().st_mtime_ns == before
