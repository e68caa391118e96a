"""Report figures (PNG): expected-overlap curves with the EAO interval shaded, and the AR plot.

Figures are built on matplotlib's object API with the Agg canvas, not pyplot, so nothing global
(current figure, backend) is touched. Several trackers are overlaid in each figure.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from siammask.evaluation.publish import save_figure
from siammask.evaluation.vot.metrics import TrackerMetrics


def write_plots(metrics: dict[str, TrackerMetrics], folder: str | os.PathLike[str]) -> list[Path]:
    """Write `eao_curves.png` and `accuracy_robustness.png` into `folder`; return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [
        save_figure(eao_figure(metrics), folder / "eao_curves.png"),
        save_figure(ar_figure(metrics), folder / "accuracy_robustness.png"),
    ]


def eao_figure(metrics: dict[str, TrackerMetrics]) -> Figure:
    """Two panels, pysot's and vot-toolkit's curve, each with its EAO interval shaded."""
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    panels = fig.subplots(1, 2, sharey=True)
    first = next(iter(metrics.values()))
    for ax, style, interval in zip(panels, ("pysot", "vot"), (first.interval_pysot, first.interval_vot)):
        # pysot's interval counts lengths from 1 (curve index low - 1); vot-toolkit's is an index
        shift = 1 if style == "pysot" else 0
        ax.axvspan(interval[0] - shift, interval[1] - shift, color="0.88", label=f"interval {list(interval)}")
        for name, m in metrics.items():
            curve = m.curve_pysot if style == "pysot" else m.curve_vot
            score = m.eao_pysot if style == "pysot" else m.eao_vot
            ax.plot(np.arange(len(curve)), curve, lw=1.4, label=f"{name} (EAO {_fmt(score)})")
        ax.set_title(f"Expected overlap ({'pysot' if style == 'pysot' else 'vot-toolkit'})")
        ax.set_xlabel("sequence length (frames)")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper right")
    panels[0].set_ylabel("expected average overlap")
    return fig


def ar_figure(metrics: dict[str, TrackerMetrics]) -> Figure:
    """Accuracy against robustness (failures per 100 frames); up and left is better."""
    fig = Figure(figsize=(5.5, 4.5), layout="constrained")
    ax = fig.subplots()
    shown = [(n, m) for n, m in metrics.items() if not (math.isnan(m.accuracy) or math.isnan(m.robustness))]
    for name, m in shown:
        ax.scatter([m.robustness], [m.accuracy], s=50, label=name, zorder=3)
    ax.set_xlabel("robustness: failures per 100 frames (lower is better)")
    ax.set_ylabel("accuracy: mean overlap (higher is better)")
    ax.set_xlim(*_padded([m.robustness for _, m in shown], floor=0.0, least_span=1.0))
    ax.set_ylim(*_padded([m.accuracy for _, m in shown], floor=0.0, least_span=1.0))
    ax.grid(alpha=0.3)
    ax.set_title("Accuracy - robustness")
    if shown:
        ax.legend(fontsize=8)
    return fig


def _padded(values: list[float], floor: float, least_span: float) -> tuple[float, float]:
    """Axis limits showing every value whole: from `floor` (or the lowest value) over at least
    `least_span` and every value, plus a margin either side, so that a marker at the edge of the
    range (no failures: robustness 0; accuracy 1) is not cut in half by the axis."""
    low = min([floor, *values])
    high = max([low + least_span, *values])
    margin = 0.06 * (high - low)
    return low - margin, high + margin


def _fmt(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.3f}"
