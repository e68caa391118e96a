"""TrackingNet in its public layout: TEST/ and TRAIN_n/ chunks with frames/SEQ/0.jpg and anno/SEQ.txt."""

from __future__ import annotations

import numpy as np
import pytest

from siammask.datasets.formats import TRACKINGNET, detect_format, format_of
from siammask.datasets.trackingnet import TrackingNetDataset, load_trackingnet
from siammask.errors import SiamMaskError
from tests.datasets.onepass_files import boxes, write_boxes, write_frames


def _seq(chunk, name, frames, rows):
    write_frames(chunk / "frames" / name, range(frames), 0)
    write_boxes(chunk / "anno" / f"{name}.txt", rows)


@pytest.fixture()
def net(tmp_path):
    root = tmp_path / "TrackingNet"
    _seq(root / "TEST", "zebra_run", 12, boxes(1))
    _seq(root / "TEST", "cat_sit", 3, boxes(1))
    _seq(root / "TRAIN_0", "dog_jump", 3, boxes(3))
    _seq(root / "TRAIN_11", "bus_go", 2, boxes(2))
    _seq(root / "TRAIN_2", "car_turn", 4, boxes(4))
    return root


def test_test_chunk_by_default_first_box_only(net):
    assert detect_format(net) is TRACKINGNET and TRACKINGNET.protocol == "ope"
    dataset = TRACKINGNET.load(net)
    assert isinstance(dataset, TrackingNetDataset) and format_of(dataset) is TRACKINGNET
    assert (dataset.name, dataset.split, dataset.annotated) == ("TrackingNet_TEST", "TEST", False)
    assert dataset.names == ["cat_sit", "zebra_run"]
    seq = dataset["zebra_run"]
    # frames 0.jpg ... 11.jpg in number order, not name order (10.jpg after 9.jpg)
    assert [p.name for p in seq.frames] == [f"{n}.jpg" for n in range(12)]
    assert seq.init_box.tolist() == boxes(1)[0].tolist() and np.isnan(seq.groundtruth[1:]).all()


def test_train_chunks_and_a_chunk_folder(net):
    train = load_trackingnet(net, split="TRAIN")
    assert train.names == ["dog_jump", "car_turn", "bus_go"] and train.annotated  # chunk 0, 2, 11
    assert load_trackingnet(net, split="TRAIN_2").names == ["car_turn"]
    assert detect_format(net / "TRAIN_0") is TRACKINGNET
    chunk = load_trackingnet(net / "TRAIN_0")
    assert chunk.split == "TRAIN_0" and chunk["dog_jump"].groundtruth.tolist() == boxes(3).tolist()
    with pytest.raises(SiamMaskError, match=r"no TrackingNet chunk TRAIN_5"):
        load_trackingnet(net, split="TRAIN_5")


def test_bad_files_are_one_line(net):
    (net / "TEST" / "anno" / "ghost.txt").write_text("1,2,3,4\n")
    with pytest.raises(SiamMaskError, match=r"ghost.txt: no frame folder .*TEST/frames/ghost"):
        load_trackingnet(net)
    (net / "TEST" / "anno" / "ghost.txt").unlink()
    (net / "TRAIN_0" / "anno" / "dog_jump.txt").write_text("1,2,3,4\n1,2,3,4\n")
    with pytest.raises(SiamMaskError, match=r"dog_jump.txt has 2 lines for 3 frames"):
        load_trackingnet(net, split="TRAIN")
    _seq(net / "TRAIN_2", "dog_jump", 3, boxes(3))
    (net / "TRAIN_0" / "anno" / "dog_jump.txt").write_text("1,2,3,4\n" * 3)
    with pytest.raises(SiamMaskError, match=r"sequence 'dog_jump' is in two chunks"):
        load_trackingnet(net, split="TRAIN")
