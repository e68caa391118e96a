"""The embedded default model as the engine road takes it, for every command run without
--checkpoint or --model (track, eval, bench, trax, serve).

Seeded backbone plus heads trained on synthetic data (siammask.model.trained). Its checkpoint is
written once, and its export once, into a cache folder ($SIAMMASK_CACHE, else the user cache),
named by the packed file's hash and the graph contract's version, so a new package's default or
graph layout is never confused with an old one; the export is written whole or not at all.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

LABEL = "the embedded default (trained on synthetic data only, not on real objects)"


def cache_folder() -> Path:
    """Where the embedded default model is kept between runs ($SIAMMASK_CACHE, else the user cache)."""
    if os.environ.get("SIAMMASK_CACHE"):
        return Path(os.environ["SIAMMASK_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "siammask"


def _tag() -> str:
    """The packed weights' hash and the graph signature's: a changed contract gets a new export."""
    from importlib import resources

    from siammask.deploy.graphs import FORMAT_VERSION, GRAPHS, OPSET
    from siammask.files import file_sha256
    from siammask.model.trained import RESOURCE

    with resources.as_file(resources.files("siammask.data").joinpath(RESOURCE)) as packed:
        weights = file_sha256(packed)[:12]
    contract = hashlib.sha256(repr((FORMAT_VERSION, OPSET, GRAPHS)).encode()).hexdigest()[:6]
    return f"{weights}-{contract}"


def default_model(backend: str | None, say: Callable[[str], None] = print) -> tuple[dict[str, str], str]:
    """Engine options (`checkpoint` or `model`) for the embedded default, and its label: its
    checkpoint for --backend torch, else its export, which --backend auto runs on the fastest
    engine measured here. `say` gets the one line printed while the export is first written."""
    from siammask.model.trained import write_checkpoint

    folder = cache_folder()
    folder.mkdir(parents=True, exist_ok=True)
    tag = _tag()
    checkpoint = folder / f"trained-default-{tag}.pth"
    if not checkpoint.is_file():
        write_checkpoint(checkpoint)
    if backend == "torch":
        return {"checkpoint": str(checkpoint)}, LABEL
    export_dir = folder / f"trained-default-{tag}-export"
    if not (export_dir / "manifest.json").is_file():
        from siammask.deploy.export import export

        say(f"siammask: exporting the embedded default once for the faster engines (cached in {export_dir})")
        export(checkpoint, export_dir, force=export_dir.exists())
    return {"model": str(export_dir)}, LABEL + ", exported"
