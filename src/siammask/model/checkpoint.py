"""Loading SiamMask checkpoints safely and strictly, in either public layout.

The authors' SiamMask_VOT.pth, SiamMask_VOT_LD.pth and SiamMask_DAVIS.pth share one layout
(ours: the keys of network.py), as ``{'state_dict': {'module.<key>': tensor}}`` or a plain state
dict, with or without ``module.`` and the batch-norm ``num_batches_tracked`` counters (unused at
inference). pysot's siammask_r50_l3 model.pth holds the same 356 tensors under other module
names (its ModelBuilder: backbone, neck, rpn_head, mask_head, refine_head), possibly beside
'epoch' and 'optimizer' entries. The layout is told from the keys alone, never from the file name.
"""

from __future__ import annotations

import functools
import io
import pickle
import re
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch

from siammask.errors import SiamMaskError, first_line
from siammask.files import atomic_file, check_input_file, file_sha256  # noqa: F401 - file_sha256: API
from siammask.model.network import SiamMaskNet

_PREFIX = "module."
_COUNTER = "num_batches_tracked"

# What a checkpoint may weigh, on disk and once loaded: the network's weights are 86 MB in fp32,
# pysot's model.pth with its optimizer state a few times that. A file far above is not one of ours,
# and the sizes a file *claims* (inflated zip members, tensor views) are held to the same budget
# before anything of that size is allocated.
MAX_CHECKPOINT_BYTES = 1 << 30
# torch.save stores its members uncompressed; weights repacked with deflate shrink by ~10 %. A
# file whose members claim more than this many times its size inflates like a zip bomb.
MAX_INFLATION = 4


@dataclass(frozen=True)
class Layout:
    """A naming of the network's tensors: (file prefix, our prefix) pairs, and the settings it was tuned with."""

    name: str
    description: str
    preset: str
    prefixes: tuple[tuple[str, str], ...] = ()

    def ours(self, key: str) -> str | None:
        """Our name for a file key, or None when the key has no place in this layout."""
        if not self.prefixes:
            return key
        return next((o + key[len(t):] for t, o in self.prefixes if key.startswith(t)), None)

    def theirs(self, key: str) -> str:
        """The file's name for one of our keys."""
        return next((t + key[len(o):] for t, o in self.prefixes if key.startswith(o)), key)


AUTHORS = Layout("authors", "the authors' (SiamMask_VOT.pth, SiamMask_VOT_LD.pth, SiamMask_DAVIS.pth)", "vot")
PYSOT = Layout(
    "pysot", "pysot's siammask_r50_l3 (model.pth)", "pysot",
    (("backbone.", "features.features."), ("neck.downsample.", "features.downsample."), ("rpn_head.", "rpn_model."),
     ("mask_head.", "mask_model.mask."), ("refine_head.", "refine_model.")),
)
LAYOUTS = (AUTHORS, PYSOT)  # in order of preference when a broken file fits two equally badly


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint that fits the network: its layout and its tensors under our names."""

    path: Path
    layout: Layout
    state: dict[str, torch.Tensor] = field(repr=False)
    file_keys: int  # keys in the file's state dict, counters included

    @property
    def preset(self) -> str:
        """The settings this checkpoint defaults to (its layout's)."""
        return self.layout.preset

    def model(self) -> SiamMaskNet:
        """The network with these weights, in eval mode."""
        model = SiamMaskNet()
        load_into(model, self.state, source=f"checkpoint {self.path}")
        return model.eval()


def _show(key: object) -> str:
    text = str(key)[:80]
    return text if text.isprintable() else repr(text)


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a checkpoint file into a flat state dict (``module.`` stripped) without running any
    code it may carry; every value must be a dense, finite, real floating-point tensor (integer
    ``num_batches_tracked`` counters aside)."""
    path = Path(path)
    if not path.is_file():
        raise SiamMaskError(f"checkpoint {path}: not a file")
    info = check_input_file(path, f"checkpoint {path}", MAX_CHECKPOINT_BYTES)
    if info.st_size == 0:
        raise SiamMaskError(f"checkpoint {path}: empty file")
    check_archive(path, info.st_size)
    try:
        # weights_only=True: the unpickler builds tensors and containers only, never objects
        # with code, so a malicious checkpoint is refused instead of executed. It reads the
        # legacy (non-zip) serialisation of 2019's checkpoints as well.
        with warnings.catch_warnings():  # e.g. "Detected pickle protocol 4": our error says it all
            warnings.simplefilter("ignore")
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise SiamMaskError(f"checkpoint {path}: refused, {_unpickling_problem(str(exc))}") from None
    except (RuntimeError, EOFError, ValueError, zipfile.BadZipFile, OSError) as exc:
        first = first_line(exc)
        first = first.split(". ")[0][:120]  # PyTorch's first sentence, not its paragraph
        raise SiamMaskError(f"checkpoint {path}: unreadable or truncated ({first})") from None
    except Exception as exc:  # noqa: BLE001 - garbage trips the safe unpickler anywhere (IndexError, ...)
        raise SiamMaskError(f"checkpoint {path}: unreadable, not a PyTorch checkpoint ({type(exc).__name__})") from None
    if isinstance(obj, Mapping) and "state_dict" in obj:
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping):
        raise SiamMaskError(f"checkpoint {path}: not a state dict of tensors")
    state: dict[str, torch.Tensor] = {}
    claimed = 0
    for key, value in obj.items():
        if not isinstance(key, str):
            raise SiamMaskError(f"checkpoint {path}: key {_show(key)} ({type(key).__name__}) is not a string")
        if not isinstance(value, torch.Tensor):
            raise SiamMaskError(f"checkpoint {path}: not a state dict of tensors ({_show(key)} holds a "
                                f"{type(value).__name__})")
        # sizes first, from the tensor's metadata alone: the checks below allocate as much as the
        # tensor claims, and a view claims what it likes (a stride-0 view of one float is "40 GB")
        problem = _size_problem(value)
        claimed += _claimed_bytes(value) if value.layout == torch.strided else 0  # others: refused below
        if not problem and claimed > MAX_CHECKPOINT_BYTES:
            problem = f"brings the tensors to more than the {MAX_CHECKPOINT_BYTES >> 20} MiB a checkpoint may hold"
        problem = problem or _tensor_problem(key, value)
        if problem:
            raise SiamMaskError(f"checkpoint {path}: {_show(key)} {problem}")
        state[key[len(_PREFIX):] if key.startswith(_PREFIX) else key] = value
    return state


def check_archive(path: Path, size: int) -> None:
    """Refuse a zip checkpoint whose members claim more bytes than it could hold, before
    torch.load inflates them: deflate turns 2 MB of zeros into 2 GB. (The legacy, non-zip format
    reads each storage from the file itself, so the file's size bounds it.)"""
    with open(path, "rb") as handle:
        if handle.read(4) != b"PK\x03\x04":  # torch.load's own test for its zip format
            return
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise SiamMaskError(f"checkpoint {path}: unreadable or truncated zip ({first_line(exc, 80)})") from None
    declared = sum(m.file_size for m in members)
    budget = min(MAX_CHECKPOINT_BYTES, MAX_INFLATION * size + (1 << 20))
    if declared > budget:
        raise SiamMaskError(f"checkpoint {path}: its members claim {declared:,} bytes from a {size:,}-byte file "
                            f"(at most {budget:,} may be claimed); refused unread, as a zip bomb")


def _claimed_bytes(t: torch.Tensor) -> int:
    """The bytes a tensor claims to hold (its shape's), whatever its storage holds."""
    return int(t.numel()) * t.element_size()


def _size_problem(t: torch.Tensor) -> str | None:
    """Why a tensor's claimed size cannot be trusted (None if it can): a weight holds its own
    values, so its shape never claims more elements than its storage has; a stride-0 or
    overlapping view (torch.zeros(1).expand(10**10)) claims what was never written."""
    if t.layout != torch.strided or t.is_meta:
        return None  # refused by _tensor_problem, which allocates nothing for them
    stored = t.untyped_storage().nbytes()
    if _claimed_bytes(t) > stored:
        return (f"claims {int(t.numel()):,} elements from a storage of {stored:,} bytes (a stride-0 or "
                "overlapping view); weights are plain tensors")
    return None


def _tensor_problem(key: str, t: torch.Tensor) -> str | None:
    """Why a tensor cannot be a weight (None if it can). Checked before any arithmetic uses it."""
    if t.layout != torch.strided:
        return f"is a sparse tensor ({t.layout}); weights are dense"
    if t.is_quantized or t.is_meta:
        return "is a quantized or data-less tensor; weights are plain float tensors"
    if key.endswith(_COUNTER) and t.dtype != torch.bool and not t.is_complex():
        counter_ok = not t.is_floating_point() or bool(torch.isfinite(t).all())
        return None if counter_ok else "holds NaN or infinite values"
    if t.is_complex() or not t.is_floating_point():
        return f"has dtype {str(t.dtype).removeprefix('torch.')}; weights are real floating point"
    if not bool(torch.isfinite(t).all()):
        bad = int((~torch.isfinite(t)).sum())
        return f"holds {bad} NaN or infinite value{'s' if bad != 1 else ''}"
    return None


def _unpickling_problem(text: str) -> str:
    """PyTorch's refusal in a few words, without its advice to load the file unsafely."""
    match = re.search(r"WeightsUnpickler error:\s*(\S[^\n]*)", text)
    reason = match.group(1) if match else "not a pickle of tensors"
    found = re.match(r"Unsupported global: GLOBAL (\S+)", reason)
    if found:
        return f"it is not plain weights: it refers to {found.group(1)}, which loading could run"
    return f"not a PyTorch weights file ({reason.strip()[:80]})"


def _summary(keys: list[str], limit: int = 4) -> str:
    shown = ", ".join(_show(k) for k in keys[:limit])
    return f"{shown} (+{len(keys) - limit} more)" if len(keys) > limit else shown


def _fit(expected: Mapping[str, torch.Size], given: Mapping[str, torch.Tensor]) -> tuple[int, list[str]]:
    """How many keys of `given` fit `expected` (same name and shape), and what does not fit.
    Counters are optional: absent from SiamMask_VOT.pth, present in SiamMask_DAVIS.pth and pysot's."""
    missing = [k for k in expected if k not in given and not k.endswith(_COUNTER)]
    unexpected = [k for k in given if k not in expected]
    misshaped = [f"{k} {tuple(given[k].shape)} != {tuple(s)}" for k, s in expected.items()
                 if k in given and tuple(given[k].shape) != tuple(s)]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing keys: {_summary(missing)}")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected keys: {_summary(unexpected)}")
    if misshaped:
        problems.append(f"{len(misshaped)} mis-shaped keys: {_summary(misshaped)}")
    fitting = sum(1 for k, s in expected.items() if k in given and tuple(given[k].shape) == tuple(s))
    return fitting, problems


@functools.cache  # building the network to read its shapes takes a noticeable fraction of a second
def _expected_shapes() -> dict[str, torch.Size]:
    return {k: v.shape for k, v in SiamMaskNet().state_dict().items()}


def detect_layout(state: Mapping[str, torch.Tensor], source: str = "checkpoint") -> Layout:
    """The layout `state` (file names, ``module.`` stripped) fits exactly; otherwise refuse,
    naming the nearest layout and the keys that differ from it."""
    ours = _expected_shapes()
    best: tuple[int, Layout, list[str]] | None = None
    for layout in LAYOUTS:
        expected = {layout.theirs(k): s for k, s in ours.items()}
        fitting, problems = _fit(expected, state)
        if not problems:
            return layout
        if best is None or fitting > best[0]:
            best = (fitting, layout, problems)
    assert best is not None
    _, layout, problems = best
    raise SiamMaskError(f"{source} does not fit SiamMask in any known layout; nearest is {layout.description}: "
                        + "; ".join(problems))


def read_checkpoint(path: str | Path) -> Checkpoint:
    """Read, validate and name a checkpoint: its layout, and its tensors under our key names."""
    path = Path(path)
    raw = read_state_dict(path)
    layout = detect_layout(raw, source=f"checkpoint {path}")
    state = {layout.ours(k) or k: v for k, v in raw.items()}
    return Checkpoint(path, layout, state, len(raw))


def load_into(model: SiamMaskNet, state: Mapping[str, torch.Tensor], source: str = "checkpoint") -> None:
    """Copy `state` (our key names) into `model`; any missing, unexpected or mis-shaped key is an error."""
    expected = model.state_dict()
    _, problems = _fit({k: v.shape for k, v in expected.items()}, state)
    if problems:
        raise SiamMaskError(f"{source} does not fit SiamMask (VOT): " + "; ".join(problems))
    with torch.no_grad():
        for k, v in expected.items():
            if k in state:
                v.copy_(state[k].to(v.dtype))


def save_checkpoint(state: Mapping[str, torch.Tensor], path: str | Path, what: str = "checkpoint") -> Path:
    """Write `state` as a SiamMask_VOT.pth-layout checkpoint (``{'state_dict': {'module.<key>': ...}}``),
    whole or not at all. torch.save's C++ writer turns a full disk or a file-size limit into a
    RuntimeError without its cause ("unexpected pos 704 vs 598"); serialised in memory first and
    written by Python, a failed write is an OSError that atomic_file names in one line."""
    buffer = io.BytesIO()
    torch.save({"state_dict": {_PREFIX + k: v for k, v in state.items()}}, buffer)
    path = Path(path)
    with atomic_file(path, what) as tmp:
        tmp.write_bytes(buffer.getbuffer())
    return path


def load_model(path: str | Path) -> SiamMaskNet:
    """Build the network and load a checkpoint of either layout into it (eval mode)."""
    return read_checkpoint(path).model()


def batchnorm_at_init(state: Mapping[str, torch.Tensor]) -> tuple[int, int]:
    """(layers whose running statistics are still PyTorch's initial 0 and 1, batch-norm layers):
    a network whose every layer is at init was never trained (or was saved before its first step)."""
    layers = [k[: -len(".running_mean")] for k in state if k.endswith(".running_mean")]
    at_init = 0
    for layer in layers:
        mean, var = state[f"{layer}.running_mean"], state.get(f"{layer}.running_var")
        if var is not None and torch.allclose(mean.float(), torch.zeros(())) and torch.allclose(
            var.float(), torch.ones(()), atol=1e-6
        ):
            at_init += 1
    return at_init, len(layers)
