"""The tracker as a TraX server, so vot-toolkit (and any TraX client) can run it as an external tracker.

TraX (the VOT challenge's tracker protocol, `vot-trax` package) starts the tracker as a process
and talks to it over stdin/stdout (or a socket when TRAX_SOCKET is set): the server announces
the region and image formats it accepts, then answers every `initialize` and `frame` request with
one region per target. Only lines starting with `@@TRAX:` belong to the protocol, so log output
does no harm.

In: a rectangle (x,y,w,h), a polygon (a 4-point one is read as the reference reads VOT2016 ground
truth; others by their bounding box) or a mask (its bounding box), as a file path, a raw RGB
image or an encoded JPEG/PNG buffer. Out: the rotated box of the mask as a polygon or, where the
client works in masks, the mask itself; the score goes along as the `confidence` property, the
tracker's presence judgement as `present` (1 or 0).

A target judged absent, in long-term mode, is answered as VOT-LT's toolkit expects a tracker to
say "not visible": an empty region (a 0x0 rectangle, or an empty mask where the client works in
masks) with the confidence, never the held state as if it were a detection. In short-term mode the
region is the tracker's whatever its presence (the reference reports a region on every frame, and
VOT's short-term experiments score it), and `present` says what the tracker judged.

The protocol has no way for a client to list the region formats it wants back (the server's
`hello` is the only capability message), so `output="auto"` takes the client's initialisation
as its request: a client that initialises with a mask (VOT2020+ segmentation stacks) gets masks,
one that initialises with a rectangle or polygon (VOT2013-2019 stacks) gets polygons.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from siammask.errors import SiamMaskError
from siammask.evaluation.vot.results import MaskRegion
from siammask.extras import import_extra
from siammask.io.sources import read_image
from siammask.tracking.config import TrackerConfig
from siammask.tracking.tracker import Tracker, TrackResult

OUTPUTS = ("auto", "polygon", "mask")


def import_trax() -> Any:  # noqa: ANN401 - the trax module
    """The `trax` module of vot-trax, imported only when a server is wanted (an optional extra)."""
    try:
        return import_extra("trax", "the TraX server (vot-trax)", "vot")
    except OSError as exc:  # vot-trax is a ctypes wrapper: its bundled libtrax.so failed to load
        raise SiamMaskError(f"vot-trax is installed but its libtrax library does not load: {exc}") from None


def region_to_box(region: Any) -> list[float]:  # noqa: ANN401 - a trax.Region
    """A TraX region as the box Tracker.init accepts: x,y,w,h or the 8 values of a 4-point polygon.

    A 4-point polygon goes through unchanged so the tracker starts exactly as the reference does
    from VOT2016's rotated ground truth; other polygons and masks start from their bounding box.
    """
    trax = import_trax()
    if region.type == trax.Region.RECTANGLE:
        return [float(v) for v in region.bounds()]
    if region.type == trax.Region.POLYGON:
        points = np.array(list(region), dtype=np.float64)
        if len(points) == 4:
            return points.ravel().tolist()
        x0, y0 = points.min(axis=0)
        x1, y1 = points.max(axis=0)
        return [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]
    if region.type == trax.Region.MASK:
        mask = region.array()
        ys, xs = np.nonzero(mask)
        if xs.size == 0:
            raise SiamMaskError("the initialisation mask is empty")
        ox, oy = region.offset()
        return [float(ox + xs.min()), float(oy + ys.min()), float(xs.max() - xs.min() + 1),
                float(ys.max() - ys.min() + 1)]
    raise SiamMaskError(f"cannot initialise from a TraX {region.type} region")


def read_trax_image(image: Any) -> np.ndarray:  # noqa: ANN401 - a trax.Image
    """A TraX image (file path, raw memory or encoded buffer) as a BGR uint8 frame."""
    trax = import_trax()
    if isinstance(image, trax.FileImage):
        path = image.path()
        if path.startswith("file://"):
            path = path[len("file://"):]
        return read_image(path)
    if isinstance(image, trax.MemoryImage):
        array = image.array()
        if array.dtype != np.uint8:  # gray16: keep the top 8 bits
            array = (array >> 8).astype(np.uint8)
        if array.ndim == 3 and array.shape[2] == 3:
            return cv2.cvtColor(array, cv2.COLOR_RGB2BGR)
        return cv2.cvtColor(array.reshape(array.shape[:2]), cv2.COLOR_GRAY2BGR)
    if isinstance(image, trax.BufferImage):
        frame = cv2.imdecode(np.frombuffer(image.buffer(), dtype=np.uint8), cv2.IMREAD_COLOR)
        if frame is None:
            raise SiamMaskError("cannot decode the image buffer sent by the TraX client")
        return frame
    raise SiamMaskError(f"unsupported TraX image type {type(image).__name__}")


def empty_region(as_mask: bool) -> Any:  # noqa: ANN401 - a trax.Region
    """"Not visible" as VOT's long-term toolkit reads it: a region that covers nothing."""
    trax = import_trax()
    if as_mask:
        return trax.Mask.create(np.zeros((1, 1), dtype=np.uint8), 0, 0)
    return trax.Rectangle.create(0, 0, 0, 0)


def result_region(result: TrackResult, as_mask: bool, seg_thr: float, empty_when_absent: bool = False) -> Any:  # noqa: ANN401
    """The reply for one tracked frame: the rotated box as a polygon, or the mask cut to its extent;
    an empty region for an absent target when `empty_when_absent` (long-term mode)."""
    trax = import_trax()
    if empty_when_absent and not result.present:
        return empty_region(as_mask)
    if not as_mask:
        return trax.Polygon.create([(float(x), float(y)) for x, y in result.polygon])
    if result.mask is None:
        raise SiamMaskError("the engine gave no mask to send")
    region = MaskRegion.from_binary(result.mask.binary(seg_thr))
    if region.is_empty:  # nothing above the threshold: an empty mask, as the client should score it
        return empty_region(as_mask=True)
    return trax.Mask.create(region.mask, *region.offset)


class TraxSession:
    """The tracker's side of one TraX conversation, apart from the transport (so tests can drive it)."""

    def __init__(self, engine: object, config: TrackerConfig, output: str = "auto") -> None:
        if output not in OUTPUTS:
            raise SiamMaskError(f"unknown TraX output {output!r} (choose from {', '.join(OUTPUTS)})")
        self.tracker = Tracker(engine, config)
        self.output = output
        self.as_mask = output == "mask"

    def initialize(self, frame: np.ndarray, region: Any) -> tuple[Any, dict[str, float]]:  # noqa: ANN401
        """Start (or restart) on `region`; the reply echoes it with full confidence."""
        trax = import_trax()
        self.tracker.init(frame, region_to_box(region))
        if self.output == "auto":
            self.as_mask = region.type == trax.Region.MASK
        return region, {"confidence": 1.0, "present": 1}

    def frame(self, frame: np.ndarray) -> tuple[Any, dict[str, float]]:  # noqa: ANN401
        result = self.tracker.track(frame)
        config = self.tracker.config
        region = result_region(result, self.as_mask, config.seg_thr, empty_when_absent=config.long_term)
        return region, {"confidence": float(result.confidence), "present": int(result.present)}


def serve(
    engine: object, config: TrackerConfig, output: str = "auto", name: str = "SiamMask",
    log: Callable[[str], None] | None = None,
) -> int:
    """Answer TraX requests until the client quits; returns the number of frames tracked.

    Single target per session (multi-object TraX sessions are refused by the client's handshake).
    A client may re-initialise at any time, as vot-toolkit's supervised experiment does after each
    failure; a `frame` request that carries a region re-initialises too.
    """
    trax = import_trax()
    session = TraxSession(engine, config, output)
    tracked = 0
    try:
        server = trax.Server(
            [trax.Region.RECTANGLE, trax.Region.POLYGON, trax.Region.MASK],
            [trax.Image.PATH, trax.Image.MEMORY, trax.Image.BUFFER],
            tracker_name=name, tracker_description="SiamMask (siammask package)", tracker_family="siamese",
        )
    except trax.TraxException as exc:
        raise SiamMaskError(f"TraX handshake failed (is a TraX client driving this process?): {exc}") from None
    try:
        while True:
            request = server.wait()
            if request.type == trax.TraxStatus.QUIT:
                break
            image = request.image.get(trax.ImageChannel.COLOR) if request.image else None
            if image is None:
                raise SiamMaskError("the TraX client sent no color image")
            frame = read_trax_image(image)
            objects = request.objects or []
            if request.type == trax.TraxStatus.INITIALIZE or objects:
                if len(objects) != 1:
                    raise SiamMaskError(f"this TraX server tracks one target, the client sent {len(objects)}")
                region, properties = session.initialize(frame, objects[0][0])
            else:
                region, properties = session.frame(frame)
                tracked += 1
            server.status([(region, properties)])
    except SiamMaskError as exc:
        _quit(server, str(exc))
        raise
    except trax.TraxException as exc:
        _quit(server, str(exc))
        raise SiamMaskError(f"TraX connection lost: the client closed it or sent an invalid request ({exc})") from None
    except BaseException as exc:
        _quit(server, f"{type(exc).__name__}: {exc}")
        raise
    else:
        _quit(server, None)
    if log is not None:
        log(f"TraX session ended after {tracked} tracked frames")
    return tracked


def _quit(server: Any, reason: str | None) -> None:  # noqa: ANN401 - a trax.Server
    """Tell the client the session is over; a client that is already gone is no error."""
    try:
        server.quit(reason=reason)
    except Exception:  # noqa: BLE001 - the connection may be closed already
        pass


def stderr_log(message: str) -> None:
    """Messages go to stderr: stdout carries the protocol when TraX runs over pipes."""
    print(f"siammask trax: {message}", file=sys.stderr, flush=True)


def in_trax_session() -> bool:
    """Whether a TraX client started this process (vot-toolkit sets TRAX=1 in the tracker's environment)."""
    return os.environ.get("TRAX") == "1" or "TRAX_SOCKET" in os.environ
