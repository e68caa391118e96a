"""`siammask inspect`: a checkpoint's layout, counts and preset; an exported folder's manifest and backends."""

from __future__ import annotations

import json
import shutil

import pytest

from siammask.cli import main
from tests.commands.test_track import assert_one_line_error

torch = pytest.importorskip("torch")

from siammask.model.checkpoint import PYSOT  # noqa: E402
from siammask.model.network import SiamMaskNet  # noqa: E402


def inspect(capsys, *args) -> tuple[int, str, str]:
    rc = main(["inspect", *map(str, args)])
    out, err = capsys.readouterr()
    return rc, out, err


def test_authors_checkpoint(capsys, seeded_checkpoint):
    from siammask.files import file_sha256

    rc, out, _ = inspect(capsys, seeded_checkpoint, "--json")
    assert rc == 0
    info = json.loads(out)
    state = SiamMaskNet().state_dict()
    weights = [v for k, v in state.items() if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))]
    assert info["layout"] == "authors" and info["preset"] == "vot"
    assert info["keys"] == len(state) - 53 and info["num_batches_tracked"] == 0
    assert info["parameters"] == sum(v.numel() for v in weights) and info["parameter_tensors"] == len(weights)
    assert info["dtypes"] == ["float32"] and info["sha256"] == file_sha256(seeded_checkpoint)
    # the seeded weights' calibration leaves some layers at 0/1, and sets the others
    assert info["batchnorm_layers"] == 53 and 0 < info["batchnorm_at_init"] < 53
    assert info["batchnorm"] == "partly trained"
    rc, text, _ = inspect(capsys, seeded_checkpoint)
    assert rc == 0 and "layout       authors" in text and "preset       vot" in text


def test_pysot_untrained_checkpoint(capsys, tmp_path):
    """A freshly built network saved in pysot's names: its statistics are PyTorch's initial ones."""
    state = {PYSOT.theirs(k): v for k, v in SiamMaskNet().state_dict().items()}
    torch.save({"epoch": 0, "state_dict": state}, tmp_path / "model.pth")
    rc, out, _ = inspect(capsys, tmp_path / "model.pth", "--json")
    info = json.loads(out)
    assert rc == 0 and (info["layout"], info["preset"], info["keys"]) == ("pysot", "pysot", 356)
    assert info["batchnorm"] == "untrained" and info["batchnorm_at_init"] == 53
    rc, text, _ = inspect(capsys, tmp_path / "model.pth")
    assert "UNTRAINED" in text and "STVIR/pysot experiments/siammask_r50_l3/config.yaml" in text


def test_exported_folder(capsys, exported_model):
    rc, out, _ = inspect(capsys, exported_model, "--json")
    info = json.loads(out)
    assert rc == 0 and info["problems"] == []
    assert {n: g["precision"] for n, g in info["graphs"].items()} == dict.fromkeys(("template", "search", "refine"),
                                                                                 "fp32")
    assert info["preset"] == "vot" and info["source_checkpoint"]["layout"] == "authors"
    assert info["tracker_config"]["seg_thr"] == 0.3 and info["opset"] == 17
    assert info["backends"]["onnxruntime"].split()[0] == __import__("onnxruntime").__version__
    assert info["backends"]["torch"].startswith(torch.__version__.split("+")[0])


def test_tampered_folder_reports_the_graph(capsys, tmp_path, exported_model):
    folder = shutil.copytree(exported_model, tmp_path / "model")
    with open(folder / "refine.onnx", "ab") as f:
        f.write(b"\0")
    rc, out, _ = inspect(capsys, folder)
    assert rc == 1
    assert "graph search     search.onnx fp32: matches the manifest" in out
    assert "refine.onnx: sha256 differs from the manifest's" in out


@pytest.mark.parametrize("case", ["missing", "folder-without-manifest", "nan-weights"])
def test_refusals_are_one_line(capsys, tmp_path, case):
    if case == "missing":
        path, fragment = tmp_path / "none.pth", "none.pth: not a file"
    elif case == "folder-without-manifest":
        path, fragment = tmp_path, "not an exported model folder (no manifest.json)"
    else:
        path, fragment = tmp_path / "nan.pth", "refine_model.post2.bias holds 1 NaN or infinite value"
        torch.save({"refine_model.post2.bias": torch.tensor([float("nan")])}, path)
    rc, _, err = inspect(capsys, path)
    assert_one_line_error(rc, err, fragment)
