"""The table of dataset formats: the one place that recognises a dataset folder and loads it.

Each format is one module of this package (its reader) and one row here: how to recognise its
folder, how to load it, what it loads to, and which evaluation protocol scores it. Commands,
training, bench and the demo ask `detect_format(folder)` or `format_of(dataset)` and never look
for a format's files themselves. Adding a format (VOT-LT, OTB, LaSOT, GOT-10k...) is its reader
module plus one row in FORMATS; a format whose protocol is new also needs that protocol's package
under evaluation/.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from siammask.datasets.davis import RESOLUTION, DavisDataset, is_davis_dataset, load_davis
from siammask.datasets.sequence_list import SequenceList
from siammask.datasets.vot import Dataset, is_vot_dataset, load_dataset
from siammask.datasets.votlt import LongTermDataset, is_votlt_dataset, load_votlt

# The evaluation protocols, one package each under evaluation/: "vot" the supervised experiment
# (reset after a failure; accuracy, robustness, EAO), "vos" video object segmentation (J and F),
# "longterm" one pass without resets, the target sometimes absent (tracking precision, recall, F),
# "ope" one pass without resets on OTB, UAV123, NFS, LaSOT, GOT-10k, TrackingNet (success, precision, AO).
EvaluationProtocol = Literal["vot", "vos", "longterm", "ope"]


@dataclass(frozen=True)
class DatasetFormat:
    """One row of the table. `load(folder, **options)` takes the keyword `options` named here."""

    name: str  # as messages name it: "VOT", "DAVIS"
    layout: str  # what `detect` looks for, in words, for messages
    detect: Callable[[Path], bool]
    load: Callable[..., SequenceList[Any]]
    dataset_type: type  # what `load` returns: how `format_of` knows a loaded dataset
    protocol: EvaluationProtocol
    options: tuple[str, ...] = ()


VOT = DatasetFormat(
    name="VOT", layout="list.txt", detect=is_vot_dataset, load=load_dataset, dataset_type=Dataset, protocol="vot",
)
VOTLT = DatasetFormat(
    name="VOT-LT", layout="list.txt and nan,nan,nan,nan ground-truth rows", detect=is_votlt_dataset, load=load_votlt,
    dataset_type=LongTermDataset, protocol="longterm",
)
DAVIS = DatasetFormat(
    name="DAVIS", layout=f"JPEGImages/{RESOLUTION}, Annotations/{RESOLUTION} and ImageSets", detect=is_davis_dataset,
    load=load_davis, dataset_type=DavisDataset, protocol="vos", options=("year", "split"),
)

# In detection order: the first whose files are there wins (a DAVIS folder holding a list.txt is DAVIS;
# VOT-LT, a VOT layout with absent rows, before VOT; its dataset type, a VOT one's subclass, too).
FORMATS: tuple[DatasetFormat, ...] = (DAVIS, VOTLT, VOT)
# A folder no format recognises is read as VOT, whose loader names what is missing (list.txt).
DEFAULT = VOT


def detect_format(folder: str | os.PathLike[str]) -> DatasetFormat:
    """The format of the dataset in `folder` (DEFAULT when none recognises it)."""
    path = Path(folder)
    return next((f for f in FORMATS if f.detect(path)), DEFAULT)


def format_of(dataset: SequenceList[Any]) -> DatasetFormat:
    """The format a loaded dataset came from."""
    for fmt in FORMATS:
        if isinstance(dataset, fmt.dataset_type):
            return fmt
    raise TypeError(f"{type(dataset).__name__} is not a dataset of a known format")
