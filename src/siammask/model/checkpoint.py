"""Loading the authors' checkpoints safely and strictly.

SiamMask_VOT.pth comes as ``{'state_dict': {'module.<key>': tensor}}``; other copies are plain
state dicts, with or without the ``module.`` prefix (from nn.DataParallel). Batch-norm
``num_batches_tracked`` counters are absent from it and unused at inference.
"""

from __future__ import annotations

import pickle
import re
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path

import torch

from siammask.errors import SiamMaskError
from siammask.files import file_sha256  # noqa: F401 - part of this module's API
from siammask.model.network import SiamMaskNet

_PREFIX = "module."


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a checkpoint file into a flat state dict without running any code it may carry."""
    path = Path(path)
    if not path.is_file():
        raise SiamMaskError(f"checkpoint {path}: not a file")
    if path.stat().st_size == 0:
        raise SiamMaskError(f"checkpoint {path}: empty file")
    try:
        # weights_only=True: the unpickler builds tensors and containers only, never objects
        # with code, so a malicious checkpoint is refused instead of executed.
        with warnings.catch_warnings():  # e.g. "Detected pickle protocol 4": our error says it all
            warnings.simplefilter("ignore")
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise SiamMaskError(f"checkpoint {path}: refused, {_unpickling_problem(str(exc))}") from None
    except (RuntimeError, EOFError, ValueError, zipfile.BadZipFile, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        first = first.split(". ")[0][:120]  # PyTorch's first sentence, not its paragraph
        raise SiamMaskError(f"checkpoint {path}: unreadable or truncated ({first})") from None
    except Exception as exc:  # noqa: BLE001 - garbage trips the safe unpickler anywhere (IndexError, ...)
        raise SiamMaskError(f"checkpoint {path}: unreadable, not a PyTorch checkpoint ({type(exc).__name__})") from None
    if isinstance(obj, Mapping) and "state_dict" in obj:
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise SiamMaskError(f"checkpoint {path}: not a state dict of tensors")
    return {(k[len(_PREFIX):] if k.startswith(_PREFIX) else k): v for k, v in obj.items()}


def _unpickling_problem(text: str) -> str:
    """PyTorch's refusal in a few words, without its advice to load the file unsafely."""
    match = re.search(r"WeightsUnpickler error:\s*(\S[^\n]*)", text)
    reason = match.group(1) if match else "not a pickle of tensors"
    found = re.match(r"Unsupported global: GLOBAL (\S+)", reason)
    if found:
        return f"it is not plain weights: it refers to {found.group(1)}, which loading could run"
    return f"not a PyTorch weights file ({reason.strip()[:80]})"


def _summary(keys: list[str], limit: int = 4) -> str:
    shown = ", ".join(keys[:limit])
    return f"{shown} (+{len(keys) - limit} more)" if len(keys) > limit else shown


def load_into(model: SiamMaskNet, state: Mapping[str, torch.Tensor], source: str = "checkpoint") -> None:
    """Copy `state` into `model`; any missing, unexpected or mis-shaped key is an error."""
    expected = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    given = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    missing = [k for k in expected if k not in given]
    unexpected = [k for k in given if k not in expected]
    misshaped = [
        f"{k} {tuple(given[k].shape)} != {tuple(v.shape)}"
        for k, v in expected.items() if k in given and tuple(given[k].shape) != tuple(v.shape)
    ]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing keys: {_summary(missing)}")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected keys: {_summary(unexpected)}")
    if misshaped:
        problems.append(f"{len(misshaped)} mis-shaped keys: {_summary(misshaped)}")
    if problems:
        raise SiamMaskError(f"{source} does not fit SiamMask (VOT): " + "; ".join(problems))
    with torch.no_grad():
        for k, v in expected.items():
            v.copy_(given[k].to(v.dtype))


def load_model(path: str | Path) -> SiamMaskNet:
    """Build the network and load a SiamMask_VOT.pth-layout checkpoint into it (eval mode)."""
    model = SiamMaskNet()
    load_into(model, read_state_dict(path), source=f"checkpoint {path}")
    return model.eval()
