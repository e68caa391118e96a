"""The seed's whole workflow in one call: checkpoint -> ONNX graphs (fp32, and INT8 from them) ->
the engines -> VOT evaluation -> speed -> a report folder (summary.md, plots, overlay GIF and frame).

With no checkpoint and no dataset it runs on embedded defaults: the embedded trained default (the
seeded backbone with heads, mask and refine trained on synthetic data by `siammask train`,
siammask.model.trained) and a synthetic dataset, so a fresh machine shows every stage in a few
minutes with a tracker that follows its targets. It was never trained on real objects.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from siammask.datasets.vot import Dataset, load_dataset
from siammask.errors import SiamMaskError, first_line
from siammask.evaluation.vot.agreement import PolygonPairs, agree, describe_overlap, difference_stats, overlap_stats
from siammask.evaluation.vot.results import read_trajectory, result_path
from siammask.evaluation.vot.runner import EngineSpec, SequenceOutcome, run_dataset
from siammask.files import check_output_folder, json_text, unexpected_entries, write_text_atomically

MARKER = ".siammask-demo"
# everything a demo writes in its folder: --force replaces a folder holding these and nothing else
ENTRIES = (MARKER, "trained_default.pth", "dataset", "model", "model_int8", "results", "report.json", "plots",
           "bench.json", "davis", "results_vos", "longterm", "results_lt", "overlay.gif", "overlay_frame.png",
           "summary.md")
TRACKERS = {"torch": "SiamMask_torch", "onnxruntime": "SiamMask_onnxruntime",
            "onnxruntime_int8": "SiamMask_onnxruntime_int8"}


@dataclass
class DemoOptions:
    output: Path
    checkpoint: Path | None = None
    dataset: Path | None = None
    sequences: int = 3
    frames: int = 50
    bench_frames: int = 8
    overlay_frames: int = 40
    int8: bool = True
    int8_frames: int = 32  # calibration search crops (siammask quantize --frames)
    vos: bool = True
    vos_frames: int = 12
    long_term: bool = True
    lt_sequences: int = 3
    lt_frames: int = 100
    threads: int | None = None
    force: bool = False  # replace an earlier demo's folder (never anything else)


def demo_owner_problem(folder: Path) -> str | None:
    """None when `folder` is an earlier demo's: its marker, and nothing but what a demo writes
    (a killed run's hidden leftovers of those included); else why not, in a phrase."""
    if not (folder / MARKER).is_file():
        return f"no {MARKER} marker: not a demo folder"
    leftovers = [p.name for p in folder.iterdir() if any(p.name.startswith(f".{name}.") for name in ENTRIES)]
    return unexpected_entries(folder, [*ENTRIES, *leftovers])


def prepare_output(folder: Path, force: bool = False) -> None:
    """The rules of every output folder (files.check_output_folder): a missing or empty folder is
    used; a non-empty one needs `force` and is replaced only if an earlier demo wrote it; never the
    current, home or root folder."""
    if check_output_folder(folder, force, demo_owner_problem, option="--output"):
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("made by siammask demo; replaced by the next demo run\n")


def compare_runs(dataset: Dataset, results: Path, first: str = "torch", second: str = "onnxruntime") -> dict[str, Any]:
    """Frame-by-frame agreement of two runs' result files (by TRACKERS key): the events, and the
    polygons of the frames both tracked compared as regions (VOT overlap) and with their vertices
    matched up, by the same code and in the same words as `siammask compare`."""
    events = same = 0
    pairs = PolygonPairs()
    for seq in dataset:
        a = read_trajectory(result_path(results, TRACKERS[first], seq.name))
        b = read_trajectory(result_path(results, TRACKERS[second], seq.name))
        seen = agree(seq.name, [_frame(r) for r in a], [_frame(r) for r in b])
        events += len(seen.equal)
        same += sum(seen.equal)
        pairs.extend(seen.pairs)
    diffs, overlaps = difference_stats(pairs.vertex_differences()), pairs.overlaps()
    return {
        "frames": events,
        "events_equal_pct": 100.0 * same / events if events else float("nan"),
        "polygon_max_diff_px": diffs["max"] if diffs["frames"] else 0.0,
        "polygon_within_0_5px_pct": diffs["within_0.5px"],
        "overlap": overlap_stats(overlaps),
        "overlap_lowest": pairs.worst(overlaps),
    }



def _frame(region: Any) -> tuple[object, Any]:
    """A result file's line as (event, polygon): an int code (init, failure, skip) has no polygon."""
    return (region, None) if isinstance(region, int) else ("track", region)


def write_overlay(engine_spec: EngineSpec, dataset: Dataset, out: Path, frames: int) -> tuple[Path, Path]:
    """Track the first sequence's first frames and write an overlay GIF and one PNG frame."""
    from siammask.io.sources import read_image
    from siammask.io.visualize import OverlayWriter, draw_overlay
    from siammask.tracking.session import TrackingSession
    from siammask.tracking.tracker import MultiTracker

    engine, config = engine_spec.build()
    seq = next(iter(dataset))
    gif, png = out / "overlay.gif", out / "overlay_frame.png"
    count = min(frames, len(seq))
    with OverlayWriter(gif, fps=10) as writer:
        def draw(index: int, image: np.ndarray, results: list, init: bool) -> None:
            if init:  # the first frame as it is: the target is the one the ground truth names
                writer.write(image)
                return
            drawn = draw_overlay(image, results)
            writer.write(drawn)
            if index == count // 2:
                cv2.imwrite(str(png), drawn)

        session = TrackingSession(MultiTracker(engine, config), [seq.groundtruth[0]], [draw])
        outcome = session.run((f, read_image(seq.frames[f])) for f in range(count))
        if outcome.interrupted is not None:  # the demo stops on Ctrl-C, as it does in every other stage
            raise outcome.interrupted
    return gif, png


class DemoStages:
    """The stage the demo is in, so that a failure names it (and the summary says so)."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say, self.name, self.output = say, "checking the inputs", None

    def enter(self, name: str, text: str) -> None:
        self.name = name
        self.say(text)


def run_vos_part(spec: EngineSpec, out: Path, frames: int) -> str:
    """Segment a small synthetic DAVIS-layout dataset and score it as the official toolkit does."""
    from siammask.datasets.davis import load_davis
    from siammask.datasets.synth_davis import make_davis_dataset
    from siammask.evaluation.vos.report import build_vos_report, format_vos_table
    from siammask.evaluation.vos.runner import run_vos_dataset

    root = make_davis_dataset(out / "davis", sequences=1, frames=frames, objects=2, seed=0)
    dataset = load_davis(root, year=2017)
    results = out / "results_vos"
    davis_spec = dataclasses.replace(spec, preset="davis")
    run_vos_dataset(dataset, davis_spec, results, "SiamMask_onnxruntime", force=True)
    return format_vos_table(build_vos_report(dataset, results, ["SiamMask_onnxruntime"]))


def run_long_term_part(spec: EngineSpec, out: Path, sequences: int, frames: int) -> tuple[str, dict[str, Any]]:
    """Short-term against --long-term on a synthetic VOT-LT set (the target hides behind a panel or
    leaves the view, and comes back elsewhere): long-term precision, recall, F and the targets found
    again, by the long-term report; the precision/recall plot into plots/."""
    from siammask.datasets.synth_lt import make_lt_dataset
    from siammask.datasets.votlt import load_votlt
    from siammask.evaluation.longterm.plots import write_plots
    from siammask.evaluation.longterm.report import build_report, evaluate_folder, format_table
    from siammask.evaluation.longterm.runner import run_longterm_dataset

    # synth's renderer, which the trained default (trained on the broad generator) never saw
    root = make_lt_dataset(out / "longterm", sequences=sequences, frames=frames, size=(320, 240), seed=2027)
    dataset = load_votlt(root)
    results = out / "results_lt"
    names = {"short-term": "SiamMask_short_term", "long-term": "SiamMask_long_term"}
    for mode, name in names.items():
        run_longterm_dataset(dataset, dataclasses.replace(spec, long_term=mode == "long-term"), results, name,
                             force=True)
    metrics = evaluate_folder(dataset, results, list(names.values()))
    write_plots(metrics, out / "plots")
    report = build_report(dataset, metrics)
    return format_table(report), report


def run_demo(options: DemoOptions, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Run every stage; a stage that fails fails the demo: SiamMaskError naming the stage, and the
    summary (when the output folder was made) says which stage failed and why — never "done"."""
    stages = DemoStages(say)
    try:
        return _run_stages(options, stages)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # every stage's failure, with its own words; the traceback is not for users
        detail = first_line(exc)
        if stages.output is not None:
            summary = stages.output / "summary.md"
            summary.write_text(f"# siammask demo report\n\n**FAILED** at stage '{stages.name}': {detail}\n")
        raise SiamMaskError(f"demo failed at stage '{stages.name}': {detail}") from exc


def _run_stages(options: DemoOptions, stages: DemoStages) -> dict[str, Any]:
    from tqdm import tqdm

    from siammask.bench.report import format_report
    from siammask.bench.run import BenchOptions, run_bench
    from siammask.calibration import quantize_model
    from siammask.datasets.synth import make_dataset
    from siammask.deploy.export import export
    from siammask.evaluation.publish import write_json
    from siammask.evaluation.vot.plots import write_plots
    from siammask.evaluation.vot.report import build_report, evaluate_folder, format_table
    from siammask.model.trained import write_checkpoint

    # absolute: the bench runs its workers in another folder, where a relative path names nothing
    out = Path(os.path.abspath(options.output))
    if options.checkpoint is not None and not Path(options.checkpoint).is_file():
        raise SiamMaskError(f"checkpoint {options.checkpoint}: not a file")
    if options.dataset is not None:
        load_dataset(options.dataset)  # refuse bad data before anything is written
    prepare_output(out, options.force)
    stages.output = out
    seeded = options.checkpoint is None
    if seeded:
        stages.enter("embedded weights",
                     "weights: the embedded default, trained on SYNTHETIC data only (no checkpoint given);\n"
                     "         pass --checkpoint SiamMask_VOT.pth (the authors' weights) for real objects")
        checkpoint = write_checkpoint(out / "trained_default.pth")
    else:
        checkpoint = Path(os.path.abspath(options.checkpoint))
    if options.dataset is None:
        stages.enter("synthetic dataset",
                     f"dataset: synthetic, {options.sequences} sequences x {options.frames} frames")
        dataset_dir = make_dataset(out / "dataset", sequences=options.sequences, frames=options.frames, seed=0)
        interval: tuple[int, int] | None = (max(1, options.frames // 5), options.frames)
    else:
        dataset_dir, interval = Path(options.dataset), None
    dataset = load_dataset(dataset_dir)

    stages.enter("export", f"exporting ONNX graphs from {checkpoint.name}")
    model_dir = export(checkpoint, out / "model")

    # ONNX Runtime by name, not auto: auto picks OpenVINO on some CPUs, and the report's trackers,
    # the parity section and README say ONNX Runtime (the bench times every engine)
    specs = {
        "torch": EngineSpec(checkpoint=str(checkpoint), threads=options.threads),
        "onnxruntime": EngineSpec(model=str(model_dir), backend="onnxruntime", threads=options.threads),
    }
    models = [model_dir]
    if options.int8:
        stages.enter("quantize", f"quantizing the search graph to INT8 (calibrated on {options.int8_frames} "
                                 "tracked crops of the dataset)")
        int8_dir = quantize_model(model_dir, dataset_dir, out / "model_int8", options.int8_frames,
                                  threads=options.threads)
        specs["onnxruntime_int8"] = EngineSpec(model=str(int8_dir), backend="onnxruntime", threads=options.threads)
        models.append(int8_dir)

    results = out / "results"
    outcomes: dict[str, list[SequenceOutcome]] = {}
    total = sum(len(s) for s in dataset)
    for backend, spec in specs.items():
        stages.name = f"track {backend}"
        with tqdm(total=total, unit="frame", desc=f"track {backend}", dynamic_ncols=True) as bar:
            def done(o: SequenceOutcome) -> None:
                bar.update(len(dataset[o.name]))
                bar.set_postfix_str(f"{o.name}: {o.fps:.1f} fps, {o.failures} failures")

            outcomes[backend] = run_dataset(dataset, spec, results, TRACKERS[backend], force=True, on_done=done)

    stages.name = "report"
    parity = compare_runs(dataset, results)
    int8 = compare_runs(dataset, results, "onnxruntime", "onnxruntime_int8") if options.int8 else None
    metrics = evaluate_folder(dataset, results, [TRACKERS[k] for k in specs], interval)
    report = build_report(dataset, metrics)
    write_json(report, out / "report.json")
    plots = write_plots(metrics, out / "plots")
    table = format_table(report)

    stages.enter("bench", "benchmarking (each backend in its own process)")
    first = next(iter(dataset))
    bench = run_bench(BenchOptions(
        checkpoint=checkpoint, models=models, sequence=first.frames[0].parent,
        frames=min(options.bench_frames, len(first) - 1), threads=options.threads,
    ), say=lambda text: None)
    write_text_atomically(out / "bench.json", json_text(bench))
    bench_text = format_report(bench)

    vos_text = ""
    if options.vos:
        stages.enter("vos", "segmenting a synthetic DAVIS-layout dataset (the reference's VOS protocol, J&F)")
        vos_text = run_vos_part(specs["onnxruntime"], out, options.vos_frames)

    lt_text, lt_report = "", None
    if options.long_term:
        stages.enter("long-term", "long-term tracking: short-term against --long-term on a synthetic VOT-LT set "
                                  "(the target hides or leaves the view and comes back)")
        lt_text, lt_report = run_long_term_part(specs["onnxruntime"], out, options.lt_sequences, options.lt_frames)

    stages.enter("overlay", "drawing the overlay")
    gif, png = write_overlay(specs["onnxruntime"], dataset, out, options.overlay_frames)
    summary = _summary(options, seeded, checkpoint, dataset, parity, int8, table, bench_text, outcomes, plots,
                       gif, png)
    if vos_text:
        summary += ("\n## Video object segmentation (DAVIS layout, J&F)\n\nThe reference's VOS protocol on a synthetic "
                    "DAVIS-layout dataset (`davis/`), all objects of a sequence batched, the davis preset; label maps "
                    "in `results_vos/`.\n\n```\n" + vos_text.rstrip() + "\n```\n")
    if lt_text:
        summary += ("\n## Long-term tracking (VOT-LT layout, precision / recall / F)\n\nA synthetic VOT-LT set "
                    "(`longterm/`: the target hides behind a panel or leaves the view for 15-35 frames, then comes "
                    "back elsewhere; drawn by synth's renderer, which the embedded default, trained on the broad "
                    "generator, never saw) tracked once from its first frame in short-term and in long-term mode "
                    "(`--long-term`); results in `results_lt/`, measures as pysot's F1Benchmark, the plot in "
                    "`plots/precision_recall.png`.\n\n```\n" + lt_text.rstrip() + "\n```\n")
    problems = [f"bench: {p}" for p in bench["problems"]]
    if problems:  # the summary keeps every figure that was measured, and says what failed first
        summary = f"**FAILED** at stage 'bench': {'; '.join(problems)}\n\n" + summary
    write_text_atomically(out / "summary.md", summary)
    if problems:
        stages.output = None  # the summary above already says it
        raise SiamMaskError(f"demo failed at stage 'bench': {problems[0]}")
    return {"output": out, "parity": parity, "int8": int8, "report": report, "bench": bench, "long_term": lt_report}


def _summary(
    options: DemoOptions, seeded: bool, checkpoint: Path, dataset: Dataset, parity: dict[str, Any],
    int8: dict[str, Any] | None, table: str, bench_text: str, outcomes: dict[str, list[SequenceOutcome]],
    plots: list[Path], gif: Path, png: Path,
) -> str:
    def fps(backend: str) -> str:
        done = [o for o in outcomes[backend] if not o.skipped]
        frames, seconds = sum(o.frames for o in done), sum(o.seconds for o in done)
        return f"{frames / seconds:.2f}" if seconds else "n/a"

    weights = ("the embedded default, trained on synthetic data only (docs/training.md; run `siammask demo "
               "--checkpoint SiamMask_VOT.pth --dataset VOT2016/` for real figures)" if seeded else f"`{checkpoint}`")
    lines = [
        "# siammask demo report", "",
        f"- weights: {weights}",
        f"- dataset: `{dataset.root}` ({len(dataset)} sequences, {sum(len(s) for s in dataset)} frames)",
        "- flow: checkpoint -> ONNX graphs (`model/`, and INT8 ones from them in `model_int8/`) -> PyTorch and "
        "ONNX Runtime engines -> supervised VOT experiment (`results/`) -> report -> benchmark", "",
        "## Parity: PyTorch vs ONNX Runtime (same results, frame by frame)", "",
        f"- frames compared: {parity['frames']}",
        f"- identical events (init/track/failure/skip): {parity['events_equal_pct']:.2f}%",
        f"- largest polygon difference (vertices matched): {parity['polygon_max_diff_px']:.4f} px; within 0.5 px: "
        f"{parity['polygon_within_0_5px_pct']:.2f}% of tracked frames",
        f"- {describe_overlap(parity['overlap'], parity['overlap_lowest'])}", "",
        *_int8_lines(int8),
        "## VOT metrics (supervised protocol)", "", "```", table.rstrip(), "```", "",
        "Tracking speed during evaluation: " + ", ".join(f"{k} {fps(k)} FPS" for k in outcomes) + ".", "",
        "## Speed (`siammask bench`)", "", "```", bench_text.rstrip(), "```", "",
        "## Pictures", "",
        *[f"![{p.stem}](plots/{p.name})" for p in plots],
        f"![overlay]({png.name})", "", f"Overlay animation: [{gif.name}]({gif.name})", "",
    ]
    return "\n".join(lines)


def _int8_lines(int8: dict[str, Any] | None) -> list[str]:
    """INT8 against fp32: the same decisions? then how much the regions differ (a polygon is a
    region: compared vertex by vertex, one run's axis-aligned box against the other's rotated
    polygon of nearly the same area reads as tens of pixels)."""
    if int8 is None:
        return []
    return [
        "## INT8 against fp32 (ONNX Runtime, closed loop)", "",
        f"- identical events: {int8['events_equal_pct']:.2f}% of {int8['frames']} frames",
        f"- {describe_overlap(int8['overlap'], int8['overlap_lowest'])}",
        f"- polygon difference (vertices matched): largest {int8['polygon_max_diff_px']:.2f} px; within 0.5 px: "
        f"{int8['polygon_within_0_5px_pct']:.2f}% of frames both tracked",
        "- judge INT8 for real weights with `siammask compare` (the same figures; docs/int8.md)", "",
    ]
