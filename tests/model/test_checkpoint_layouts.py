"""Checkpoint layouts: the authors' and pysot's load into the same network; everything else,
and every tensor that cannot be a weight, is refused in one line naming the problem."""

from __future__ import annotations

import pytest

from siammask.errors import SiamMaskError

torch = pytest.importorskip("torch")

from siammask.model.checkpoint import AUTHORS, PYSOT, load_model, read_checkpoint  # noqa: E402
from siammask.model.network import SiamMaskNet  # noqa: E402
from siammask.model.seeded import seeded_state_dict  # noqa: E402


@pytest.fixture(scope="module")
def weights():
    return {k: torch.from_numpy(v) for k, v in seeded_state_dict().items()}


@pytest.fixture(scope="module")
def counters():
    """The 53 num_batches_tracked keys SiamMask_DAVIS.pth and pysot's model.pth carry."""
    return {k: torch.tensor(1000) for k in SiamMaskNet().state_dict() if k.endswith("num_batches_tracked")}


def pysot_state(weights, counters=None) -> dict:
    state = {**weights, **(counters or {})}
    return {PYSOT.theirs(k): v for k, v in state.items()}


def refusal(path) -> str:
    with pytest.raises(SiamMaskError) as info:
        read_checkpoint(path)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_pysot_layout_is_the_same_network(tmp_path, weights, counters, seeded_model):
    # as pysot's training saves it: DataParallel names, epoch and optimizer beside the weights
    state = {"module." + k: v for k, v in pysot_state(weights, counters).items()}
    assert len(state) == 356 and "module.backbone.conv1.weight" in state
    path = tmp_path / "SiamMask_VOT.pth"  # the file name says nothing: the keys decide
    torch.save({"epoch": 20, "state_dict": state, "optimizer": {"state": {}, "param_groups": [{"lr": 0.01}]}}, path)
    ckpt = read_checkpoint(path)
    assert (ckpt.layout, ckpt.preset, ckpt.file_keys) == (PYSOT, "pysot", 356)
    model = ckpt.model()
    ours = seeded_model.state_dict()
    for key, value in model.state_dict().items():
        if not key.endswith("num_batches_tracked"):
            assert torch.equal(value, ours[key]), key
    exemplar = torch.rand(1, 3, 127, 127) * 255
    with torch.no_grad():
        for got, want in zip(model.template(exemplar), seeded_model.template(exemplar), strict=True):
            assert torch.equal(got, want)


@pytest.mark.parametrize("layout", ["authors", "pysot"])
def test_legacy_serialisation_loads(tmp_path, weights, counters, layout):
    """2019's checkpoints were written before torch's zip format."""
    state = dict(weights) if layout == "authors" else pysot_state(weights, counters)
    path = tmp_path / "legacy.pth"
    torch.save({"state_dict": state}, path, _use_new_zipfile_serialization=False)
    assert not __import__("zipfile").is_zipfile(path)
    ckpt = read_checkpoint(path)
    assert ckpt.layout.name == layout
    assert torch.equal(ckpt.state["refine_model.post2.bias"], weights["refine_model.post2.bias"])


def test_authors_layout_with_counters(tmp_path, weights, counters):
    """SiamMask_DAVIS.pth: the authors' names with the 53 counters (356 keys, 'used keys:356')."""
    torch.save({"state_dict": {"module." + k: v for k, v in {**weights, **counters}.items()}}, tmp_path / "d.pth")
    ckpt = read_checkpoint(tmp_path / "d.pth")
    assert (ckpt.layout, ckpt.preset, ckpt.file_keys) == (AUTHORS, "vot", 356)
    load_model(tmp_path / "d.pth")


def test_pysot_missing_and_misshaped_named_in_pysot_names(tmp_path, weights):
    state = pysot_state(weights)
    del state["refine_head.post2.bias"]
    state["rpn_head.cls.head.3.weight"] = torch.zeros(3, 256, 1, 1)
    torch.save(state, tmp_path / "p.pth")
    message = refusal(tmp_path / "p.pth")
    assert "nearest is pysot's siammask_r50_l3" in message
    assert "1 missing keys: refine_head.post2.bias" in message
    assert "1 mis-shaped keys: rpn_head.cls.head.3.weight (3, 256, 1, 1) != (10, 256, 1, 1)" in message


def test_names_of_two_layouts_mixed_refused(tmp_path, weights):
    state = pysot_state(weights)
    state["refine_model.post2.bias"] = state.pop("refine_head.post2.bias")
    torch.save(state, tmp_path / "mixed.pth")
    message = refusal(tmp_path / "mixed.pth")
    assert "missing keys: refine_head.post2.bias" in message and "unexpected keys: refine_model.post2.bias" in message


def test_another_network_refused(tmp_path, weights):
    """A made-up SiamRPN++-style dict (pysot's siamrpn_r50_l234): layer4, three necks, three RPN heads."""
    state = {k.replace("layer3", "layer4"): v for k, v in pysot_state(weights).items() if k.startswith("backbone.")}
    for level in (2, 3, 4):
        state[f"neck.downsample{level}.downsample.0.weight"] = torch.zeros(256, 512 * 2 ** (level - 2), 1, 1)
        state[f"rpn_head.rpn{level}.cls.head.3.weight"] = torch.zeros(10, 256, 1, 1)
    torch.save({"state_dict": state}, tmp_path / "siamrpnpp.pth")
    message = refusal(tmp_path / "siamrpnpp.pth")
    assert "does not fit SiamMask in any known layout; nearest is pysot's" in message
    assert "missing keys: backbone.layer3.0.conv1.weight" in message
    assert "unexpected keys: backbone.layer4.0.conv1.weight" in message


def _with(weights, key, value):
    state = dict(weights)
    state[key] = value
    return state


def _one_inf(w):
    w = w.clone()
    w[3] = float("-inf")
    return w


BAD_TENSORS = {  # each made from refine_model.post0.bias (16 values), keeping its shape
    "nan": (lambda w: torch.full_like(w, float("nan")), "holds 16 NaN or infinite values"),
    "inf": (_one_inf, "holds 1 NaN or infinite value"),
    "complex": (lambda w: w.to(torch.complex64), "has dtype complex64"),
    "bool": (lambda w: w > 0, "has dtype bool"),
    "integer": (lambda w: w.to(torch.int64), "has dtype int64"),
    "sparse": (lambda w: w.to_sparse(), "is a sparse tensor"),
}


@pytest.mark.parametrize("case", BAD_TENSORS)
def test_tensor_that_cannot_be_a_weight_refused(tmp_path, weights, case):
    make, fragment = BAD_TENSORS[case]
    key = "refine_model.post0.bias"
    # every tensor is checked before the layout: the rest of the network need not be there
    torch.save({"state_dict": {"module.refine_model.post0.weight": weights["refine_model.post0.weight"],
                               "module." + key: make(weights[key])}}, tmp_path / "bad.pth")
    message = refusal(tmp_path / "bad.pth")
    assert key in message and fragment in message, message


def test_non_string_key_refused(tmp_path, weights):
    torch.save({"refine_model.post0.bias": weights["refine_model.post0.bias"], 7: torch.zeros(1)}, tmp_path / "k.pth")
    assert "key 7 (int) is not a string" in refusal(tmp_path / "k.pth")


def test_counters_may_be_integers_but_not_nan(tmp_path, weights):
    key = "features.features.bn1.num_batches_tracked"
    torch.save(_with(weights, key, torch.tensor(7)), tmp_path / "int.pth")
    read_checkpoint(tmp_path / "int.pth")
    torch.save({key: torch.tensor(float("nan"))}, tmp_path / "nan.pth")
    assert key in refusal(tmp_path / "nan.pth")
