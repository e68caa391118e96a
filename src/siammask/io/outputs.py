"""Per-frame tracking results written to a file, its format chosen by the extension.

.txt   VOT text: one line per frame, the 8 polygon values x1,y1,...,x4,y4 (4 decimals); an absent
       target's line is `nan` 8 times (VOT-LT's mark for a frame without the target). With
       several targets, one file per target: `<stem>_<k>.txt`, k = 0, 1, ... in --box order.
.csv   frame,target,x1,y1,x2,y2,x3,y3,x4,y4,box_x,box_y,box_w,box_h,score,present (one row per
       target per frame; score empty on the initialisation frame; present 1 or 0; an absent
       target's polygon and box cells are empty, its score is given).
.json  {"source", "image_size", "fps", "targets", "frames": [{"frame", "init", "targets":
       [{"target", "polygon", "box", "score", "present", "from_mask"}]}]}; score null on the init
       frame; an absent target has "present": false, "polygon": null and "box": null (its score
       is given). With `rle`, each target also carries "mask": its mask above seg_thr as COCO RLE
       ({"size": [h, w], "counts": str}, pycocotools' compressed form; the given region on frame 0;
       an empty mask when absent).

Present is the tracker's judgement (TrackResult.present: the score at the settings' presence_thr
or more); the init frame's target is present. An absent target's polygon and box are left out in
every format rather than written as a detection: in short-term mode they are where the tracker
went anyway, in long-term mode the state it holds while it searches; neither is where the target
is.

Frames and targets are numbered from 0; frame 0 is the frame the tracker was initialised on and
carries the given box. Rows are streamed to hidden temporary files that are renamed into place
by `close()`, so a run that fails half-way never leaves a plausible-looking partial file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from siammask.errors import SiamMaskError
from siammask.files import CommitOnSuccess, check_new_file, commit_file, json_text, temporary_sibling
from siammask.tracking.tracker import TrackResult

OUTPUT_FORMATS = (".txt", ".csv", ".json")
CSV_HEADER = "frame,target,x1,y1,x2,y2,x3,y3,x4,y4,box_x,box_y,box_w,box_h,score,present"
ABSENT_TXT = ",".join(["nan"] * 8)  # a VOT text line for a frame without the target (as VOT-LT's nan rows)


def check_output_path(path: str | Path) -> Path:
    """Refuse an unknown extension or a missing folder before any tracking is done."""
    return check_new_file(path, "output", OUTPUT_FORMATS)


def output_files(path: str | Path, targets: int) -> list[Path]:
    """The files `path` turns into: one, or for .txt with several targets `<stem>_<k>.txt` each."""
    path = Path(path)
    if path.suffix.lower() == ".txt" and targets > 1:
        return [path.with_name(f"{path.stem}_{k}{path.suffix}") for k in range(targets)]
    return [path]


def _json(value: Any) -> str:
    """One line of JSON through json_text, like every JSON siammask writes: never a bare NaN."""
    return json_text(value, indent=None).rstrip("\n")


def _num(value: float) -> float:
    """4 decimals, and no "-0.0" in the files."""
    return round(float(value), 4) + 0.0


def _fmt(value: float) -> str:
    return f"{_num(value):.4f}"


def _present(result: TrackResult, init: bool) -> bool:
    """The init frame carries the given region: present whatever its result says."""
    return init or bool(result.present)


class ResultWriter(CommitOnSuccess):
    """Streams per-frame results of K targets to one output path (see the module docstring)."""

    def __init__(
        self, path: str | Path, targets: int, source: str | None = None,
        image_size: tuple[int, int] | None = None, fps: float | None = None, rle: bool = False,
    ) -> None:
        self.path = check_output_path(path)
        if rle and image_size is None:
            raise SiamMaskError("masks as RLE need the image size")
        self.rle = rle and self.path.suffix.lower() == ".json"  # only JSON has a place for them
        self.image_size = image_size
        if targets < 1:
            raise SiamMaskError("at least one target is needed")
        self.targets = targets
        self.format = self.path.suffix.lower()
        self.files = output_files(self.path, targets)
        self.frames_written = 0
        self._tmps = [temporary_sibling(f) for f in self.files]
        self._handles: list[IO[str]] = []
        self._closed = False
        try:
            for tmp in self._tmps:
                self._handles.append(open(tmp, "x", encoding="utf-8", newline="\n"))
        except OSError as exc:
            self.abort()
            raise SiamMaskError(f"output {self.path}: cannot be written ({exc.strerror or exc})") from None
        if self.format == ".csv":
            self._handles[0].write(CSV_HEADER + "\n")
        elif self.format == ".json":
            header = {
                "source": source,
                "image_size": list(image_size) if image_size else None,
                "fps": fps if fps and math.isfinite(fps) else None,
                "targets": targets,
            }
            self._handles[0].write(_json(header)[:-1] + ', "frames": [')

    def write(self, frame: int, results: Sequence[TrackResult], init: bool = False) -> None:
        """Add one frame: `results` holds one TrackResult per target, in target order."""
        if self._closed:
            raise SiamMaskError(f"output {self.path}: already closed")
        if len(results) != self.targets:
            raise SiamMaskError(f"output {self.path}: {len(results)} results for {self.targets} targets")
        if self.format == ".txt":
            for handle, result in zip(self._handles, results):
                line = ",".join(_fmt(v) for v in np.ravel(result.polygon)) if _present(result, init) else ABSENT_TXT
                handle.write(line + "\n")
        elif self.format == ".csv":
            for k, result in enumerate(results):
                present = _present(result, init)
                score = "" if init or not math.isfinite(result.score) else _fmt(result.score)
                values = [_fmt(v) for v in [*np.ravel(result.polygon), *np.ravel(result.box)]] if present else [""] * 12
                self._handles[0].write(f"{frame},{k}," + ",".join(values) + f",{score},{int(present)}\n")
        else:
            item = {"frame": frame, "init": init, "targets": [self._json_target(k, r, init)
                                                              for k, r in enumerate(results)]}
            self._handles[0].write(("," if self.frames_written else "") + "\n  " + _json(item))
        self.frames_written += 1

    def _json_target(self, k: int, result: TrackResult, init: bool) -> dict[str, Any]:
        score = None if init or not math.isfinite(result.score) else _num(result.score)
        present = _present(result, init)
        item = {
            "target": k,
            "polygon": [_num(v) for v in np.ravel(result.polygon)] if present else None,
            "box": [_num(v) for v in np.ravel(result.box)] if present else None,
            "score": score,
            "present": present,
            "from_mask": bool(result.from_mask) and present,
        }
        if self.rle:
            from siammask.io.mask_output import region_mask, rle

            assert self.image_size is not None
            item["mask"] = rle(region_mask(result, self.image_size))
        return item

    def close(self) -> list[Path]:
        """Finish the files and move them into place; returns their paths."""
        if self._closed:
            return self.files
        try:
            if self.format == ".json":
                self._handles[0].write("\n]}\n")
            for handle in self._handles:
                handle.close()
            for tmp, final in zip(self._tmps, self.files):
                commit_file(tmp, final, "output")
        except OSError as exc:
            self.abort()
            raise SiamMaskError(f"output {self.path}: cannot be written ({exc.strerror or exc})") from None
        self._closed = True
        return self.files

    def abort(self) -> None:
        """Delete the temporary files; the destination is left as it was."""
        for handle in self._handles:
            handle.close()
        for tmp in self._tmps:
            tmp.unlink(missing_ok=True)
        self._closed = True
