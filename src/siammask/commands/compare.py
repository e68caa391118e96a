"""`siammask compare`: two engines, one dataset, the supervised protocol: how far apart are they?

Made for judging an INT8 (or fp16, or torch vs ONNX) model against the fp32 one. The question a
tracker user asks is not "how different are the scores" but "does it take the same decisions", so
the figures are, in that order:

* closed-loop events equal (%): frames where both runs did the same thing (init, track, lost,
  skip). One different decision (a failure one run has and the other not) shifts every later
  re-initialisation, so the first divergence of each sequence is named too.
* the two polygons as regions: their VOT overlap (intersection over union) over frames both
  tracked, its mean, its lowest (named: sequence, frame, and whether one run gave its axis-aligned
  box where the other gave a rotated polygon) and the share of frames at 0.9 or more;
* the polygons' largest coordinate difference (px), vertices matched up (a rotated box may start
  at any corner); "in step" counts only frames before the sequence's first event divergence,
  where both runs started from the same state.
* the report figures of both runs (accuracy, failures, EAO), as `siammask report` computes them
  from the result files (written to --results when given, else to a temporary folder).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from siammask.commands.options import add_command, positive_int, thread_count
from siammask.errors import SiamMaskError, printable
from siammask.evaluation.vot.agreement import PolygonPairs, describe_overlap, difference_stats, overlap_stats

EPILOG = """\
examples:
  siammask compare --dataset tests/data/golden/dataset --model models/seeded --model models/seeded_int8
  siammask compare --dataset data/VOT2016 --model models/vot --model models/vot_int8 --threads 2 \\
      --results results/compare --json compare.json
  siammask compare --dataset data/VOT2016 --model SiamMask_VOT.pth --model models/vot \\
      --backend torch --backend onnxruntime                                  # PyTorch vs ONNX Runtime
  siammask compare --dataset tests/data/golden/dataset --sequence synth00 --frames 20 \\
      --model models/seeded --model models/seeded_int8 --eao-interval 5,20

A --model is an exported folder or a .pth checkpoint. A checkpoint runs on PyTorch; a folder runs on
the engine --backend names (default auto: the one measured fastest for its precision on this machine,
ONNX Runtime or OpenVINO, see docs/engines.md). Give --backend once for both models or twice, one per
--model (e.g. the same INT8 folder on onnxruntime, then openvino). The first lines say which engine
and precision ran each model.
"""


HELP = "closed-loop agreement of two models on a dataset (events, polygons, report)"


def register(sub: argparse._SubParsersAction) -> None:
    from siammask.engines.registry import BACKENDS

    p = add_command(sub, "compare", HELP, __doc__, EPILOG)
    p.add_argument("--dataset", required=True, metavar="DIR", help="VOT-layout dataset (list.txt)")
    p.add_argument("--model", action="append", required=True, metavar="PATH",
                   help="exported folder or .pth checkpoint; give exactly two (the first is the baseline)")
    p.add_argument("--name", action="append", metavar="NAME",
                   help="tracker names for the two models (default: from folder name and precision)")
    p.add_argument("--sequence", action="append", metavar="NAME", help="only these sequences (repeatable)")
    p.add_argument("--frames", type=positive_int, metavar="N", help="only the first N frames of each sequence")
    p.add_argument("--backend", action="append", choices=BACKENDS, metavar="NAME",
                   help="engine for an exported folder: auto (default), onnxruntime, openvino (torch: a "
                        "checkpoint's); once for both models or twice, one per --model")
    p.add_argument("--threads", type=thread_count, metavar="N", help="threads per engine (default: all cores)")
    p.add_argument("--results", metavar="DIR", help="keep both runs' result files here (report layout)")
    p.add_argument("--eao-interval", metavar="LOW,HIGH", help="EAO interval replacing both defaults")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    p.set_defaults(func=run)


# --------------------------------------------------------------------------------------------
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


def model_spec(path: str, threads: int | None, backend: str | None = None) -> Any:
    """An EngineSpec for a folder (on `backend`, None/auto: the measured fastest) or a checkpoint
    file (PyTorch); a backend that cannot run it is refused when the spec is checked."""
    from siammask.engines.factory import EngineSpec

    if not (Path(path).is_dir() or Path(path).is_file()):
        raise SiamMaskError(f"--model {path}: no such folder or checkpoint file")
    return EngineSpec.for_path(path, threads=threads, backend=backend)


def model_backends(backends: list[str] | None, paths: list[str]) -> list[str | None]:
    """--backend given once applies to every exported folder (a checkpoint always runs PyTorch);
    given twice, one per --model, in order."""
    if not backends:
        return [None, None]
    if len(backends) == 2:
        return list(backends)
    if len(backends) != 1:
        raise SiamMaskError(f"give --backend once (for both models) or twice (one per --model), got {len(backends)}")
    return [None if Path(p).is_file() else backends[0] for p in paths]


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
    events_a = [r.event for r in a.records]
    events_b = [r.event for r in b.records]
    equal = [x == y for x, y in zip(events_a, events_b)]
    first = next((f for f, same in enumerate(equal) if not same), None)
    pairs, in_step = PolygonPairs(), []
    for f, (ra, rb) in enumerate(zip(a.records, b.records)):
        if ra.polygon is not None and rb.polygon is not None:
            pairs.add(ra.polygon, rb.polygon, f"{name} frame {f}")
            in_step.append(first is None or f < first)
    return SequenceComparison(name, len(equal), sum(equal), first, (a.failures, b.failures),
                              pairs.vertex_differences(), np.array(in_step, dtype=bool), pairs, pairs.overlaps())


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


def run(args: argparse.Namespace) -> int:
    import tempfile

    from siammask.datasets.vot import load_dataset
    from siammask.evaluation.vot.report import parse_interval
    from siammask.files import check_name

    if len(args.model) != 2:
        raise SiamMaskError(f"give --model exactly twice (baseline, then the model to judge), got {len(args.model)}")
    if args.name and len(args.name) != 2:
        raise SiamMaskError(f"give --name twice (one per --model) or not at all, got {len(args.name)}")
    if args.name and args.name[0] == args.name[1]:
        raise SiamMaskError("the two --name values must differ")
    interval = parse_interval(args.eao_interval) if args.eao_interval else None
    backends = model_backends(args.backend, args.model)
    specs = [model_spec(m, args.threads, b) for m, b in zip(args.model, backends)]
    for spec in specs:
        spec.check()  # a backend that cannot run its model is refused before the dataset is read
    dataset = select(load_dataset(args.dataset), args.sequence, args.frames)
    engines = [spec.build() for spec in specs]
    labels = tuple(args.name) if args.name else default_labels(engines, args.model)
    for label in labels:
        check_name(label, "tracker name (--name, or the model's folder name)")
    for (engine, _), label, spec in zip(engines, labels, specs):
        print(printable(f"{label}: {getattr(engine, 'name', '?')} {getattr(engine, 'precision', '?')} "
                        f"({'--backend given' if spec.choice.reason == 'given' else spec.choice.reason})"))

    def progress(s: SequenceComparison) -> None:
        print(f"  {s.name}: {s.events_equal}/{s.frames} events equal", flush=True)

    with tempfile.TemporaryDirectory(prefix="siammask-compare.") as tmp:
        results = args.results or tmp
        comparison = compare_engines(dataset, (engines[0], engines[1]), labels, results, interval, progress)
    print(format_comparison(comparison), end="")
    if args.json:
        from siammask.evaluation.publish import to_json
        from siammask.files import write_text_atomically

        try:
            write_text_atomically(Path(args.json), to_json(comparison.to_dict()))
        except OSError as exc:
            raise SiamMaskError(f"--json {args.json}: cannot be written ({exc.strerror or exc})") from None
        print(f"figures written to {args.json}")
    return 0
