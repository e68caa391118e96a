"""Track one or more targets from their boxes on a start frame (the first by default), forward,
backward or both, re-initialised on keyframes. Writes per-frame polygons (--output), annotation
formats (CVAT, MOTS, YouTube-VOS/DAVIS, COCO) and/or a video with the masks and boxes drawn
(--video), and prints a one-line summary.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from contextlib import ExitStack
from itertools import chain, islice

import numpy as np

from siammask.commands.options import add_command, add_engine_arguments, engine_spec, positive_int
from siammask.errors import SiamMaskError, Terminated, plural
from siammask.io.annotations.formats import ANNOTATION_CHOICES

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

  siammask track clip.mp4 --box 120,80,40,60 --start 150 --both --keyframes fixes.csv --output clip.xml
      start on frame 150, track backward to frame 0 and forward to the end, re-initialised where
      fixes.csv (frame,target,x,y,w,h rows) or a CVAT XML says; a CVAT for video 1.1 XML out

  siammask track frames/ --box 40,60,32,32 --output ann/ --format mots
      KITTI-MOTS instance PNGs and txt in ann/ (also: vos, the Annotations/ layout; coco; cvat)

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
Frames are the source's 0-based index everywhere (JSON frame, CSV frame, label map names); the
frames written are those some target has a result on, the start frame (or keyframe) carrying the
given box. --reverse runs the frames from --start down to 0 through the same tracker; --both runs
both ways. A keyframe (--keyframes) re-initialises its target on its frame: later frames come from
it, earlier ones from the keyframe before; with --both a frame between two keyframes takes the
nearer one (a tie: the earlier keyframe, forward). A target before its first keyframe or after an
end mark is absent. docs/annotation.md has the rule and the annotation formats. Files appear only
when the run completes (or is stopped by Ctrl-C).
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
        help="a target on the start frame: x,y,w,h or 8 polygon values; repeat for more targets",
    )
    parser.add_argument("--start", type=non_negative_int, default=0, metavar="N",
                        help="the frame --box/--select give the targets on (0-based; default 0)")
    direction = parser.add_mutually_exclusive_group()
    direction.add_argument("--reverse", action="store_true", help="track backward: frames N, N-1, ... 0")
    direction.add_argument("--both", action="store_true",
                           help="track backward and forward from each keyframe (the nearer keyframe wins)")
    parser.add_argument(
        "--keyframes", metavar="FILE",
        help="keyframes that re-initialise targets: CSV frame,target,x,y,w,h (or 8 polygon values; header "
             "optional; a row without a region ends the target) or a CVAT for video 1.1 XML (its keyframes)",
    )
    parser.add_argument(
        "--select", action="store_true",
        help="draw the targets on the first frame with the mouse instead of --box (needs a display)",
    )
    add_engine_arguments(parser)
    parser.add_argument(
        "--output", action="append", default=[], metavar="FILE",
        help="results file: .txt (VOT polygons; STEM_k.txt per target when several), .csv, .json or .xml "
             "(CVAT for video 1.1), or a folder with --format; repeat to write several",
    )
    parser.add_argument("--format", choices=ANNOTATION_CHOICES, metavar="NAME", action="append", default=[],
                        help="annotation format of the --output folders (paths not ending .txt/.csv/.json/.xml), "
                             "paired in order, the last one for the rest: " + ", ".join(ANNOTATION_CHOICES))
    parser.add_argument(
        "--video", metavar="FILE",
        help="overlay video: .mp4 (H.264, plays in browsers), .avi (Motion JPEG) or .gif; at the source's "
             "frame rate, else 25 fps",
    )
    parser.add_argument(
        "--masks", metavar="DIR",
        help="label maps: DIR/00000.png ... one palette PNG per frame, target k as k+1 (DAVIS format)",
    )
    parser.add_argument("--rle", action="store_true",
                        help="JSON outputs carry each target's mask as COCO RLE; CVAT XML gets masks, not polygons")
    parser.add_argument(
        "--max-frames", type=positive_int, metavar="N",
        help="stop after N frames (the first frame written included)"
    )
    parser.add_argument("--strict", action="store_true",
                        help="refuse a video that decodes fewer frames than it declares (default: warn)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (it shows on terminals only)")
    parser.set_defaults(func=run)


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


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


def _plan(args: argparse.Namespace, boxes: list[list[float]], file_keys: list, length: int | None):
    """The keyframe plan: --box targets on --start (numbered first), then the --keyframes file's,
    over the source's frames (up to --max-frames from the first frame written)."""
    from siammask.tracking.keyframes import plan, start_keyframes

    direction = "backward" if args.reverse else "both" if args.both else "forward"
    keys = start_keyframes(boxes, args.start) + list(file_keys)
    what = f"--keyframes {args.keyframes}" if file_keys else "--start"
    result = plan(keys, direction, length, what)
    if args.max_frames is not None:
        end = result.first_frame + args.max_frames
        result = plan(keys, direction, end if length is None else min(length, end), what + " (with --max-frames)")
    return result


def run(args: argparse.Namespace) -> int:
    """Validate everything cheap first, then load the model and track, writing as frames come."""
    from tqdm import tqdm

    from siammask.io.annotations.formats import open_annotation_writer
    from siammask.io.annotations.keyframes_file import read_keyframes
    from siammask.io.mask_output import LabelMapWriter, check_masks_folder
    from siammask.io.outputs import OUTPUT_FORMATS, ResultWriter, check_output_path
    from siammask.io.sources import FramesByIndex, frames_from, open_source
    from siammask.io.visualize import OverlayWriter, check_video_path, draw_overlay
    from siammask.tracking.session import KeyframeSession, first_frame
    from siammask.tracking.tracker import MultiTracker, check_box_in_image, check_target_count

    if args.select and args.box:
        raise SiamMaskError("give the targets either with --box or with --select, not both")
    file_keys = read_keyframes(args.keyframes) if args.keyframes else []
    if not args.select and not args.box and not file_keys:
        raise SiamMaskError("no target given: pass --box x,y,w,h (repeat for more targets), --select or --keyframes")
    boxes = [parse_box_text(text) for text in args.box]
    check_target_count(max([len(boxes)] + [k.target + 1 for k in file_keys]), "--box targets")
    results_paths = [p for p in args.output if _suffix(p) in OUTPUT_FORMATS]
    annotations = _annotation_outputs([p for p in args.output if _suffix(p) not in OUTPUT_FORMATS], args.format)
    outputs = [check_output_path(p) for p in results_paths]
    video = check_video_path(args.video) if args.video else None
    destinations = [p.resolve() for p in outputs] + [a[1].resolve() for a in annotations] + (
        [video.resolve()] if video else [])
    if len(set(destinations)) != len(destinations):
        raise SiamMaskError("the same file is given twice among --output/--video")
    if args.rle and not any(p.suffix.lower() == ".json" for p in outputs) and not any(
            a[0] == "cvat" for a in annotations):
        raise SiamMaskError("--rle puts masks into JSON results or CVAT XML: add --output FILE.json or FILE.xml")
    masks_dir = check_masks_folder(args.masks) if args.masks else None
    if args.select and (problem := display_problem()):
        raise SiamMaskError(f"--select needs a window: {problem}; give the targets with --box x,y,w,h")
    spec = engine_spec(args)
    spec.check()  # a bad model folder or settings file is refused before the video is opened

    with ExitStack() as stack:
        source = stack.enter_context(open_source(args.source, strict=args.strict))
        if args.select:
            boxes = select_boxes(first_frame(frames_from(source, args.start), source.description)[1])
        plan = _plan(args, boxes, file_keys, source.length)
        frame_at = FramesByIndex(source, min(r.last for r in plan.backward),
                                 max(r.keyframe for r in plan.backward)) if plan.backward else None
        frames = frames_from(source, plan.first_frame)
        if args.max_frames is not None:
            frames = islice(frames, args.max_frames)
        first = first_frame(frames, source.description)
        if first[0] != plan.first_frame:
            raise SiamMaskError(f"{source.description}: frame {plan.first_frame} could not be read")
        frames = chain([first], frames)
        image_size = (int(first[1].shape[1]), int(first[1].shape[0]))
        for text, values in zip(args.box or [None] * len(boxes), boxes):
            check_box_in_image(values, image_size, f"--box {text!r}" if text else f"selected box {values}")

        engine, model_config = spec.build()
        session = KeyframeSession(lambda: MultiTracker(engine, model_config), plan)
        targets = plan.targets
        writers = [
            stack.enter_context(ResultWriter(p, targets, source.description, image_size, source.fps, rle=args.rle))
            for p in outputs
        ]
        writers += [stack.enter_context(open_annotation_writer(fmt, path, plan, source, image_size, args.rle))
                    for fmt, path in annotations]
        if masks_dir is not None:
            writers.append(stack.enter_context(LabelMapWriter(masks_dir, image_size)))
        overlay = stack.enter_context(OverlayWriter(video, source.fps)) if video else None
        last = plan.last_frame if plan.last_frame is not None else (
            source.length - 1 if source.length is not None else None)
        total = last - plan.first_frame + 1 if last is not None else None
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
        outcome = session.run(frames, frame_at)
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
        f"tracked {plural(count, 'frame')}{stopped}, {plural(targets, 'target')}, {fps_text} "
        f"({engine.name} {engine.precision}); {where}"
    )
    if terminated:
        return 143
    return 130 if interrupted and source.kind != "camera" else 0


def _annotation_outputs(paths: list[str], formats: list[str]) -> list:
    """(format, path) per annotation --output: .xml is CVAT's; folders take the --format values in
    order (the last one for any beyond)."""
    from siammask.io.annotations.formats import check_annotation_output

    chosen, folders = [], 0
    for path in paths:
        fmt = None
        if _suffix(path) != ".xml" and formats:
            fmt = formats[min(folders, len(formats) - 1)]
            folders += 1
        chosen.append(check_annotation_output(path, fmt))
    return chosen


def _suffix(path: str) -> str:
    return os.path.splitext(path)[1].lower()
