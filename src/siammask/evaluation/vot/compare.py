"""Two engines, one dataset, the supervised protocol: how far apart are they (`siammask compare`).

The figures, in the order a tracker user asks for them: closed-loop events equal and each
sequence's first divergence, the two polygons as regions (VOT overlap) and with their vertices
matched up (all frames both tracked, and only those in step: before the first divergence), then
the report figures of both runs. The command's help (commands/compare.py) says what each means.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from siammask.errors import SiamMaskError
from siammask.evaluation.vot.agreement import PolygonPairs, agree, describe_overlap, difference_stats, overlap_stats


@dataclass
class SequenceComparison:
    name: str
    frames: int
    events_equal: int
    first_divergence: int | None  # frame index, or None when every event is equal
    failures: tuple[int, int]
    polygon_diff: np.ndarray = field(repr=False)  # per frame both tracked: max |coordinate difference|, matched
    in_step: np.ndarray = field(repr=False)  # same mask: the frame is before the first divergence
    pairs: PolygonPairs = field(default_factory=PolygonPairs, repr=False)  # the polygons, for the overlaps
    overlap: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)  # VOT overlap, same frames


@dataclass
class Comparison:
    labels: tuple[str, str]
    sequences: list[SequenceComparison]
    report: dict[str, Any]  # build_report's dict for both trackers

    @property
    def frames(self) -> int:
        return sum(s.frames for s in self.sequences)

    @property
    def events_equal_pct(self) -> float:
        return 100.0 * sum(s.events_equal for s in self.sequences) / max(1, self.frames)

    def polygon_stats(self, in_step_only: bool = False) -> dict[str, float]:
        """mean / p95 / max of the per-frame polygon difference (px, vertices matched) and the share
        of frames within 0.5 px and 1 px; NaN when no frame qualifies."""
        diffs = [s.polygon_diff[s.in_step] if in_step_only else s.polygon_diff for s in self.sequences]
        return difference_stats(np.concatenate(diffs) if diffs else np.zeros(0))

    def overlap_stats(self, in_step_only: bool = False) -> dict[str, float]:
        """frames, mean and lowest VOT overlap of the two polygons, share at 0.9 or more."""
        values = [s.overlap[s.in_step] if in_step_only else s.overlap for s in self.sequences]
        return overlap_stats(np.concatenate(values) if values else np.zeros(0))

    def worst(self) -> dict[str, object] | None:
        """The frame whose two polygons overlap least, where it is and what differs there."""
        found = [w for s in self.sequences if (w := s.pairs.worst(s.overlap)) is not None]
        return min(found, key=lambda w: w["overlap"], default=None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "models": list(self.labels),
            "frames": self.frames,
            "events_equal_pct": self.events_equal_pct,
            "polygon_diff_px": {"all": self.polygon_stats(), "in_step": self.polygon_stats(True)},
            "overlap": {"all": self.overlap_stats(), "in_step": self.overlap_stats(True), "lowest": self.worst()},
            "sequences": {
                s.name: {"frames": s.frames, "events_equal": s.events_equal,
                         "first_divergence": s.first_divergence, "failures": list(s.failures)}
                for s in self.sequences
            },
            "report": self.report,
        }


def select(dataset: Any, sequences: list[str] | None, frames: int | None) -> Any:
    """The dataset restricted to the named sequences and to the first `frames` frames of each."""
    from dataclasses import replace

    from siammask.datasets.vot import Dataset

    if frames is not None and frames < 2:
        raise SiamMaskError(f"--frames must be at least 2 (an init and a tracked frame), got {frames}")
    chosen = dataset.sequences
    if sequences:
        missing = [s for s in sequences if s not in dataset.names]
        if missing:
            raise SiamMaskError(f"dataset {dataset.name} has no sequence {', '.join(missing)}")
        chosen = [dataset[s] for s in sequences]
    if frames is not None:
        chosen = [replace(s, frames=s.frames[:frames], groundtruth=s.groundtruth[:frames],
                          tags={k: v[:frames] for k, v in s.tags.items()}) for s in chosen]
    return Dataset(dataset.root, dataset.name, list(chosen))


def compare_engines(
    dataset: Any, engines: tuple[Any, Any], labels: tuple[str, str], results_dir: str | Path,
    eao_interval: tuple[int, int] | None = None, on_sequence: Any = None,
) -> Comparison:
    """Run both (engine, config) pairs over `dataset` with the supervised protocol; compare."""
    from siammask.evaluation.vot.protocol import run_supervised
    from siammask.evaluation.vot.report import build_report, evaluate_folder
    from siammask.evaluation.vot.results import result_path, write_trajectory
    from siammask.tracking.tracker import Tracker

    out = []
    for seq in dataset:
        runs = []
        for (engine, config), label in zip(engines, labels):
            run = run_supervised(Tracker(engine, config), [str(p) for p in seq.frames], seq.groundtruth)
            write_trajectory(result_path(results_dir, label, seq.name), run.regions)
            runs.append(run)
        out.append(_compare_runs(seq.name, runs[0], runs[1]))
        if on_sequence is not None:
            on_sequence(out[-1])
    metrics = evaluate_folder(dataset, results_dir, list(labels), eao_interval)
    return Comparison(labels, out, build_report(dataset, metrics))


def _compare_runs(name: str, a: Any, b: Any) -> SequenceComparison:
    """Two supervised runs of one sequence (their records), frame by frame."""
    seen = agree(name, [(r.event, r.polygon) for r in a.records], [(r.event, r.polygon) for r in b.records])
    pairs = seen.pairs
    return SequenceComparison(name, len(seen.equal), sum(seen.equal), seen.first_divergence, (a.failures, b.failures),
                              pairs.vertex_differences(), seen.in_step, pairs, pairs.overlaps())


def format_comparison(c: Comparison) -> str:
    """The figures as text: agreement, divergences, polygon differences, then the report table."""
    from siammask.evaluation.vot.report import format_table

    a, b = c.labels
    lines = [f"{b} against {a}: {c.frames} frames, {len(c.sequences)} sequence{'' if len(c.sequences) == 1 else 's'}",
             f"closed-loop events equal: {c.events_equal_pct:.2f} %"]
    for s in c.sequences:
        where = "all equal" if s.first_divergence is None else f"first divergence at frame {s.first_divergence}"
        lines.append(f"  {s.name}: {s.events_equal}/{s.frames} equal, {where}; failures {s.failures[0]} vs "
                     f"{s.failures[1]}")
    lines.append(describe_overlap(c.overlap_stats(), c.worst()))
    for title, stats in (("in step (before any divergence)", c.polygon_stats(True)),
                         ("all frames both tracked", c.polygon_stats())):
        lines.append(
            f"polygon difference (vertices matched), {title}: {stats['frames']} frames, mean {stats['mean']:.3f} px, "
            f"p95 {stats['p95']:.3f} px, max {stats['max']:.3f} px, within 0.5 px {stats['within_0.5px']:.1f} %, "
            f"within 1 px {stats['within_1px']:.1f} %"
        )
    return "\n".join(lines) + "\n\n" + format_table(c.report)


def default_labels(engines: list[Any], paths: list[str]) -> tuple[str, str]:
    """`<folder>_<precision>` (`vot_fp32`, `vot_int8`: the precision is not repeated when the name
    already holds it), then the engine's name when both are alike, then A and B."""
    labels = [_label(Path(p).stem, _short_precision(getattr(e, "precision", "fp32"))) for (e, _), p in
              zip(engines, paths)]
    if labels[0] == labels[1]:
        labels = [f"{label}_{getattr(e, 'name', '')}".rstrip("_") for label, (e, _) in zip(labels, engines)]
    if labels[0] == labels[1]:
        labels = [f"{labels[0]}_A", f"{labels[1]}_B"]
    return labels[0], labels[1]


def _short_precision(precision: str) -> str:
    """An engine's precision string as a user names it: `fp32+int8` (a quantized export) is int8."""
    parts = precision.split("+")
    return "int8" if "int8" in parts else parts[0]


def _label(stem: str, precision: str) -> str:
    return stem if precision in stem.lower().replace("-", "_").split("_") else f"{stem}_{precision}"
