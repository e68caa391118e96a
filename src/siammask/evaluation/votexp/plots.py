"""The report's figure: multistart and realtime, each tracker's expected-overlap curve with the EAO
interval shaded (eao_curves.png); unsupervised, each tracker's average overlap per sequence
(average_overlap.png). matplotlib's object API on the Agg canvas."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from siammask.errors import printable
from siammask.evaluation.publish import save_figure
from siammask.evaluation.votexp.report import ExperimentMetrics


def write_plots(metrics: dict[str, ExperimentMetrics], folder: str | os.PathLike[str],
                interval: tuple[int, int]) -> list[Path]:
    """Write the experiment's figure into `folder`; return its path in a list."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if next(iter(metrics.values())).experiment == "unsupervised":
        return [save_figure(_overlap_figure(metrics), folder / "average_overlap.png")]
    return [save_figure(_eao_figure(metrics, interval), folder / "eao_curves.png")]


def _eao_figure(metrics: dict[str, ExperimentMetrics], interval: tuple[int, int]) -> Figure:
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.subplots()
    low, high = interval
    ax.axvspan(low, high, color="0.92")
    for name, m in metrics.items():
        ax.plot(np.arange(len(m.curve)), m.curve, linewidth=1.4, label=f"{printable(name)} (EAO {m.eao:.3f})")
    experiment = next(iter(metrics.values())).experiment
    ax.set(xlabel="sequence length (frames)", ylabel="expected average overlap", ylim=(0, 1),
           title=f"{experiment}: expected-overlap curve, EAO over [{low}, {high}]")
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def _overlap_figure(metrics: dict[str, ExperimentMetrics]) -> Figure:
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.subplots()
    names = list(next(iter(metrics.values())).sequences)
    width = 0.8 / len(metrics)
    for k, (name, m) in enumerate(metrics.items()):
        values = [m.sequences[s]["average_overlap"] for s in names]
        ax.bar(np.arange(len(names)) + k * width, values, width,
               label=f"{printable(name)} ({m.accuracy:.3f})")
    ax.set_xticks(np.arange(len(names)) + 0.4 - width / 2, [printable(s) for s in names], rotation=45, ha="right",
                  fontsize=7)
    ax.set(ylabel="average overlap", ylim=(0, 1), title="unsupervised: average overlap per sequence")
    ax.legend(loc="upper right", fontsize=8)
    return fig
