"""Publishing a report, whatever the protocol: the JSON file and the plots, each written atomically
(a temporary file beside it, then renamed), so that a failed write (disk full, Ctrl-C) never
leaves a half file that looks like a report or a 0-byte PNG that looks like a plot.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from siammask.errors import SiamMaskError
from siammask.files import atomic_file, json_text, write_text_atomically

if TYPE_CHECKING:  # matplotlib is imported by the plot modules that hand their figures here
    from matplotlib.figure import Figure


def to_json(report: dict[str, Any]) -> str:
    """The report as JSON text (NaN as null)."""
    return json_text(report, indent=1)


def write_json(report: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Write the report atomically (temporary file beside it, then renamed)."""
    path = Path(path)
    if path.is_dir():
        raise SiamMaskError(f"report {path}: is a folder")
    try:
        write_text_atomically(path, to_json(report))
    except OSError as exc:
        raise SiamMaskError(f"report {path}: cannot be written ({exc.strerror or exc})") from None


def save_figure(fig: Figure, path: Path) -> Path:
    """Render `fig` on the Agg canvas (nothing global touched) and write it as a PNG, atomically."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    with atomic_file(path, "plot") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    return path
