"""From raw scores and box deltas to the next target state: anchors, penalties, cosine window.

Arithmetic follows the reference's dtypes (float32 network outputs and anchors, float64 state) so
that the chosen candidate is the reference's one, ties included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from siammask.errors import SiamMaskError
from siammask.tracking.config import TrackerConfig


def generate_anchors(config: TrackerConfig, score_size: int | None = None) -> np.ndarray:
    """Anchors (anchor_num*score_size^2, 4) as cx, cy, w, h in search-crop pixels from its centre.

    Ordered anchor-major, then row, then column: the order of the flattened network outputs.
    `score_size` defaults to the normal search's map (a wide search's map is larger).
    """
    area = config.total_stride * config.total_stride
    shapes = []
    for ratio in config.ratios:
        ws = int(math.sqrt(area / ratio))
        hs = int(ws * ratio)
        for scale in config.scales:
            w, h = ws * scale, hs * scale
            # the reference stores corners then converts back, in float32
            x1, y1, x2, y2 = np.array([-w * 0.5, -h * 0.5, w * 0.5, h * 0.5], dtype=np.float32)
            shapes.append([(x1 + x2) * 0.5, (y1 + y2) * 0.5, x2 - x1, y2 - y1])
    base = np.array(shapes, dtype=np.float32)
    n = config.score_size if score_size is None else score_size
    origin = -(n // 2) * config.total_stride
    offsets = origin + config.total_stride * np.arange(n)
    xx, yy = np.meshgrid(offsets, offsets)
    anchors = np.repeat(base, n * n, axis=0)
    anchors[:, 0] = np.tile(xx.ravel(), len(base)).astype(np.float32)
    anchors[:, 1] = np.tile(yy.ravel(), len(base)).astype(np.float32)
    return anchors


def cosine_window(config: TrackerConfig, score_size: int | None = None) -> np.ndarray:
    n = config.score_size if score_size is None else score_size
    window = np.outer(np.hanning(n), np.hanning(n))
    return np.tile(window.ravel(), config.anchor_num)


@dataclass(frozen=True)
class Decision:
    """What the scores decide for one frame."""

    pos: np.ndarray  # new centre (x, y), float64, before clamping to the image
    size: np.ndarray  # new size (w, h)
    score: float  # foreground probability of the chosen anchor
    row: int  # its score-map cell, for the mask
    col: int


def _change(r: np.ndarray) -> np.ndarray:
    return np.maximum(r, 1.0 / r)


def _padded_size(w: np.ndarray | float, h: np.ndarray | float) -> np.ndarray:
    pad = (w + h) * 0.5
    return np.sqrt((w + pad) * (h + pad))


def foreground_scores(cls: np.ndarray) -> np.ndarray:
    """(2*A, S, S) logits -> (A*S*S,) softmax foreground probabilities, in float32."""
    a = cls.shape[0] // 2
    bg = cls[:a].reshape(-1).astype(np.float32)
    fg = cls[a:].reshape(-1).astype(np.float32)
    m = np.maximum(bg, fg)
    e_bg, e_fg = np.exp(bg - m), np.exp(fg - m)
    return e_fg / (e_bg + e_fg)


def check_finite(cls: np.ndarray, loc: np.ndarray, frame: int) -> None:
    """Refuse non-finite engine outputs before they are decoded: a NaN score or delta would become
    a NaN polygon written as if tracked (a checkpoint with overflowing weights does this). Checks
    the whole batch at once and changes nothing when all is finite."""
    bad = ~(np.isfinite(cls).reshape(len(cls), -1).all(axis=1) & np.isfinite(loc).reshape(len(loc), -1).all(axis=1))
    if bad.any():
        targets = ", ".join(str(k) for k in np.flatnonzero(bad)[:5]) + (", ..." if bad.sum() > 5 else "")
        raise SiamMaskError(
            f"frame {frame}: the engine's scores for target {targets} are not finite (NaN or infinity); "
            "the model's weights are broken (overflowing values?)"
        )


@dataclass(frozen=True)
class _Scored:
    """Every anchor's candidate box (crop pixels from its centre), penalty and scores."""

    cx: np.ndarray
    cy: np.ndarray
    w: np.ndarray
    h: np.ndarray
    score: np.ndarray  # foreground probability
    penalty: np.ndarray
    pscore: np.ndarray  # penalised and windowed: what the choice maximises


def _score_anchors(
    cls: np.ndarray, loc: np.ndarray, size: np.ndarray, scale_x: np.float64, anchors: np.ndarray,
    window: np.ndarray, config: TrackerConfig, window_influence: float | None,
) -> _Scored:
    score = foreground_scores(cls)
    delta = loc.reshape(4, -1).astype(np.float32)  # rows dx, dy, dw, dh; each anchor-major
    cx = delta[0] * anchors[:, 2] + anchors[:, 0]
    cy = delta[1] * anchors[:, 3] + anchors[:, 1]
    w = np.exp(delta[2]) * anchors[:, 2]
    h = np.exp(delta[3]) * anchors[:, 3]

    size_in_crop = size * scale_x
    scale_penalty = _change(_padded_size(w, h) / _padded_size(size_in_crop[0], size_in_crop[1]))
    ratio_penalty = _change((size_in_crop[0] / size_in_crop[1]) / (w / h))
    penalty = np.exp(-(ratio_penalty * scale_penalty - 1) * config.penalty_k)
    pscore = penalty * score
    influence = config.window_influence if window_influence is None else window_influence
    pscore = pscore * (1 - influence) + window * influence
    return _Scored(cx, cy, w, h, score, penalty, pscore)


def _decision(s: _Scored, best: int, pos: np.ndarray, size: np.ndarray, scale_x: np.float64, config: TrackerConfig,
              n: int) -> Decision:
    lr = s.penalty[best] * s.score[best] * config.size_lr
    new_pos = np.array([s.cx[best] / scale_x + pos[0], s.cy[best] / scale_x + pos[1]])
    new_size = np.array([
        size[0] * (1 - lr) + (s.w[best] / scale_x) * lr,
        size[1] * (1 - lr) + (s.h[best] / scale_x) * lr,
    ])
    _, row, col = np.unravel_index(best, (config.anchor_num, n, n))
    return Decision(new_pos, new_size, float(s.score[best]), int(row), int(col))


def decide(
    cls: np.ndarray, loc: np.ndarray, pos: np.ndarray, size: np.ndarray, scale_x: float,
    anchors: np.ndarray, window: np.ndarray, config: TrackerConfig, window_influence: float | None = None,
) -> Decision:
    """Pick the best anchor for one target: cls (10,S,S), loc (20,S,S) from its search crop (S is
    the normal search's 25 or a wide search's larger map; `anchors` and `window` must be S's).
    `window_influence` defaults to the settings' (a wide search nearly drops the window)."""
    scale_x = np.float64(scale_x)  # keeps float32 network values promoting to float64 as upstream
    scored = _score_anchors(cls, loc, size, scale_x, anchors, window, config, window_influence)
    return _decision(scored, int(np.argmax(scored.pscore)), pos, size, scale_x, config, cls.shape[-1])


# cells around a picked peak that cannot give another candidate (a peak's neighbours are the
# same object seen from the next anchor)
PEAK_RADIUS = 2


def wide_candidates(
    cls: np.ndarray, loc: np.ndarray, pos: np.ndarray, size: np.ndarray, scale_x: float,
    anchors: np.ndarray, window: np.ndarray, config: TrackerConfig, window_influence: float, count: int,
) -> list[Decision]:
    """Up to `count` decisions at separate peaks of the penalised score map, best first: the first
    is what `decide` picks; each next one the best anchor more than PEAK_RADIUS cells from those
    already taken."""
    scale_x = np.float64(scale_x)
    scored = _score_anchors(cls, loc, size, scale_x, anchors, window, config, window_influence)
    n = cls.shape[-1]
    per_cell = scored.pscore.reshape(config.anchor_num, n, n).max(axis=0)
    open_cells = np.ones((n, n), bool)
    picks = []
    for _ in range(count):
        if not open_cells.any():
            break
        r, c = np.unravel_index(int(np.argmax(np.where(open_cells, per_cell, -np.inf))), (n, n))
        a = int(np.argmax(scored.pscore.reshape(config.anchor_num, n, n)[:, r, c]))
        picks.append(_decision(scored, int(np.ravel_multi_index((a, r, c), (config.anchor_num, n, n))), pos, size,
                               scale_x, config, n))
        open_cells[max(0, r - PEAK_RADIUS): r + PEAK_RADIUS + 1, max(0, c - PEAK_RADIUS): c + PEAK_RADIUS + 1] = False
    return picks
