"""VOS report figures (PNG): per-object J and F bars, and J over the frames; trackers overlaid.

Like vot/plots.py: matplotlib's object API on the Agg canvas, nothing global touched.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from siammask.evaluation.publish import save_figure

CURVE_POINTS = 50  # sequences differ in length: J is resampled onto 0..100% of each sequence


def write_vos_plots(report: dict[str, Any], folder: str | os.PathLike[str]) -> list[Path]:
    """Write `per_object_jf.png` and `j_over_frames.png` into `folder`; return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [
        save_figure(per_object_figure(report["trackers"]), folder / "per_object_jf.png"),
        save_figure(j_over_frames_figure(report["trackers"]), folder / "j_over_frames.png"),
    ]


def per_object_figure(trackers: dict[str, Any]) -> Figure:
    """Two panels (J, F): one group of bars per object, one bar per tracker."""
    objects = list(next(iter(trackers.values()))["per_object"])
    fig = Figure(figsize=(max(6.0, 0.45 * len(objects) * max(1, len(trackers)) + 2), 6.5), layout="constrained")
    panels = fig.subplots(2, 1, sharex=True)
    x = np.arange(len(objects))
    bar = 0.8 / len(trackers)
    for ax, measure in zip(panels, ("J", "F")):
        for i, (name, t) in enumerate(trackers.items()):
            values = [t["per_object"][o][measure] for o in objects]
            ax.bar(x + (i - (len(trackers) - 1) / 2) * bar, values, bar, label=f"{name} ({t[measure + '-Mean']:.3f})")
        ax.set_ylabel(f"{measure} mean")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=8, loc="upper right")
    panels[0].set_title("Region similarity J and boundary accuracy F per object")
    panels[1].set_xticks(x, objects, rotation=60, ha="right", fontsize=8)
    return fig


def j_over_frames_figure(trackers: dict[str, Any]) -> Figure:
    """Mean J over all objects against the position in the sequence (0 first evaluated frame, 100
    the last), each object's curve resampled linearly: how fast the segmentation decays."""
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.subplots()
    grid = np.linspace(0, 1, CURVE_POINTS)
    for name, t in trackers.items():
        curves = []
        for values in (np.asarray(v["J"], dtype=float) for v in t["per_frame"].values()):
            if values.size:
                where = np.linspace(0, 1, values.size) if values.size > 1 else np.zeros(1)
                curves.append(np.interp(grid, where, values))
        if curves:
            ax.plot(100 * grid, np.mean(curves, axis=0), lw=1.4, label=f"{name} (J-Decay {t['J-Decay']:.3f})")
    ax.set_xlabel("position in the sequence (% of evaluated frames)")
    ax.set_ylabel("J, mean over objects")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.set_title("Region similarity over the frames")
    ax.legend(fontsize=8)
    return fig
