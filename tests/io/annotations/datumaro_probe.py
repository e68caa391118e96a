"""Run by the tests under an interpreter that has Datumaro: imports PATH as FORMAT and prints, as
JSON, each item's id and attributes and each annotation's type, attributes, points and mask pixels."""

import json
import sys

import numpy as np
from datumaro.components.dataset import Dataset

SIMPLE = (bool, int, float, str)


def annotation(a) -> dict:
    entry = {"type": a.type.name,
             "attributes": {k: v if isinstance(v, SIMPLE) else str(v) for k, v in a.attributes.items()}}
    if hasattr(a, "points"):
        entry["points"] = [float(v) for v in a.points]
    if a.type.name == "mask":
        ys, xs = np.nonzero(np.asarray(a.image))
        entry["pixels"] = [ys.tolist(), xs.tolist()]
    return entry


def main(path: str, fmt: str) -> None:
    items = [{"id": item.id, "attributes": {k: v for k, v in item.attributes.items() if isinstance(v, SIMPLE)},
              "annotations": [annotation(a) for a in item.annotations]}
             for item in Dataset.import_from(path, fmt)]
    json.dump(items, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
