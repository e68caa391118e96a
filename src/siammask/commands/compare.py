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
from pathlib import Path
from typing import Any

from siammask.commands.options import add_command, positive_int, thread_count
from siammask.errors import SiamMaskError, printable

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


def run(args: argparse.Namespace) -> int:
    import tempfile

    from siammask.datasets.vot import load_dataset
    from siammask.evaluation.vot.compare import (
        SequenceComparison,
        compare_engines,
        default_labels,
        format_comparison,
        select,
    )
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
