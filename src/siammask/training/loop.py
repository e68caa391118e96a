"""The training loop: seeded batches, frozen batch-norm statistics, Adam, checkpoints, resume.

Step i's batch is drawn from a generator seeded with (seed, i) alone, and the checkpoint holds the
trained tensors and Adam's state, so a run resumed from a checkpoint computes what the
uninterrupted run computes (same thread count: bitwise on CPU). Batch-norm layers stay in eval
mode (their running statistics are the checkpoint's); the backbone runs without gradients unless
`train == "all"`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from siammask.errors import SiamMaskError
from siammask.model.network import MASK_SIZE, REFINE_PADS, REFINE_STEPS, REFINE_WINDOWS, SEARCH_WINDOW, SiamMaskNet
from siammask.training.data import Augment, Track, make_pair
from siammask.training.losses import Weights, anchor_targets, cls_loss, loc_loss, mask_loss, mask_window
from siammask.training.outputs import save_torch

# What each --train choice updates. The 63x63 mask head is unused with refine on: never trained.
# The adjust layer (features.downsample) feeds the mask branch and refine as well as the RPN, so
# "heads", which leaves those frozen, does not train it: 4 steps on it alone took a trained
# model's held-out accuracy from 0.815 to 0.536 (docs/training.md).
TRAINABLE = {
    "heads": ("rpn_model.",),
    "mask": ("features.downsample.", "rpn_model.", "mask_model.mask.conv_", "refine_model."),
    "all": ("features.features.", "features.downsample.", "rpn_model.", "mask_model.mask.conv_", "refine_model."),
}


@dataclass(frozen=True)
class Settings:
    """What decides the trained weights (steps and time aside: a run may be continued)."""

    train: str = "heads"
    seed: int = 0
    batch: int = 8
    lr: float = 1e-4
    bf16: bool = False
    max_gap: int = 14
    mask_cells: int = 2  # positive cells a pair whose refine mask is trained (each costs a refine pass)
    weights: Weights = field(default_factory=Weights)
    augment: Augment = field(default_factory=Augment)

    def __post_init__(self) -> None:
        if self.train not in TRAINABLE:
            raise SiamMaskError(f"--train {self.train!r}: use heads, mask or all")
        if not (self.lr > 0 and np.isfinite(self.lr)):
            raise SiamMaskError(f"--lr must be a positive number, got {self.lr}")

    def fingerprint(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


@dataclass
class Batch:
    exemplar: torch.Tensor  # (B,3,127,127)
    search: torch.Tensor  # (B,3,255,255)
    cls: torch.Tensor  # (B, A*S*S) int 1/0/-1
    loc: torch.Tensor  # (B, 4, A*S*S)
    loc_weight: torch.Tensor  # (B, A*S*S)
    cells: np.ndarray  # (n, 3): pair, row, col of the cells whose mask is trained
    masks: torch.Tensor  # (n, 127, 127) ground truth of those cells


def make_batch(tracks: list[Track], settings: Settings, step: int) -> Batch:
    """Step `step`'s batch; it depends on (seed, step) only."""
    rng = np.random.default_rng([settings.seed, step])
    pairs, targets, cells, masks = [], [], [], []
    for b in range(settings.batch):
        pair = make_pair(tracks[rng.integers(len(tracks))], rng, settings.max_gap, settings.augment)
        t = anchor_targets(pair.box, rng)
        chosen = t.cells
        if len(chosen) > settings.mask_cells:
            chosen = chosen[np.sort(rng.choice(len(chosen), settings.mask_cells, replace=False))]
        for r, c in chosen:
            cells.append((b, r, c))
            masks.append(mask_window(pair.mask, r, c))
        pairs.append(pair)
        targets.append(t)

    def chw(images: list[np.ndarray]) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(np.stack(images).transpose(0, 3, 1, 2)))

    return Batch(
        chw([p.exemplar for p in pairs]), chw([p.search for p in pairs]),
        torch.from_numpy(np.stack([t.cls for t in targets]).astype(np.int64)),
        torch.from_numpy(np.stack([t.loc for t in targets])),
        torch.from_numpy(np.stack([t.loc_weight for t in targets])),
        np.array(cells, dtype=np.int64).reshape(-1, 3),
        torch.from_numpy(np.array(masks, dtype=np.float32).reshape(-1, MASK_SIZE, MASK_SIZE)),
    )


def losses(model: SiamMaskNet, batch: Batch, settings: Settings) -> dict[str, torch.Tensor]:
    """The weighted losses of one batch ('total' is their sum)."""
    w = settings.weights
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=settings.bf16):
        with torch.set_grad_enabled(settings.train == "all"):
            z3 = model.features.features(batch.exemplar)[-1]
            p0, p1, p2, p3 = model.features.features(batch.search)
        zf = model.features.downsample(z3)[:, :, 4:-4, 4:-4]  # as embed_template crops it
        xf = model.features.downsample(p3)
        rpn = model.rpn_model
        cls = model._branch(rpn.cls, xf, rpn.cls.conv_kernel(zf))
        loc = model._branch(rpn.loc, xf, rpn.loc.conv_kernel(zf))
        out = {"cls": w.cls * cls_loss(cls, batch.cls), "loc": w.loc * loc_loss(loc, batch.loc, batch.loc_weight)}
        if settings.train != "heads" and len(batch.cells):
            kernel = model.mask_model.mask.conv_kernel(zf)
            b, r, c = (batch.cells[:, i].tolist() for i in range(3))
            padded = [F.pad(p, [pad] * 4) for p, pad in zip((p0, p1, p2), REFINE_PADS)]

            def cut(t: torch.Tensor, size: int, step: int) -> torch.Tensor:
                return torch.stack([t[k, :, step * i : step * i + size, step * j : step * j + size]
                                    for k, i, j in zip(b, r, c)])

            logits = model.refine(
                cut(xf, SEARCH_WINDOW, 1), kernel[b],
                *(cut(p, size, step) for p, size, step in zip(padded, REFINE_WINDOWS, REFINE_STEPS)),
            )
            out["mask"] = w.mask * mask_loss(logits, batch.masks)
    out["total"] = sum(out.values())  # type: ignore[assignment]
    return out


class Diverged(SiamMaskError):
    """The loss became NaN or infinite."""


@dataclass
class Trainer:
    """A model, its trainable tensors and Adam over them; `run` trains, `save_state` checkpoints."""

    model: SiamMaskNet
    settings: Settings
    tracks: list[Track]
    step: int = 0
    history: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        prefixes = TRAINABLE[self.settings.train]
        self.names = [n for n, _ in self.model.named_parameters() if n.startswith(prefixes)]
        chosen = set(self.names)
        for n, p in self.model.named_parameters():
            p.requires_grad_(n in chosen)
        self.model.eval()  # frozen batch-norm statistics
        params = dict(self.model.named_parameters())
        self.optimizer = torch.optim.Adam([params[n] for n in self.names], lr=self.settings.lr)

    def train_step(self) -> dict[str, float]:
        batch = make_batch(self.tracks, self.settings, self.step)
        parts = losses(self.model, batch, self.settings)
        total = parts["total"]
        if not bool(torch.isfinite(total)):
            raise Diverged(f"the loss became {float(total.detach())} at step {self.step + 1}")
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        self.optimizer.step()
        self.step += 1
        values = {k: float(v.detach()) for k, v in parts.items()}
        self.history.append(values["total"])
        return values

    def run(
        self, until_step: int | None, seconds: float | None, every: int,
        save: Callable[[], None], progress: Callable[[dict[str, float]], None] | None = None,
    ) -> None:
        """Train until `until_step` or `seconds` of training, calling `save` every `every` steps and at the end."""
        start = time.monotonic()
        while (until_step is None or self.step < until_step) and (
                seconds is None or time.monotonic() - start < seconds):
            values = self.train_step()
            if progress:
                progress(values)
            if self.step % every == 0:
                save()
        save()

    # --- checkpoints ------------------------------------------------------------------------
    def state(self, source: str) -> dict:
        params = dict(self.model.named_parameters())
        return {
            "step": self.step,
            "trainable": {n: params[n].detach().clone() for n in self.names},
            "optimizer": self.optimizer.state_dict(),
            "settings": self.settings.fingerprint(),
            "source": source,
            "history": torch.tensor(self.history, dtype=torch.float64),
        }

    def save_state(self, path: Path, source: str) -> None:
        save_torch(self.state(source), path, "training state")

    def restore(self, path: Path, source: str) -> None:
        """Continue from a training checkpoint written by a run with the same settings and input;
        every value is checked (siammask.training.resume) before the model or Adam takes it."""
        from siammask.training.resume import check_fits, read_state

        if not path.is_file() and not path.is_symlink():
            raise SiamMaskError(f"--resume: no training checkpoint {path} (written every --save-every steps)")
        state = read_state(path)
        if state["settings"] != self.settings.fingerprint():
            raise SiamMaskError(f"--resume: {path} was written with other settings (--train, --seed, --batch, "
                                "--lr, --bf16); run with the same ones or without --resume")
        if state["source"] != source:
            raise SiamMaskError(f"--resume: {path} trained another input model or dataset")
        params = dict(self.model.named_parameters())
        check_fits(state, path, params, self.names)
        try:
            self.optimizer.load_state_dict(state["optimizer"])
        except (ValueError, KeyError, TypeError, RuntimeError) as exc:  # what check_fits could not foresee
            raise SiamMaskError(f"--resume: {path}: its optimizer state does not fit ({type(exc).__name__}); "
                                "run without --resume to start again") from None
        with torch.no_grad():
            for n in self.names:
                params[n].copy_(state["trainable"][n])
        self.step = state["step"]
        self.history = [float(v) for v in state["history"]]


def full_state(model: SiamMaskNet) -> dict[str, torch.Tensor]:
    """Every tensor in the authors' layout (SiamMask_VOT.pth: `module.` keys, no batch counters)."""
    return {"module." + k: v.detach().clone().float() for k, v in model.state_dict().items()
            if not k.endswith("num_batches_tracked")}


def write_model(model: SiamMaskNet, path: Path) -> None:
    save_torch({"state_dict": full_state(model)}, path, "checkpoint")
