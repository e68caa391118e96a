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
