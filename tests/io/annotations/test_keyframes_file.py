"""`track --keyframes`: CSV rows and CVAT for video 1.1 XML (its keyframes) read into Keyframes;
bad files refused in one line naming the file and the line or shape."""

from __future__ import annotations

import pytest

from siammask.errors import SiamMaskError
from siammask.io.annotations.formats import open_annotation_writer
from siammask.io.annotations.keyframes_file import read_keyframes
from siammask.tracking.keyframes import Keyframe
from tests.io.annotations.test_formats import FRAMES, PLAN, SIZE, results_at


def test_csv_with_header_boxes_polygons_and_an_end_mark(tmp_path):
    path = tmp_path / "k.csv"
    path.write_text("frame,target,x,y,w,h\n0,0,10,12,20,16\n\n4,1,1,2,9,2,9,8,1,8\n7,0\n9,0,,,,\n")
    assert read_keyframes(path) == [
        Keyframe(0, 0, (10.0, 12.0, 20.0, 16.0)), Keyframe(4, 1, (1.0, 2.0, 9.0, 2.0, 9.0, 8.0, 1.0, 8.0)),
        Keyframe(7, 0, None), Keyframe(9, 0, None)]


def test_csv_without_header(tmp_path):
    (tmp_path / "k.csv").write_text("3,0,1,1,5,5\n")
    assert read_keyframes(tmp_path / "k.csv") == [Keyframe(3, 0, (1.0, 1.0, 5.0, 5.0))]


def test_cvat_xml_round_trip_gives_the_plans_keyframes(tmp_path):
    """What track writes as CVAT XML, read back as --keyframes: exactly its keyframes (to 4 decimals)."""
    path = tmp_path / "ann.xml"
    with open_annotation_writer("cvat", path, PLAN, "clip.mp4", SIZE) as writer:
        for frame in range(FRAMES):
            writer.write(frame, results_at(frame))
    got = read_keyframes(path)
    assert [(k.frame, k.target) for k in got] == [(k.frame, k.target) for k in PLAN.keyframes]
    for key, want in zip(got, PLAN.keyframes):  # a box keyframe comes back as its 4 corners
        x, y, w, h = want.region
        assert key.region == (x, y, x + w, y, x + w, y + h, x, y + h)


def test_cvat_boxes_rotated_boxes_and_outside(tmp_path):
    path = tmp_path / "a.xml"
    path.write_text(
        '<annotations><version>1.1</version><track id="5" label="car">'
        '<box frame="2" keyframe="1" outside="0" xtl="10" ytl="20" xbr="30" ybr="60"/>'
        '<box frame="3" keyframe="0" outside="0" xtl="11" ytl="20" xbr="31" ybr="60"/>'
        '<box frame="8" keyframe="1" outside="1" xtl="11" ytl="20" xbr="31" ybr="60"/></track>'
        '<track id="9" label="car"><box frame="1" keyframe="1" outside="0" xtl="0" ytl="0" xbr="10" ybr="20" '
        'rotation="90"/></track></annotations>')
    keys = read_keyframes(path)
    assert keys[:2] == [Keyframe(2, 0, (10.0, 20.0, 20.0, 40.0)), Keyframe(8, 0, None)]
    rotated = keys[2]
    assert (rotated.frame, rotated.target) == (1, 1)
    assert sorted(round(v, 6) + 0.0 for v in rotated.region[0::2]) == [-5, -5, 15, 15]  # 20 wide once turned


def test_cvat_xml_keyframes_are_the_shapes_not_marked_auto(tmp_path):
    """Our tracked frames are keyframe="1" source="auto" (for CVAT's importer): not keyframes here;
    a shape a person set (source="manual", or no source as CVAT exports it) is one, outside ones too."""
    path = tmp_path / "a.xml"
    path.write_text(
        '<annotations><version>1.1</version><track id="0" label="target" source="auto">'
        '<polygon frame="0" keyframe="1" outside="0" points="1,1;9,1;9,9;1,9" source="manual"/>'
        '<polygon frame="1" keyframe="1" outside="0" points="2,1;10,1;10,9;2,9" source="auto"/>'
        '<polygon frame="2" keyframe="1" outside="1" points="2,1;10,1;10,9;2,9" source="auto"/>'
        '<polygon frame="3" keyframe="1" outside="0" points="4,1;12,1;12,9;4,9"/>'
        '<polygon frame="4" keyframe="1" outside="1" points="4,1;12,1;12,9;4,9" source="manual"/>'
        '</track></annotations>')
    got = read_keyframes(path)
    assert [(k.frame, k.region is None) for k in got] == [(0, False), (3, False), (4, True)]


@pytest.mark.parametrize("name, text, fragment", [
    ("k.csv", "", "no keyframe"),
    ("k.csv", "frame,target\n0,0,1,2,3\n", "line 2: expected x,y,w,h or 8 polygon values, got 3"),
    ("k.csv", "0,0,1,2,3,4\nx,0,1,2,3,4\n", "line 2: expected numbers"),
    ("k.csv", "0.5,0,1,2,3,4\n", "line 1: expected frame,target (whole numbers)"),
    ("k.csv", "0,0,1,2,0,4\n", "line 1: "),
    ("k.xml", "<annotations><track", "not XML"),
    ("k.xml", "<annotations/>", "no <track>"),
    ("k.xml", '<annotations><track id="1"><polygon frame="x" keyframe="1" points="1,2"/></track></annotations>',
     "track 1 frame x: a <polygon> with missing or bad values"),
])
def test_bad_files_are_refused_in_one_line(tmp_path, name, text, fragment):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(SiamMaskError) as info:
        read_keyframes(path)
    message = str(info.value)
    assert message.startswith(f"--keyframes {path}") and fragment in message and "\n" not in message
