"""Reading a training state (`OUTPUT.train`) back, every value checked before it is used.

The file is only ever written by `Trainer.save_state`, but it is a file on disk: a truncated copy,
an edit, or another program's pickle must end in one line naming the file and what is wrong,
never in a traceback from deep inside torch (a wrong shape in `copy_`, a missing key in Adam's
`load_state_dict`, `int("four")`).
"""

from __future__ import annotations

import pickle
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from siammask.errors import SiamMaskError, first_line
from siammask.files import check_input_file

# The trained tensors and Adam's two moments are at most three times the network's 86 MB.
MAX_STATE_BYTES = 1 << 30
ADAM_MOMENTS = ("exp_avg", "exp_avg_sq")


def read_state(path: Path) -> dict[str, Any]:
    """The training state in `path`, its structure checked (not yet against a model)."""
    from siammask.model.checkpoint import check_archive

    def bad(problem: str) -> SiamMaskError:
        return SiamMaskError(f"--resume: {path}: {problem}; run without --resume to start again")

    info = check_input_file(path, f"training state {path}", MAX_STATE_BYTES)
    check_archive(path, info.st_size)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=True)  # tensors and containers only
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, zipfile.BadZipFile, OSError) as exc:
        raise bad(f"not a training state ({first_line(exc, 80)})") from None
    except Exception as exc:  # noqa: BLE001 - garbage trips the safe unpickler anywhere
        raise bad(f"not a training state ({type(exc).__name__})") from None
    if not isinstance(state, Mapping):
        raise bad("not a training state")
    missing = [k for k in ("step", "trainable", "optimizer", "settings", "source", "history") if k not in state]
    if missing:
        raise bad(f"not a training state (no {', '.join(missing)})")
    step = state["step"]
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise bad(f"step {_show(step)} is not a whole number of steps")
    if not isinstance(state["settings"], str) or not isinstance(state["source"], str):
        raise bad("its settings and source are not text")
    history = state["history"]
    if not isinstance(history, torch.Tensor) or history.dim() != 1 or not history.is_floating_point() \
            or _size_problem(history) or len(history) != step:
        raise bad(f"its loss history is not {step} numbers")
    if not isinstance(state["trainable"], Mapping):
        raise bad("its trained tensors are not a mapping")
    for name, value in state["trainable"].items():
        if not isinstance(name, str) or not isinstance(value, torch.Tensor):
            raise bad(f"trained tensor {_show(name)} is not a named tensor")
        problem = _size_problem(value) or _tensor_problem(name, value)
        if problem:
            raise bad(f"trained tensor {name} {problem}")
    return dict(state)


def check_fits(state: Mapping[str, Any], path: Path, params: Mapping[str, torch.Tensor],
               names: list[str]) -> None:
    """Refuse a state whose tensors or Adam state do not fit the trainable tensors `names`."""

    def bad(problem: str) -> SiamMaskError:
        return SiamMaskError(f"--resume: {path}: {problem}; run without --resume to start again")

    trainable = state["trainable"]
    missing = [n for n in names if n not in trainable]
    if missing:
        raise bad(f"trained tensor {missing[0]} is missing" + (f" ({len(missing)} in all)" if len(missing) > 1 else ""))
    extra = [n for n in trainable if n not in params or n not in names]
    if extra:
        raise bad(f"holds tensor {extra[0]}, which this run does not train")
    for n in names:
        if tuple(trainable[n].shape) != tuple(params[n].shape):
            raise bad(f"trained tensor {n} has shape {tuple(trainable[n].shape)}, the network's is "
                      f"{tuple(params[n].shape)}")
    _check_adam(state["optimizer"], [params[n] for n in names], state["step"], bad)


def _check_adam(opt: Any, params: list[torch.Tensor], step: int, bad: Any) -> None:
    """Adam's state dict: one group over the trainable tensors in order; for each tensor Adam has
    stepped, its step count and two moments of the tensor's shape (a run past step 0 has them all)."""
    if not isinstance(opt, Mapping) or not isinstance(opt.get("state"), Mapping) \
            or not isinstance(opt.get("param_groups"), list):
        raise bad("its optimizer state is not Adam's (state, param_groups)")
    groups = opt["param_groups"]
    if len(groups) != 1 or not isinstance(groups[0], Mapping) or groups[0].get("params") != list(range(len(params))):
        raise bad(f"its optimizer state is not over the {len(params)} trained tensors")
    entries = opt["state"]
    if step > 0 and len(entries) != len(params):
        raise bad(f"its optimizer state holds {len(entries)} of the {len(params)} trained tensors")
    for index, entry in entries.items():
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(params) \
                or not isinstance(entry, Mapping):
            raise bad(f"its optimizer state has an entry {_show(index)} that is no trained tensor")
        counter = entry.get("step")
        if not isinstance(counter, torch.Tensor) or counter.numel() != 1 or _size_problem(counter):
            raise bad(f"optimizer entry {index} has no step count")
        for key in ADAM_MOMENTS:
            value = entry.get(key)
            if not isinstance(value, torch.Tensor) or tuple(value.shape) != tuple(params[index].shape):
                raise bad(f"optimizer entry {index}'s {key} does not have its tensor's shape "
                          f"{tuple(params[index].shape)}")
            problem = _size_problem(value) or _tensor_problem(key, value)
            if problem:
                raise bad(f"optimizer entry {index}'s {key} {problem}")


def _size_problem(t: torch.Tensor) -> str | None:
    from siammask.model.checkpoint import _size_problem as problem

    return problem(t)


def _tensor_problem(key: str, t: torch.Tensor) -> str | None:
    from siammask.model.checkpoint import _tensor_problem as problem

    return problem(key, t)


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
