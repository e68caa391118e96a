"""The one-pass report's figures (matplotlib's object API on the Agg canvas), drawn from the report
dict: pysot's success plot (AUC in the legend), precision plot (at 20 px) and normalised precision
plot (at 0.20), trackers ranked as pysot ranks them; on GOT-10k the toolkit's success plot (AO)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from siammask.errors import printable
from siammask.evaluation.publish import save_figure

STYLES = ("-", "--", "-.", ":")


def write_plots(report: dict[str, Any], folder: str | os.PathLike[str]) -> list[Path]:
    """Write the plots into `folder`: success.png, precision.png, norm_precision.png (pysot's
    measures) or success.png (GOT-10k's); return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    title = f"{printable(report['dataset']['name'])}"
    thresholds = report["thresholds"]
    trackers = report["trackers"]
    if report["measures"] == "got10k":
        curves = {n: (t["ao"], t["curve"]) for n, t in trackers.items()}
        return [save_figure(_figure(thresholds["success"], curves, "overlap threshold", "success rate",
                                    f"Success plot on {title} (AO)", "lower left"), folder / "success.png")]
    plots = (("success", "success", "overlap threshold", "success rate", f"Success plot of OPE on {title} (AUC)",
              "lower left"),
             ("precision", "precision", "location error threshold (px)", "precision",
              f"Precision plot of OPE on {title} (20 px)", "lower right"),
             ("norm_precision", "norm_precision", "normalised location error threshold", "normalised precision",
              f"Normalised precision plot of OPE on {title} (0.20)", "lower right"))
    paths = []
    for key, figure_key, xlabel, ylabel, heading, corner in plots:
        curves = {n: (t[figure_key], t["curves"][key]) for n, t in trackers.items()}
        paths.append(save_figure(_figure(thresholds[key], curves, xlabel, ylabel, heading, corner),
                                 folder / f"{key}.png"))
    return paths


def _figure(x: list[float], curves: dict[str, tuple[float, list[float]]], xlabel: str, ylabel: str, title: str,
            corner: str) -> Figure:
    fig = Figure(figsize=(5.6, 5.0), layout="constrained")
    ax = fig.subplots()
    ranked = sorted(curves.items(), key=lambda item: -_sortable(item[1][0]))
    for i, (name, (figure, curve)) in enumerate(ranked):
        label = f"[{figure:.3f}] {printable(name)}" if figure is not None else printable(name)
        ax.plot(x, curve, linestyle=STYLES[(i // 10) % len(STYLES)], linewidth=1.6, label=label)
    ax.set(xlim=(min(x), max(x)), ylim=(0, 1.02), xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend(loc=corner, fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def _sortable(value: float | None) -> float:
    return float("-inf") if value is None or value != value else float(value)
