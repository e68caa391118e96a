"""INT8 copy of an export, calibrated on what the tracker really feeds the graphs.

The fp32 export tracks a dataset under the supervised protocol through a recording engine
(deploy.quantize.RecordingEngine), and the recorded inputs calibrate the static quantization
that deploy.quantize performs. This module stands above the engines, the datasets and the
evaluation protocol it runs, so that deploy/ (the graph contract, export, the graph work of
quantization) imports none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from siammask.datasets.vot import load_dataset
from siammask.deploy.manifest import export_folder_problem
from siammask.deploy.quantize import (
    DEFAULT_FORMAT,
    DEFAULT_FRAMES,
    DEFAULT_GRAPHS,
    GRAPH_NAMES,
    CalibrationSet,
    RecordingEngine,
    check_fp32_model,
    check_layers,
    frame_shares,
    write_int8_export,
)
from siammask.engines.onnx_engine import OnnxEngine
from siammask.errors import SiamMaskError
from siammask.evaluation.vot.protocol import run_supervised
from siammask.files import check_output_folder
from siammask.tracking.tracker import Tracker


class _Enough(Exception):
    """Stops a sequence's run once its share of calibration frames is recorded."""


def collect_calibration(
    engine: Any, dataset: str | Path, frames: int = DEFAULT_FRAMES,
    on_frame: Callable[[str, int], None] | None = None,
) -> CalibrationSet:
    """Track the dataset's sequences with `engine` (the fp32 one) under the supervised protocol and
    record the first `frames` search calls, shared evenly between the sequences.

    The supervised protocol (re-init after failures) is used so that the set also holds the crops
    after re-initialisations, which is what the tracker feeds the graphs in an evaluation.
    """
    if frames < 1:
        raise SiamMaskError(f"--frames must be at least 1, got {frames}")
    data = load_dataset(dataset)
    recorder = RecordingEngine(engine)
    config = getattr(engine, "tracker_config", None)
    counts: dict[str, int] = {}
    for seq, share in zip(data.sequences, frame_shares(frames, len(data))):
        if share == 0:
            continue
        start = len(recorder.feeds["search"])

        def stop_when_done(f: int, record: Any, seq_name: str = seq.name, start: int = start,
                           share: int = share) -> None:
            done = len(recorder.feeds["search"]) - start
            if on_frame is not None and record.event != "skip":
                on_frame(seq_name, f)
            if done >= share:
                raise _Enough

        try:
            run_supervised(Tracker(recorder, config), [str(p) for p in seq.frames], seq.groundtruth,
                           on_frame=stop_when_done)
        except _Enough:
            pass
        counts[seq.name] = len(recorder.feeds["search"]) - start
    calibration = CalibrationSet(recorder.feeds, data.name, counts)
    if calibration.frames == 0:
        raise SiamMaskError(f"calibration dataset {dataset}: its sequences gave no tracked frame to calibrate on")
    return calibration


def quantize_model(
    model: str | Path, calibration: str | Path, output: str | Path, frames: int = DEFAULT_FRAMES, *,
    graphs: Iterable[str] = DEFAULT_GRAPHS, fmt: str = DEFAULT_FORMAT, keep_fp32: Iterable[str] | None = None,
    threads: int | None = None, force: bool = False, on_frame: Callable[[str, int], None] | None = None,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Write an INT8 copy of the fp32 export `model` into `output` (atomically) and return it."""
    model, output = Path(model), Path(output)
    manifest = check_fp32_model(model)
    if frames < 1:
        raise SiamMaskError(f"--frames must be at least 1, got {frames}")
    graphs = list(graphs)
    unknown = [g for g in graphs if g not in GRAPH_NAMES]
    if unknown or not graphs:
        raise SiamMaskError(f"graphs to quantize must be among {', '.join(GRAPH_NAMES)}, got {', '.join(unknown)}")
    if output.resolve() == model.resolve():
        raise SiamMaskError("--output must differ from --model: the fp32 export stays as it is")
    check_output_folder(output, force, export_folder_problem)  # only an unchanged export of ours
    # checked before minutes of calibration tracking; None: the measured default (docs/int8.md)
    keep_fp32 = check_layers(model, manifest, graphs, None if keep_fp32 is None else list(dict.fromkeys(keep_fp32)))
    say = log or (lambda _msg: None)
    engine = OnnxEngine(model, providers="cpu", threads=threads)
    say(f"recording calibration inputs: fp32 tracker over {calibration} ({frames} frames)")
    cal = collect_calibration(engine, calibration, frames, on_frame=on_frame)
    del engine
    return write_int8_export(model, manifest, cal, output, calibration, graphs=graphs, fmt=fmt,
                             keep_fp32=keep_fp32, say=say)
