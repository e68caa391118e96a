"""Packing trained tensors as float16 changes over the seeded weights, and rebuilding them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from siammask.errors import SiamMaskError
from siammask.model.seeded import seeded_state_dict, write_checkpoint
from siammask.model.trained import pack, trained_state_dict


def test_pack_keeps_only_moved_tensors_and_rebuilds_them_closely(tmp_path):
    seeded = seeded_state_dict()
    moved = dict(seeded)
    moved["rpn_model.cls.head.3.weight"] = seeded["rpn_model.cls.head.3.weight"] + np.float32(0.01)
    moved["refine_model.post2.bias"] = seeded["refine_model.post2.bias"] - np.float32(0.5)
    ckpt = tmp_path / "t.pth"
    torch.save({"state_dict": {"module." + k: torch.from_numpy(v) for k, v in moved.items()}}, ckpt)
    npz = pack(ckpt, tmp_path / "t.npz")
    with np.load(npz) as f:
        assert sorted(f.files) == ["refine_model.post2.bias", "rpn_model.cls.head.3.weight"]
    rebuilt = trained_state_dict(npz)
    assert rebuilt.keys() == seeded.keys()
    for k, v in moved.items():
        # float16 of the change: its rounding is relative to 0.01 and 0.5, not to the weights
        np.testing.assert_allclose(rebuilt[k], v, atol=5e-4 * max(1e-9, float(np.abs(v - seeded[k]).max())) + 1e-7)


def test_pack_refuses_an_untrained_checkpoint(tmp_path):
    with pytest.raises(SiamMaskError, match="nothing trained to pack"):
        pack(write_checkpoint(tmp_path / "s.pth"), tmp_path / "s.npz")
    assert not (tmp_path / "s.npz").exists()


def test_shipped_trained_heads_fit_the_network_and_leave_the_backbone_seeded():
    from siammask.model.checkpoint import load_into
    from siammask.model.network import SiamMaskNet
    from siammask.training.loop import TRAINABLE

    weights = trained_state_dict()
    load_into(SiamMaskNet(), {k: torch.from_numpy(v) for k, v in weights.items()}, source="trained")
    seeded = seeded_state_dict()
    moved = [k for k in seeded if not np.array_equal(weights[k], seeded[k])]
    assert moved and all(k.startswith(TRAINABLE["mask"]) for k in moved)
    assert not any(k.startswith("features.features.") for k in moved)
