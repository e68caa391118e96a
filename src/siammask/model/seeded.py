"""Seeded, untrained weights with the checkpoint's exact layout (the golden data's recipe).

They make the whole pipeline runnable and testable without the authors' SiamMask_VOT.pth: the
wiring below turns the random network into a crude correlation tracker. Boxes it outputs mean
nothing about real objects.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np

SEED = 20261124


def read_spec(path: str | Path | None = None) -> list[tuple[str, tuple[int, ...], str]]:
    """Rows (key, shape, role) of the checkpoint's state-dict spec, in order."""
    text = (
        Path(path).read_text() if path
        else resources.files("siammask.data").joinpath("state_dict_spec.tsv").read_text()
    )
    rows = []
    for line in text.splitlines()[1:]:
        key, shape, role = line.split("\t")
        rows.append((key, () if shape == "scalar" else tuple(int(d) for d in shape.split("x")), role))
    return rows


def _draw(rs: np.random.RandomState, shape: tuple[int, ...], role: str) -> np.ndarray:
    n = rs.standard_normal(size=shape)
    if role == "conv_weight":
        return n * np.sqrt(1.0 / int(np.prod(shape[1:])))
    if role == "conv_bias":
        return 0.01 * n
    if role == "bn_weight":
        return 1.0 + 0.1 * n
    if role in ("bn_bias", "bn_mean"):
        return 0.1 * n
    return 1.0 + 0.1 * np.abs(n)  # bn_var


def seeded_state_dict(
    seed: int = SEED, calibration: str | Path | None = None, spec: str | Path | None = None
) -> dict[str, np.ndarray]:
    """Float32 arrays for every key of the spec (no num_batches_tracked)."""
    rs = np.random.RandomState(seed)
    w = {key: _draw(rs, shape, role).astype(np.float32) for key, shape, role in read_spec(spec)
         if role != "bn_count"}
    # Each correlation branch embeds template and search alike, so correlation peaks on the target.
    for branch in ("rpn_model.cls", "rpn_model.loc", "mask_model.mask"):
        for part in ("0.weight", "1.weight", "1.bias"):
            w[f"{branch}.conv_search.{part}"] = w[f"{branch}.conv_kernel.{part}"].copy()
    # Classification reads the mean correlation as foreground; regression stays small.
    c = w["rpn_model.cls.head.0.weight"].shape[0]
    w["rpn_model.cls.head.0.weight"] = np.eye(c, dtype=np.float32).reshape(c, c, 1, 1)
    head = np.zeros_like(w["rpn_model.cls.head.3.weight"])
    head[head.shape[0] // 2 :] = np.float32(4.0 / c)
    w["rpn_model.cls.head.3.weight"] = head
    w["rpn_model.cls.head.3.bias"] = np.zeros_like(w["rpn_model.cls.head.3.bias"])
    w["rpn_model.loc.head.3.weight"] = (w["rpn_model.loc.head.3.weight"] * np.float32(0.1)).astype(np.float32)
    cal_source = Path(calibration) if calibration else resources.files("siammask.data").joinpath(
        "calibration.npz"
    )
    with cal_source.open("rb") as f, np.load(f) as cal:
        for key in cal.files:
            w[key] = cal[key].astype(np.float32)
    return w


def write_checkpoint(out: str | Path, seed: int = SEED, calibration: str | Path | None = None) -> Path:
    """Write the seeded weights as a SiamMask_VOT.pth-layout checkpoint."""
    import torch

    from siammask.model.checkpoint import save_checkpoint

    weights = seeded_state_dict(seed, calibration)
    out = Path(out)
    return save_checkpoint({k: torch.from_numpy(v) for k, v in weights.items()}, out)
