"""Each annotation format written from made-up results and read back: by Datumaro where it has an
importer (CVAT for video 1.1, MOTS, COCO), by Pillow for the Annotations/ layout. Polygons within
0.01 px (written with 4 decimals), masks pixel-equal to what the label maps and RLE of `track` hold."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest
from PIL import Image

from siammask.errors import SiamMaskError
from siammask.io.annotations.formats import check_annotation_output, open_annotation_writer
from siammask.io.mask_output import frame_labels, region_mask
from siammask.tracking.keyframes import Keyframe, plan
from siammask.tracking.session import absent_result
from siammask.tracking.tracker import TrackResult, init_result

SIZE = (96, 80)  # width, height
FRAMES = 6
POLY_TOL_PX = 0.01


def rotated(cx: float, cy: float, w: float, h: float, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    corners = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    return corners @ np.array([[c, s], [-s, c]]) + [cx, cy]


def tracked(polygon: np.ndarray, present: bool = True) -> TrackResult:
    xy = polygon.reshape(-1, 2)
    box = np.array([*xy.min(0), *(xy.max(0) - xy.min(0))])
    return TrackResult(polygon, box, 0.9, None, 0, True, present=present)


KEYS = [Keyframe(0, 0, (10.0, 12.0, 20.0, 16.0)), Keyframe(2, 1, (50.0, 40.0, 18.0, 22.0))]
PLAN = plan(KEYS, "forward", FRAMES)


def results_at(frame: int) -> list[TrackResult]:
    """Target 0 from frame 0, target 1 from frame 2, judged absent on frame 4."""
    moved = rotated(20 + 3 * frame, 20 + frame, 20, 14, 0.1 * frame)
    first = init_result(KEYS[0].region) if frame == 0 else tracked(moved)
    if frame < 2:
        second = absent_result()
    elif frame == 2:
        second = init_result(KEYS[1].region)
    else:
        second = tracked(rotated(59 - frame, 51, 16, 24, -0.2 * frame), present=frame != 4)
    return [first, second]


def shown(frame: int, target: int) -> bool:
    return not (target == 1 and (frame < 2 or frame == 4))


def write(fmt: str, path, rle: bool = False):
    chosen, checked = check_annotation_output(path, fmt)
    writer = open_annotation_writer(chosen, checked, PLAN, "clip.mp4", SIZE, rle)
    with writer:
        for frame in range(FRAMES):
            writer.write(frame, results_at(frame), init=frame == 0)
    return checked


def test_cvat_polygons_tracks_keyframes_outside_through_datumaro(tmp_path, datumaro_import):
    path = write("cvat", tmp_path / "ann.xml")
    items = {int(i["attributes"]["frame"]): i for i in datumaro_import(path, "cvat")}
    assert sorted(items) == list(range(FRAMES))
    for frame in range(FRAMES):
        by_track = {int(a["attributes"]["track_id"]): a for a in items[frame]["annotations"]}
        assert set(by_track) == ({0} if frame < 2 else {0, 1})  # a track starts at its first region
        for k, ann in by_track.items():
            assert ann["type"] == "polygon"
            assert ann["attributes"]["keyframe"] is True  # every shape: CVAT's importer keeps only keyframes
            assert ann["attributes"]["outside"] == (not shown(frame, k))
            if shown(frame, k):
                want = np.asarray(results_at(frame)[k].polygon, float).ravel()
                np.testing.assert_allclose(ann["points"], want, atol=POLY_TOL_PX)


def cvat_import_keeps(root: ElementTree.Element) -> dict[int, set[int]]:
    """CVAT 2.x's import rule for a CVAT for video 1.1 track (formats/cvat.py, load_anno): a shape is
    kept only when keyframe="1", the rest is interpolated from those. Track id -> frames kept."""
    return {int(t.get("id")): {int(s.get("frame")) for s in t if s.get("keyframe") == "1"}
            for t in root.findall("track")}


@pytest.mark.parametrize("rle", [False, True])
def test_cvat_import_keeps_every_tracked_frame_and_the_source_tells_the_keyframes(tmp_path, rle):
    """Every written shape survives CVAT's keyframes-only import; source="manual" marks exactly the
    plan's keyframes, source="auto" the tracked frames (CVAT does not read a shape's source)."""
    root = ElementTree.parse(write("cvat", tmp_path / "ann.xml", rle=rle)).getroot()
    written = {int(t.get("id")): {int(s.get("frame")) for s in t} for t in root.findall("track")}
    assert written == {0: set(range(FRAMES)), 1: set(range(2, FRAMES))}
    assert cvat_import_keeps(root) == written
    for track in root.findall("track"):
        k = int(track.get("id"))
        for shape in track:
            manual = PLAN.keyframe_at(int(shape.get("frame")), k) is not None
            assert shape.get("source") == ("manual" if manual else "auto")


def test_cvat_masks_with_rle_decode_to_the_masks(tmp_path):
    """Datumaro 1.13 cannot read a <mask> inside a <track> (it looks for an <image>'s size and fails),
    so CVAT's own RLE is decoded here: runs row by row over the box, zeros first."""
    root = ElementTree.parse(write("cvat", tmp_path / "ann.xml", rle=True)).getroot()
    width, height = SIZE
    for track in root.findall("track"):
        k = int(track.get("id"))
        for shape in track.findall("mask"):
            frame = int(shape.get("frame"))
            if shape.get("outside") == "1":
                assert not shown(frame, k)
                continue
            left, top, w, h = (int(shape.get(n)) for n in ("left", "top", "width", "height"))
            runs = [int(v) for v in shape.get("rle").split(",")]
            flat = np.concatenate([np.full(n, i % 2, np.uint8) for i, n in enumerate(runs)])
            mask = np.zeros((height, width), np.uint8)
            mask[top:top + h, left:left + w] = flat.reshape(h, w)
            np.testing.assert_array_equal(mask, region_mask(results_at(frame)[k], SIZE))


def test_mots_instances_through_datumaro(tmp_path, datumaro_import):
    path = write("mots", tmp_path / "mots")
    items = {i["id"]: i for i in datumaro_import(path, "mots")}
    assert sorted(items) == [f"clip/{f:06d}" for f in range(FRAMES)]
    for frame in range(FRAMES):
        labels = frame_labels([r if shown(frame, k) else absent_result() for k, r in enumerate(results_at(frame))],
                              SIZE)
        got = {int(a["attributes"]["track_id"]): a["pixels"] for a in items[f"clip/{frame:06d}"]["annotations"]}
        assert set(got) == {k for k in (0, 1) if shown(frame, k)}
        for k, (ys, xs) in got.items():
            want = np.nonzero(labels == k + 1)
            assert (ys, xs) == (want[0].tolist(), want[1].tolist())
    lines = (path / "instances_txt" / "clip.txt").read_text().splitlines()
    assert len(lines) == sum(shown(f, k) for f in range(FRAMES) for k in (0, 1))
    assert lines[0].split()[:5] == ["0", "1000", "1", "80", "96"]  # frame, class*1000+instance, class, h, w


def test_coco_masks_and_track_ids_through_datumaro(tmp_path, datumaro_import):
    path = write("coco", tmp_path / "coco")
    items = {i["id"]: i for i in datumaro_import(path, "coco")}
    assert sorted(items) == [f"frame_{f:06d}" for f in range(FRAMES)]
    for frame in range(FRAMES):
        anns = items[f"frame_{frame:06d}"]["annotations"]  # Datumaro gives each mask's bbox beside it
        got = {int(a["attributes"]["track_id"]): a for a in anns if a["type"] == "mask"}
        assert set(got) == {k for k in (0, 1) if shown(frame, k)}
        for k, ann in got.items():
            assert ann["attributes"]["keyframe"] == (PLAN.keyframe_at(frame, k) is not None)
            want = np.nonzero(region_mask(results_at(frame)[k], SIZE))
            assert ann["pixels"] == [want[0].tolist(), want[1].tolist()]


def test_annotations_layout_holds_the_label_maps_and_meta(tmp_path):
    path = write("vos", tmp_path / "vos")
    for frame in range(FRAMES):
        labels = frame_labels([r if shown(frame, k) else absent_result() for k, r in enumerate(results_at(frame))],
                              SIZE)
        with Image.open(path / "Annotations" / "clip" / f"{frame:05d}.png") as image:
            assert image.mode == "P"
            np.testing.assert_array_equal(np.asarray(image), labels)
    meta = json.loads((path / "meta.json").read_text())
    assert meta["videos"]["clip"]["objects"]["2"]["frames"] == ["00002", "00003", "00005"]


@pytest.mark.parametrize("fmt, name", [("cvat", "a.xml"), ("mots", "m"), ("vos", "v"), ("coco", "c")])
def test_a_failed_run_leaves_nothing(tmp_path, fmt, name):
    chosen, checked = check_annotation_output(tmp_path / name, fmt)
    with pytest.raises(RuntimeError):
        with open_annotation_writer(chosen, checked, PLAN, "clip.mp4", SIZE) as writer:
            writer.write(0, results_at(0), init=True)
            raise RuntimeError("the run failed")
    assert list(tmp_path.iterdir()) == []


def test_outputs_are_refused_before_tracking(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(SiamMaskError, match=r"--output \(mots\) .*not empty"):
        check_annotation_output(tmp_path / "full", "mots")
    with pytest.raises(SiamMaskError, match="unknown extension .* --format"):
        check_annotation_output(tmp_path / "out.yaml", None)
    assert check_annotation_output(tmp_path / "a.xml", "mots")[0] == "cvat"  # a file's suffix wins
