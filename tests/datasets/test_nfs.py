"""NFS in its public layout: SEQ/30/SEQ/00001.jpg and SEQ/30/SEQ.txt (xmin ymin xmax ymax rows,
often at 240 fps)."""

from __future__ import annotations

import numpy as np
import pytest

from siammask.datasets.formats import NFS, detect_format, format_of
from siammask.datasets.nfs import NFSDataset, load_nfs
from siammask.errors import SiamMaskError
from tests.datasets.onepass_files import write_frames


def _rows(count: int, lost: int = 0) -> str:
    return "".join(f'1 {10 + i} 20 {30 + i} 45 {i + 1} {lost} {i % 2} 0 "person"\n' for i in range(count))


def _nfs(root, name, frames, text, fps=30):
    write_frames(root / name / str(fps) / name, range(1, frames + 1), 5)
    (root / name / str(fps) / f"{name}.txt").write_text(text)


def test_rows_at_the_frame_rate_are_boxes(tmp_path):
    _nfs(tmp_path, "Gymnastics", 4, _rows(4))
    assert detect_format(tmp_path) is NFS
    dataset = NFS.load(tmp_path)
    assert isinstance(dataset, NFSDataset) and format_of(dataset) is NFS and dataset.name == "NFS30"
    seq = dataset["Gymnastics"]
    assert seq.groundtruth.tolist() == [[10 + i, 20, 20, 25] for i in range(4)]  # x, y, xmax-xmin, ymax-ymin
    assert seq.tags["occluded"].tolist() == [False, True, False, True] and not seq.tags["lost"].any()
    assert seq.frames[0].name == "00001.jpg" and seq.source == "Gymnastics"


def test_240_fps_rows_are_read_every_8th_and_one_off_is_cut(tmp_path):
    _nfs(tmp_path, "airboard_1", 5, _rows(40))  # 8 rows a frame
    _nfs(tmp_path, "bee", 5, _rows(37))  # about 8 a frame: rows 0, 8, 16, 24, 32
    _nfs(tmp_path, "car", 6, _rows(5))  # one frame more than rows: cut to 5
    dataset = load_nfs(tmp_path)
    assert dataset.names == ["airboard_1", "bee", "car"]
    assert dataset["airboard_1"].groundtruth[:, 0].tolist() == [10, 18, 26, 34, 42]
    assert len(dataset["bee"]) == 5 and len(dataset["car"]) == 5 and len(dataset["car"].frames) == 5


def test_240_fps_folder(tmp_path):
    _nfs(tmp_path, "bee", 3, _rows(3), fps=240)
    assert detect_format(tmp_path) is NFS
    assert load_nfs(tmp_path, fps=240).name == "NFS240"
    with pytest.raises(SiamMaskError, match=r"no NFS annotation \(SEQ/30/SEQ.txt\)"):
        load_nfs(tmp_path)
    with pytest.raises(SiamMaskError, match=r"NFS frame rate 60"):
        load_nfs(tmp_path, fps=60)


def test_bad_rows_are_one_line(tmp_path):
    _nfs(tmp_path, "bee", 3, _rows(2) + "1 2 3\n")
    with pytest.raises(SiamMaskError, match=r"bee.txt:3: expected 'track xmin ymin xmax ymax"):
        load_nfs(tmp_path)
    _nfs(tmp_path, "bee", 3, _rows(2) + "1 a 3 4 5 6 0 0 0 x\n")
    with pytest.raises(SiamMaskError, match=r"bee.txt:3: not a number"):
        load_nfs(tmp_path)
    _nfs(tmp_path, "bee", 3, _rows(9))
    with pytest.raises(SiamMaskError, match=r"bee.txt has 9 rows for 3 frames"):
        load_nfs(tmp_path)


def test_the_got10k_toolkit_reads_the_same_boxes(tmp_path):
    """pip got10k's NfS reader beside ours on 240-fps rows in the 30 fps folder (equal within 1e-9)."""
    toolkit = pytest.importorskip("got10k.datasets")
    _nfs(tmp_path, "airboard_1", 5, _rows(40))
    _nfs(tmp_path, "car", 6, _rows(5))
    theirs = toolkit.NfS(str(tmp_path), fps=30)
    mine = load_nfs(tmp_path)
    assert theirs.seq_names == mine.names
    for index, seq in enumerate(mine):
        frames, anno = theirs[index]
        assert [str(p) for p in seq.frames] == frames
        assert np.allclose(seq.groundtruth, anno, rtol=0, atol=1e-9)
