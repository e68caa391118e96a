"""Weights trained from the seeded ones on synthetic data, shipped as their change only.

The backbone is regenerated from its seed (seeded.py); `data/trained_heads.npz` holds, for each
tensor the training moved (adjust, RPN, mask branch, refine), trained minus seeded in float16.
Storing the difference rather than the weights keeps float16's rounding relative to the change,
far below the weights' own size, and the file small. docs/training.md gives the command that
trained it and `pack` that wrote the file.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np

from siammask.errors import SiamMaskError
from siammask.files import atomic_file
from siammask.model.seeded import SEED, seeded_state_dict

RESOURCE = "trained_heads.npz"


def pack(checkpoint: str | Path, out: str | Path) -> Path:
    """Write the npz of a checkpoint trained from the seeded weights: every tensor that differs."""
    from siammask.model.checkpoint import read_checkpoint

    state = read_checkpoint(checkpoint).state
    seeded = seeded_state_dict(SEED)
    delta = {}
    for key, base in seeded.items():
        change = state[key].float().numpy() - base
        if np.any(change != 0):
            delta[key] = change.astype(np.float16)
    if not delta:
        raise SiamMaskError(f"checkpoint {checkpoint} equals the seeded weights: nothing trained to pack")
    out = Path(out)
    with atomic_file(out, "trained tensors") as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **delta)
    return out


def trained_state_dict(path: str | Path | None = None) -> dict[str, np.ndarray]:
    """Float32 arrays for every key: the seeded weights plus the packed training changes."""
    source = Path(path) if path else resources.files("siammask.data").joinpath(RESOURCE)
    weights = seeded_state_dict(SEED)
    with source.open("rb") as f, np.load(f) as delta:
        for key in delta.files:
            if key not in weights or delta[key].shape != weights[key].shape:
                raise SiamMaskError(f"{source}: {key} does not fit the network")
            weights[key] = weights[key] + delta[key].astype(np.float32)
    return weights


def write_checkpoint(out: str | Path, path: str | Path | None = None) -> Path:
    """Write the trained default as a SiamMask_VOT.pth-layout checkpoint."""
    import torch

    from siammask.model.checkpoint import save_checkpoint

    weights = trained_state_dict(path)
    out = Path(out)
    return save_checkpoint({k: torch.from_numpy(v) for k, v in weights.items()}, out)
