"""The network against the reference: layout of the state dict and raw outputs.

Raw-output metric: max |ours - reference| / max |reference| over the whole tensor, <= 1e-4.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.constants import GOLDEN, golden_records

torch = pytest.importorskip("torch")

from siammask.model.network import SiamMaskNet, cell_windows  # noqa: E402
from siammask.tracking.crop import crop_subwindow, to_chw_float  # noqa: E402

REL_TOL = 1e-4


def relative_error(ours: np.ndarray, ref: np.ndarray) -> float:
    return float(np.abs(ours - ref).max() / np.abs(ref).max())


def test_state_dict_matches_checkpoint_spec():
    rows = [line.split("\t") for line in (GOLDEN / "state_dict_spec.tsv").read_text().splitlines()[1:]]
    state = SiamMaskNet().state_dict()
    assert list(state) == [r[0] for r in rows]
    for key, shape, _ in rows:
        expected = () if shape == "scalar" else tuple(int(d) for d in shape.split("x"))
        assert tuple(state[key].shape) == expected, key


@pytest.fixture(scope="module")
def raw(seeded_model):
    import cv2

    golden = np.load(GOLDEN / "raw_first_frame.npz")
    cx, cy, w, h = golden_records()["synth00"][0]["init_bbox_cxcywh"]
    image = cv2.imread(str(GOLDEN / "dataset" / "synth00" / "00000001.jpg"))
    context = 0.5 * (w + h)
    side = round(np.sqrt((w + context) * (h + context)))
    z = to_chw_float([crop_subwindow(image, (cx, cy), 127, side, np.mean(image, axis=(0, 1)))])
    with torch.no_grad():
        zf = seeded_model.embed_template(torch.from_numpy(z))
        cls_k, loc_k, mask_k = seeded_model.template(torch.from_numpy(z))
        x = torch.from_numpy(golden["x_crop"].astype(np.float32))
        cls, loc, xf, p0, p1, p2 = seeded_model.search(x, cls_k, loc_k)
        corr = seeded_model.corr_feature(xf, mask_k)
        xf_w, p0_w, p1_w, p2_w = cell_windows(xf, p0, p1, p2, [12], [12])
        logits = seeded_model.refine(xf_w, mask_k, p0_w, p1_w, p2_w)
    ours = {"zf": zf, "cls": cls, "loc": loc, "corr_feature": corr, "refine_logits_at_12_12": logits}
    return {k: v.numpy().reshape(golden[k].shape) for k, v in ours.items()}, golden


@pytest.mark.parametrize("name", ["zf", "cls", "loc", "corr_feature", "refine_logits_at_12_12"])
def test_raw_outputs_match_reference(raw, name):
    ours, golden = raw
    assert relative_error(ours[name], golden[name]) <= REL_TOL


def test_feature_shapes(seeded_model):
    with torch.no_grad():
        kernels = seeded_model.template(torch.zeros(2, 3, 127, 127))
        out = seeded_model.search(torch.zeros(2, 3, 255, 255), kernels[0], kernels[1])
    assert [tuple(k.shape) for k in kernels] == [(2, 256, 5, 5)] * 3
    assert [tuple(t.shape) for t in out] == [
        (2, 10, 25, 25), (2, 20, 25, 25), (2, 256, 31, 31), (2, 64, 157, 157), (2, 256, 79, 79),
        (2, 512, 39, 39),
    ]
