"""The --masks label-map folder: filled hidden, renamed into place whole, never over new files."""

from __future__ import annotations

import os
import stat

import pytest

from siammask.errors import SiamMaskError
from siammask.files import current_umask
from siammask.io.mask_output import LabelMapWriter
from siammask.tracking.tracker import init_result

SIZE = (16, 12)


def _write_two_frames(writer: LabelMapWriter) -> None:
    box = init_result([2, 3, 6, 5])
    writer.write(0, [box], init=True)
    writer.write(1, [box])


def test_folder_appears_whole_with_the_umask_mode(tmp_path):
    folder = tmp_path / "masks"
    folder.mkdir()  # an empty folder is replaced by the finished one
    with LabelMapWriter(folder, SIZE) as writer:
        _write_two_frames(writer)
        assert sorted(p.name for p in folder.iterdir()) == []  # nothing visible until the end
    assert sorted(p.name for p in folder.iterdir()) == ["00000.png", "00001.png"]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o777 & ~current_umask()
    assert [p.name for p in tmp_path.iterdir()] == ["masks"]  # no staging folder left


def test_files_that_appeared_meanwhile_are_kept(tmp_path):
    """The folder was empty when the run began; a file put there since is not deleted by the rename."""
    folder = tmp_path / "masks"
    folder.mkdir()
    writer = LabelMapWriter(folder, SIZE)
    _write_two_frames(writer)
    (folder / "mine.txt").write_text("keep me")
    with pytest.raises(SiamMaskError, match="--masks .*cannot be written"):
        writer.close()
    assert [p.name for p in folder.iterdir()] == ["mine.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["masks"]  # the staging folder is removed


def test_abort_leaves_nothing(tmp_path):
    writer = LabelMapWriter(tmp_path / "masks", SIZE)
    _write_two_frames(writer)
    writer.abort()
    assert os.listdir(tmp_path) == []


def test_absent_target_takes_no_pixel():
    """Label maps and region masks leave an absent target out: its own mask counts for nothing, and
    where it overlapped a present target that target keeps the pixels."""
    import dataclasses

    import numpy as np

    from siammask.io.mask_output import frame_labels, region_mask
    from siammask.tracking.geometry import box_corners
    from siammask.tracking.mask import PastedMask
    from siammask.tracking.tracker import TrackResult

    def result(x, value, present=True):
        values = np.full((6, 6), value, np.float32)
        box = np.array([x, 2, 6, 6], float)
        return TrackResult(box_corners(box), box, 0.9, PastedMask(values, (x, 2, 6, 6), SIZE), 36, True,
                           present=present)

    strong, weak = result(4, 0.9), result(2, 0.6)  # overlap on columns 4..7: the stronger (0) wins there
    np.testing.assert_array_equal(np.unique(frame_labels([strong, weak], SIZE)), [0, 1, 2])
    labels = frame_labels([dataclasses.replace(strong, present=False), weak], SIZE)
    assert not (labels == 1).any() and (labels[2:8, 2:8] == 2).all()  # target 1 takes the freed pixels
    assert region_mask(dataclasses.replace(weak, present=False), SIZE).sum() == 0
    no_mask = dataclasses.replace(init_result([2, 3, 6, 5]), present=False)
    assert region_mask(no_mask, SIZE).sum() == 0 and region_mask(init_result([2, 3, 6, 5]), SIZE).sum() > 0
