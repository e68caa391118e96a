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
from siammask.training.data import Augment, Track, make_negative, make_pair
from siammask.training.losses import Weights, anchor_targets, cls_loss, loc_loss, mask_loss, mask_window
from siammask.training.outputs import save_torch

CHUNK_STREAM = 1  # keeps the chunks' random streams apart from any other use of the seed

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
    negatives: float = 0.25  # fraction of pairs whose search crop does not hold the target
    reuse: int = 4  # times each drawn pair (and its frozen features) is trained on
    weights: Weights = field(default_factory=Weights)
    augment: Augment = field(default_factory=Augment)

    def __post_init__(self) -> None:
        if self.train not in TRAINABLE:
            raise SiamMaskError(f"--train {self.train!r}: use heads, mask or all")
        if not (self.lr > 0 and np.isfinite(self.lr)):
            raise SiamMaskError(f"--lr must be a positive number, got {self.lr}")
        if not 0 <= self.negatives < 1:
            raise SiamMaskError(f"--negatives must be at least 0 and under 1, got {self.negatives}")
        if self.reuse < 1:
            raise SiamMaskError(f"--reuse must be a whole number of at least 1, got {self.reuse}")

    def fingerprint(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


# Pairs are drawn CHUNK at a time (rounded up to whole batches): the frozen part of the network runs
# once over a chunk's crops, then `reuse` shuffled passes over the chunk train the rest. The cached
# features are those of the augmented crops, so a pair's augmentation is part of what is reused.
CHUNK = 64


@dataclass
class Sample:
    """One pair as the trained layers see it: the frozen part's output (or the crops, when the
    backbone itself is trained) and the pair's labels."""

    z: torch.Tensor  # heads: adjusted template features (256,7,7); mask: backbone's (1024,15,15); all: crop
    x: torch.Tensor  # heads: adjusted search features (256,31,31); mask: backbone's (1024,31,31); all: crop
    windows: list[torch.Tensor]  # refine inputs p0, p1, p2 cut at the chosen cells (n, C, s, s) each
    cells: np.ndarray  # (n, 2) rows, cols of the chosen cells
    masks: np.ndarray  # (n, 127, 127) their ground truth
    cls: np.ndarray
    loc: np.ndarray
    loc_weight: np.ndarray


@dataclass
class Batch:
    samples: list[Sample]

    def stack(self, name: str) -> torch.Tensor:
        return torch.stack([getattr(s, name) for s in self.samples])

    def labels(self, name: str) -> torch.Tensor:
        return torch.from_numpy(np.stack([getattr(s, name) for s in self.samples]))


def chunk_steps(settings: Settings) -> tuple[int, int]:
    """(pairs a chunk, steps a chunk)."""
    per = -(-CHUNK // settings.batch)
    return per * settings.batch, per * settings.reuse


def draw_pair(tracks: list[Track], settings: Settings, rng: np.random.Generator) -> tuple:
    """(pair, targets, chosen cells) drawn from `rng`; a `negatives` share are negative pairs."""
    track = tracks[rng.integers(len(tracks))]
    if rng.random() < settings.negatives:
        pair = make_negative(track, tracks, rng, settings.max_gap, settings.augment)
    else:
        pair = make_pair(track, rng, settings.max_gap, settings.augment)
    t = anchor_targets(None if pair.negative else pair.box, rng)
    chosen = t.cells
    if len(chosen) > settings.mask_cells:
        chosen = chosen[np.sort(rng.choice(len(chosen), settings.mask_cells, replace=False))]
    return pair, t, chosen


def _chw(images: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(np.stack(images).transpose(0, 3, 1, 2)))


def frozen_features(model: SiamMaskNet, drawn: list, settings: Settings) -> list[Sample]:
    """The frozen part's output for each drawn pair, computed once without gradients, a batch at a time."""
    samples = []
    for start in range(0, len(drawn), settings.batch):
        part = drawn[start : start + settings.batch]
        z_img, x_img = _chw([p.exemplar for p, _, _ in part]), _chw([p.search for p, _, _ in part])
        if settings.train == "all":
            zs, xs, pads = list(z_img), list(x_img), None
        else:
            with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=settings.bf16):
                z3 = model.features.features(z_img)[-1]
                p0, p1, p2, p3 = model.features.features(x_img)
                if settings.train == "heads":  # the adjust layer is frozen too
                    z3, p3 = model.features.downsample(z3)[:, :, 4:-4, 4:-4], model.features.downsample(p3)
            zs, xs = list(z3), list(p3)
            pads = [F.pad(p, [pad] * 4) for p, pad in zip((p0, p1, p2), REFINE_PADS)]
        for k, (pair, t, chosen) in enumerate(part):
            windows = []
            if pads is not None and settings.train == "mask":
                windows = [torch.stack([p[k, :, step * i : step * i + size, step * j : step * j + size]
                                        for i, j in chosen]) if len(chosen) else p[:0, :, :size, :size]
                           for p, size, step in zip(pads, REFINE_WINDOWS, REFINE_STEPS)]
            masks = np.array([mask_window(pair.mask, r, c) for r, c in chosen], np.float32)
            samples.append(Sample(zs[k], xs[k], windows, np.asarray(chosen).reshape(-1, 2),
                                  masks.reshape(-1, MASK_SIZE, MASK_SIZE), t.cls.astype(np.int64), t.loc,
                                  t.loc_weight))
    return samples


def losses(model: SiamMaskNet, batch: Batch, settings: Settings) -> dict[str, torch.Tensor]:
    """The weighted losses of one batch ('total' is their sum)."""
    w = settings.weights
    cells = [(b, r, c) for b, s in enumerate(batch.samples) for r, c in s.cells]
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=settings.bf16):
        z, x = batch.stack("z"), batch.stack("x")
        if settings.train == "heads":
            zf, xf = z, x
        else:
            p0 = p1 = p2 = None
            if settings.train == "all":
                z = model.features.features(z)[-1]
                p0, p1, p2, x = model.features.features(x)
            zf = model.features.downsample(z)[:, :, 4:-4, 4:-4]  # as embed_template crops it
            xf = model.features.downsample(x)
        rpn = model.rpn_model
        cls = model._branch(rpn.cls, xf, rpn.cls.conv_kernel(zf))
        loc = model._branch(rpn.loc, xf, rpn.loc.conv_kernel(zf))
        out = {"cls": w.cls * cls_loss(cls, batch.labels("cls")),
               "loc": w.loc * loc_loss(loc, batch.labels("loc"), batch.labels("loc_weight"))}
        if settings.train != "heads" and cells:
            kernel = model.mask_model.mask.conv_kernel(zf)
            b, r, c = (list(v) for v in zip(*cells))

            def cut(t: torch.Tensor, size: int, step: int) -> torch.Tensor:
                return torch.stack([t[k, :, step * i : step * i + size, step * j : step * j + size]
                                    for k, i, j in zip(b, r, c)])

            if settings.train == "all":
                padded = [F.pad(p, [pad] * 4) for p, pad in zip((p0, p1, p2), REFINE_PADS)]
                windows = [cut(p, size, step) for p, size, step in zip(padded, REFINE_WINDOWS, REFINE_STEPS)]
            else:
                windows = [torch.cat([s.windows[i] for s in batch.samples]) for i in range(3)]
            logits = model.refine(cut(xf, SEARCH_WINDOW, 1), kernel[b], *windows)
            target = torch.from_numpy(np.concatenate([s.masks for s in batch.samples]))
            out["mask"] = w.mask * mask_loss(logits, target)
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
        self._chunk: tuple[int, list[Sample | None], np.ndarray] | None = None

    def batch(self, step: int) -> Batch:
        """Step `step`'s batch. A chunk's pairs are drawn from (seed, chunk, pair) alone and trained
        on in the order of `reuse` shuffles of the chunk; a pair's frozen features are computed when
        a step first needs it, together with the pairs of the first shuffle's batch that holds it
        (so the same groups run through the backbone whatever step a resumed run starts from)."""
        pairs, steps = chunk_steps(self.settings)
        chunk, within = divmod(step, steps)
        seed = (self.settings.seed, CHUNK_STREAM, chunk)
        if self._chunk is None or self._chunk[0] != chunk:
            rng = np.random.default_rng(seed)
            order = np.concatenate([rng.permutation(pairs) for _ in range(self.settings.reuse)])
            self._chunk = (chunk, [None] * pairs, order)
        _, samples, order = self._chunk
        b = self.settings.batch
        chosen = order[within * b : (within + 1) * b]
        first = {int(i): k // b for k, i in enumerate(order[:pairs])}  # the first-pass batch of each pair
        for group in sorted({first[int(i)] for i in chosen if samples[i] is None}):
            members = order[group * b : (group + 1) * b]
            drawn = [draw_pair(self.tracks, self.settings, np.random.default_rng([*seed, int(i)])) for i in members]
            for i, sample in zip(members, frozen_features(self.model, drawn, self.settings)):
                samples[i] = sample
        return Batch([samples[i] for i in chosen])  # type: ignore[misc]

    def train_step(self) -> dict[str, float]:
        batch = self.batch(self.step)
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
