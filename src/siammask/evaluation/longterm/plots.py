"""The long-term report's figure: each tracker's precision/recall curve over the confidence
thresholds, its best-F point marked, with F iso-lines (matplotlib's object API on the Agg canvas)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from siammask.errors import printable
from siammask.evaluation.longterm.report import LongTermMetrics
from siammask.evaluation.publish import save_figure


def write_plots(metrics: dict[str, LongTermMetrics], folder: str | os.PathLike[str]) -> list[Path]:
    """Write `precision_recall.png` into `folder`; return its path in a list."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [save_figure(precision_recall_figure(metrics), folder / "precision_recall.png")]


def precision_recall_figure(metrics: dict[str, LongTermMetrics]) -> Figure:
    fig = Figure(figsize=(5.6, 5.0), layout="constrained")
    ax = fig.subplots()
    recall = np.linspace(0.01, 1.0, 200)
    for f in (0.2, 0.4, 0.6, 0.8):  # where precision and recall give this F
        precision = f * recall / (2 * recall - f)
        keep = (precision > 0) & (precision <= 1)
        ax.plot(recall[keep], precision[keep], color="0.85", linewidth=0.8)
        ax.annotate(f"F={f}", (1.0, f / (2 - f)), fontsize=7, color="0.5", ha="right", va="bottom")
    for name, m in metrics.items():
        c, best = m.curves, m.curves.best
        line, = ax.plot(c.recall, c.precision, linewidth=1.5,
                        label=f"{printable(name)} (F {c.f_score[best]:.3f})")
        ax.plot([c.recall[best]], [c.precision[best]], "o", color=line.get_color())
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="tracking recall", ylabel="tracking precision",
           title="long-term precision / recall over the confidence threshold")
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(alpha=0.3)
    return fig
