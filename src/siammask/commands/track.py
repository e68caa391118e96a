"""Track one or more targets from their boxes in the first frame. Writes per-frame polygons (--output)
and/or a video with the masks and boxes drawn (--video), and prints a one-line summary.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from contextlib import ExitStack
from itertools import islice

import numpy as np

from siammask.commands.options import add_command, add_engine_arguments, engine_spec, positive_int
from siammask.errors import SiamMaskError, Terminated

EPILOG = """\
examples:
  siammask track video.mp4 --box 300,110,165,250 --checkpoint SiamMask_VOT.pth --video overlay.mp4
      one target; the overlay video shows its mask, rotated box and score

  siammask track data/vot2016/bag --box 292,107,71,162 --model models/siammask_vot --output bag.txt
      an image folder (sorted by name; a color/ subfolder is used if the folder has no images),
      run by ONNX Runtime from an exported folder; one polygon per line

  siammask track street.mp4 --box 10,20,50,80 --box 200,40,30,60 --box 90,90,40,40 \\
      --model models/siammask_vot --output street.json --output street.csv --max-frames 300
      three targets in one batched tracker, results as JSON and CSV

  siammask track 0 --select --model models/siammask_vot --video webcam.avi
      camera 0; draw the targets with the mouse (needs a display); Ctrl-C stops and saves

  siammask track clip.mp4 --box 40,60,32,32 --long-term --output clip.json
      no --checkpoint/--model: the embedded default (synthetic data only); --long-term keeps an
      absent target's state and searches a wider region until it is found again

boxes: x,y,w,h in pixels of the first frame (x,y the top-left corner), or 8 values
x1,y1,x2,y2,x3,y3,x4,y4 of a rotated rectangle. Targets are numbered from 0 in --box order.

outputs (by extension): .txt one line per frame with the 8 polygon values (several targets:
STEM_0.txt, STEM_1.txt, ...); .csv frame,target,x1,y1,...,x4,y4,box_x,box_y,box_w,box_h,score,present;
.json the frames with each target's polygon, box, score and present (with --rle also its mask, COCO
RLE). `box` (box_x..box_h) is the tracker's state, the axis-aligned x,y,w,h whose centre and size
it carries to the next frame (the reference's target_pos/target_sz), not the bounds of the polygon.
--masks DIR: one label map per frame, DIR/00000.png ..., palette PNGs, target k as k+1 (0 background).
present: whether the tracker judges the target in view (score >= the settings' presence_thr). An
absent target has no polygon and no box: JSON null, CSV empty cells with present 0, .txt a line of
8 nan (VOT-LT's mark), no pixel in the label map, no mask in RLE, "absent" on the overlay.
Frame 0 is the first frame and carries the given box. Files appear only when the run completes (or
is stopped by Ctrl-C).
"""

_GUI_RE = re.compile(r"^\s*GUI:\s*(\S+)", re.MULTILINE)


HELP = "track targets in a video, image folder or camera; write results and an overlay video"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `track` subcommand to the CLI's subparsers."""
    parser = add_command(subparsers, "track", HELP, __doc__, EPILOG)
    parser.add_argument(
        "source", metavar="SOURCE",
        help="video file, folder of images (*.jpg/*.jpeg/*.png/*.bmp, or its color/ subfolder), or camera index (0)",
    )
    parser.add_argument(
        "--box", action="append", default=[], metavar="x,y,w,h",
        help="a target in the first frame: x,y,w,h or 8 polygon values; repeat for more targets",
    )
    parser.add_argument(
        "--select", action="store_true",
        help="draw the targets on the first frame with the mouse instead of --box (needs a display)",
    )
    add_engine_arguments(parser)
    parser.add_argument(
        "--output", action="append", default=[], metavar="FILE",
        help="results file: .txt (VOT polygons; STEM_k.txt per target when several), .csv or .json; "
             "repeat to write several",
    )
    parser.add_argument(
        "--video", metavar="FILE",
        help="overlay video: .mp4 (H.264, plays in browsers), .avi (Motion JPEG) or .gif; at the source's "
             "frame rate, else 25 fps",
    )
    parser.add_argument(
        "--masks", metavar="DIR",
        help="label maps: DIR/00000.png ... one palette PNG per frame, target k as k+1 (DAVIS format)",
    )
    parser.add_argument("--rle", action="store_true", help="JSON outputs carry each target's mask as COCO RLE")
    parser.add_argument(
        "--max-frames", type=positive_int, metavar="N", help="stop after N frames (the first frame included)"
    )
    parser.add_argument("--strict", action="store_true",
                        help="refuse a video that decodes fewer frames than it declares (default: warn)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (it shows on terminals only)")
    parser.set_defaults(func=run)


def parse_box_text(text: str) -> list[float]:
    """'x,y,w,h' or 8 comma-separated values -> floats (validated: finite, positive size)."""
    from siammask.tracking.tracker import parse_box

    parts = [p.strip() for p in text.strip().split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise SiamMaskError(
            f"--box {text!r}: expected x,y,w,h or 8 comma-separated numbers (x1,y1,...,x4,y4)"
        ) from None
    if len(values) not in (4, 8):
        raise SiamMaskError(f"--box {text!r}: expected 4 values (x,y,w,h) or 8 (polygon), got {len(values)}")
    try:
        parse_box(values)
    except SiamMaskError as exc:
        raise SiamMaskError(f"--box {text!r}: {exc}") from None
    return values


def display_problem() -> str | None:
    """Why an OpenCV window cannot be opened here, or None when it can."""
    import cv2

    if sys.platform not in ("win32", "darwin") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "no display is available (neither DISPLAY nor WAYLAND_DISPLAY is set)"
    match = _GUI_RE.search(cv2.getBuildInformation())
    if match and match.group(1).upper() == "NONE":
        return "this OpenCV build has no GUI support (opencv-python-headless; install opencv-python for windows)"
    return None


def select_boxes(frame: np.ndarray) -> list[list[float]]:
    """Let the user draw the targets on `frame` (cv2.selectROIs); ESC ends the selection."""
    import cv2

    problem = display_problem()
    if problem:
        raise SiamMaskError(f"--select needs a window: {problem}; give the targets with --box x,y,w,h")
    title = "siammask: drag a box per target, ENTER/SPACE after each, ESC when done"
    try:
        rects = cv2.selectROIs(title, frame, showCrosshair=True, fromCenter=False)
    finally:
        cv2.destroyAllWindows()
    boxes = [[float(v) for v in r] for r in np.asarray(rects).reshape(-1, 4) if r[2] > 0 and r[3] > 0]
    if not boxes:
        raise SiamMaskError("--select: no target selected")
    return boxes


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def run(args: argparse.Namespace) -> int:
    """Validate everything cheap first, then load the model and track, writing as frames come."""
    from tqdm import tqdm

    from siammask.io.mask_output import LabelMapWriter, check_masks_folder
    from siammask.io.outputs import ResultWriter, check_output_path
    from siammask.io.sources import open_source
    from siammask.io.visualize import OverlayWriter, check_video_path, draw_overlay
    from siammask.tracking.session import TrackingSession, first_frame, numbered
    from siammask.tracking.tracker import MultiTracker, check_box_in_image, check_target_count

    if args.select and args.box:
        raise SiamMaskError("give the targets either with --box or with --select, not both")
    if not args.select and not args.box:
        raise SiamMaskError("no target given: pass --box x,y,w,h (repeat for more targets) or --select")
    boxes = [parse_box_text(text) for text in args.box]
    check_target_count(len(boxes), "--box targets")  # before any model is loaded
    outputs = [check_output_path(p) for p in args.output]
    video = check_video_path(args.video) if args.video else None
    destinations = [p.resolve() for p in outputs] + ([video.resolve()] if video else [])
    if len(set(destinations)) != len(destinations):
        raise SiamMaskError("the same file is given twice among --output/--video")
    if args.rle and not any(p.suffix.lower() == ".json" for p in outputs):
        raise SiamMaskError("--rle puts masks into JSON results: add --output FILE.json")
    masks_dir = check_masks_folder(args.masks) if args.masks else None
    if args.select and (problem := display_problem()):
        raise SiamMaskError(f"--select needs a window: {problem}; give the targets with --box x,y,w,h")
    spec = engine_spec(args)
    spec.check()  # a bad model folder or settings file is refused before the video is opened

    with ExitStack() as stack:
        source = stack.enter_context(open_source(args.source, strict=args.strict))
        frames = numbered(source)
        if args.max_frames is not None:
            frames = islice(frames, args.max_frames)
        first = first_frame(frames, source.description)
        image_size = (int(first[1].shape[1]), int(first[1].shape[0]))
        if args.select:
            boxes = select_boxes(first[1])
        for text, values in zip(args.box or [None] * len(boxes), boxes):
            check_box_in_image(values, image_size, f"--box {text!r}" if text else f"selected box {values}")

        engine, model_config = spec.build()
        session = TrackingSession(MultiTracker(engine, model_config), boxes)
        session.start(first)

        writers = [
            stack.enter_context(ResultWriter(p, len(boxes), source.description, image_size, source.fps, rle=args.rle))
            for p in outputs
        ]
        if masks_dir is not None:
            writers.append(stack.enter_context(LabelMapWriter(masks_dir, image_size)))
        overlay = stack.enter_context(OverlayWriter(video, source.fps)) if video else None
        total = source.length
        if args.max_frames is not None:
            total = min(total, args.max_frames) if total is not None else args.max_frames
        progress = stack.enter_context(
            tqdm(total=total, unit="frame", desc="tracking", disable=True if args.no_progress else None,
                 dynamic_ncols=True, file=sys.stderr)
        )

        def emit(index: int, frame: np.ndarray, results: list, init: bool) -> None:
            for writer in writers:
                writer.write(index, results, init=init)
            if overlay is not None:
                overlay.write(draw_overlay(frame, results))
            progress.update(1)

        session.sinks.append(emit)
        outcome = session.run(frames)
        progress.close()
        written = [f for w in writers for f in w.close()]
        if overlay is not None:
            written.append(overlay.close())

    count, interrupted = outcome.frames, outcome.interrupted
    fps = outcome.tracked / outcome.track_seconds if outcome.track_seconds > 0 else math.nan
    fps_text = f"{fps:.1f} fps" if math.isfinite(fps) else "no frame tracked"
    where = ", ".join(str(p) for p in written) if written else "nothing written (use --output/--video)"
    terminated = isinstance(interrupted, Terminated)
    stopped = " (stopped by SIGTERM)" if terminated else " (stopped by Ctrl-C)" if interrupted else ""
    print(
        f"tracked {_plural(count, 'frame')}{stopped}, {_plural(len(boxes), 'target')}, {fps_text} "
        f"({engine.name} {engine.precision}); {where}"
    )
    if terminated:
        return 143
    return 130 if interrupted and source.kind != "camera" else 0
