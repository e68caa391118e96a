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
from siammask.datasets.got10k import GOT10kDataset, is_got10k_dataset, load_got10k
from siammask.datasets.lasot import LaSOTDataset, is_lasot_dataset, load_lasot
from siammask.datasets.nfs import NFSDataset, is_nfs_dataset, load_nfs
from siammask.datasets.otb import OTBDataset, is_otb_dataset, load_otb
from siammask.datasets.sequence_list import SequenceList
from siammask.datasets.trackingnet import TrackingNetDataset, is_trackingnet_dataset, load_trackingnet
from siammask.datasets.uav123 import UAV123Dataset, is_uav123_dataset, load_uav123
from siammask.datasets.vot import Dataset, is_vot_dataset, load_dataset
from siammask.datasets.votlt import LongTermDataset, is_votlt_dataset, load_votlt
from siammask.errors import SiamMaskError

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

# The one-pass benchmarks (protocol "ope"; datasets/onepass.py's types, one reader module each).
GOT10K = DatasetFormat(
    name="GOT-10k", layout="list.txt naming GOT-10k sequences (GOT-10k_*, meta_info.ini, absence.label), "
    "or val/, test/ or train/ holding one", detect=is_got10k_dataset, load=load_got10k,
    dataset_type=GOT10kDataset, protocol="ope", options=("split",),
)
TRACKINGNET = DatasetFormat(
    name="TrackingNet", layout="TEST/ or TRAIN_n/ with frames/SEQ/ and anno/SEQ.txt", detect=is_trackingnet_dataset,
    load=load_trackingnet, dataset_type=TrackingNetDataset, protocol="ope", options=("split",),
)
UAV123 = DatasetFormat(
    name="UAV123", layout="anno/UAV123/SEQ.txt and data_seq/UAV123/SEQ/", detect=is_uav123_dataset,
    load=load_uav123, dataset_type=UAV123Dataset, protocol="ope", options=("split",),
)
LASOT = DatasetFormat(
    name="LaSOT", layout="CAT/CAT-N/img/, groundtruth.txt and full_occlusion.txt", detect=is_lasot_dataset,
    load=load_lasot, dataset_type=LaSOTDataset, protocol="ope", options=("split",),
)
NFS = DatasetFormat(
    name="NFS", layout="SEQ/30/SEQ/ and SEQ/30/SEQ.txt", detect=is_nfs_dataset, load=load_nfs,
    dataset_type=NFSDataset, protocol="ope", options=("fps",),
)
OTB = DatasetFormat(
    name="OTB", layout="SEQ/img/ and SEQ/groundtruth_rect.txt", detect=is_otb_dataset, load=load_otb,
    dataset_type=OTBDataset, protocol="ope",
)

# In detection order: the first whose files are there wins (a DAVIS folder holding a list.txt is DAVIS;
# GOT-10k, a list.txt of sequences with groundtruth.txt as VOT's, before VOT-LT and VOT; VOT-LT, a VOT
# layout with absent rows, before VOT; its dataset type, a VOT one's subclass, too). The other one-pass
# layouts have no list.txt and none has another's files (LaSOT's groundtruth.txt beside
# full_occlusion.txt, OTB's groundtruth_rect.txt, NFS's 30/, UAV123's anno/ and data_seq/).
FORMATS: tuple[DatasetFormat, ...] = (DAVIS, GOT10K, VOTLT, VOT, TRACKINGNET, UAV123, LASOT, NFS, OTB)
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


def _key(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "")


# What --format takes: each format's name in lower case, without '-' ("got10k", "votlt" as "vot-lt").
FORMAT_CHOICES: tuple[str, ...] = tuple(f.name.lower() for f in FORMATS)


def format_named(name: str) -> DatasetFormat:
    """The format `--format NAME` names (case, '-' and '_' ignored: "got10k", "GOT-10k", "vot-lt")."""
    for fmt in FORMATS:
        if _key(fmt.name) == _key(name):
            return fmt
    raise SiamMaskError(f"--format {name}: unknown dataset format (use {', '.join(FORMAT_CHOICES)})")


def dataset_format(folder: str | os.PathLike[str], name: str | None = None) -> DatasetFormat:
    """The format `--format NAME` names, else the one `folder`'s files say (detect_format): what a
    command reads a dataset argument as. A named format's loader names what its folder lacks."""
    return format_named(name) if name else detect_format(folder)
