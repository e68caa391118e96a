"""Checkpoint loading: the authors' layouts load; anything else is refused with one clear line."""

from __future__ import annotations

import pickle

import pytest

from siammask.errors import SiamMaskError

torch = pytest.importorskip("torch")

from siammask.model.checkpoint import load_model, read_state_dict  # noqa: E402
from siammask.model.seeded import seeded_state_dict  # noqa: E402


@pytest.fixture(scope="module")
def weights():
    return {k: torch.from_numpy(v) for k, v in seeded_state_dict().items()}


@pytest.mark.parametrize("layout", ["wrapped_prefixed", "wrapped_plain", "flat_prefixed", "flat_plain"])
def test_accepted_layouts(tmp_path, weights, layout):
    prefix = "module." if layout.endswith("prefixed") else ""
    state = {prefix + k: v for k, v in weights.items()}
    obj = {"state_dict": state, "epoch": 20} if layout.startswith("wrapped") else state
    path = tmp_path / "ck.pth"
    torch.save(obj, path)
    model = load_model(path)
    assert torch.equal(model.state_dict()["refine_model.post2.bias"], weights["refine_model.post2.bias"])


def test_num_batches_tracked_tolerated(tmp_path, weights):
    state = dict(weights)
    state["features.features.bn1.num_batches_tracked"] = torch.tensor(5)
    torch.save(state, tmp_path / "ck.pth")
    load_model(tmp_path / "ck.pth")


def _message(path) -> str:
    with pytest.raises(SiamMaskError) as info:
        load_model(path)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_missing_unexpected_misshaped_named(tmp_path, weights):
    state = dict(weights)
    del state["rpn_model.cls.head.3.bias"]
    state["extra.layer.weight"] = torch.zeros(3)
    state["refine_model.post2.weight"] = torch.zeros(2, 4, 3, 3)
    torch.save(state, tmp_path / "bad.pth")
    message = _message(tmp_path / "bad.pth")
    assert "rpn_model.cls.head.3.bias" in message
    assert "extra.layer.weight" in message
    assert "refine_model.post2.weight" in message


def test_not_a_file_empty_truncated(tmp_path, weights):
    assert "not a file" in _message(tmp_path / "nope.pth")
    (tmp_path / "empty.pth").write_bytes(b"")
    assert "empty" in _message(tmp_path / "empty.pth")
    torch.save({"state_dict": weights}, tmp_path / "full.pth")
    data = (tmp_path / "full.pth").read_bytes()
    (tmp_path / "cut.pth").write_bytes(data[: len(data) // 2])
    assert "truncated" in _message(tmp_path / "cut.pth")


class _Payload:
    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_malicious_pickle_never_runs(tmp_path):
    target = tmp_path / "pwned.txt"
    path = tmp_path / "evil.pth"
    torch.save({"state_dict": {"x": torch.zeros(1)}, "payload": _Payload(str(target))}, path)
    assert not target.exists()
    message = _message(path)
    assert "refused" in message
    assert not target.exists()
    # a raw pickle (legacy format) with the payload is refused too
    raw = tmp_path / "evil_raw.pth"
    raw.write_bytes(pickle.dumps(_Payload(str(target))))
    _message(raw)
    assert not target.exists()


def test_state_dict_prefix_stripped(tmp_path, weights):
    torch.save({"state_dict": {"module." + k: v for k, v in weights.items()}}, tmp_path / "ck.pth")
    state = read_state_dict(tmp_path / "ck.pth")
    assert "features.features.conv1.weight" in state
