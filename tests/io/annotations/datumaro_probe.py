"""Run by the tests under an interpreter that has Datumaro: imports PATH as FORMAT and prints, as
JSON, each item's id and attributes and each annotation's type, attributes, points and mask pixels."""
import json, sys
import numpy as np
from datumaro.components.dataset import Dataset
path, fmt = sys.argv[1], sys.argv[2]
ds = Dataset.import_from(path, fmt)
out = []
for item in ds:
    anns = []
    for a in item.annotations:
        entry = {"type": a.type.name, "attributes": {k: (v if isinstance(v, (bool, int, float, str)) else str(v)) for k, v in a.attributes.items()}}
        if hasattr(a, "points"):
            entry["points"] = [float(v) for v in a.points]
        if a.type.name == "mask":
            m = np.asarray(a.image)
            ys, xs = np.nonzero(m)
            entry["pixels"] = [ys.tolist(), xs.tolist()]
        anns.append(entry)
    out.append({"id": item.id, "attributes": {k: v for k, v in item.attributes.items() if isinstance(v, (int, float, str, bool))}, "annotations": anns})
json.dump(out, sys.stdout)
