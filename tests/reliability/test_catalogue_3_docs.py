"""Issue 26, found as a new user: docs and help that contradict the code (4), the demo's --force (5),
INT8 polygons compared as regions (7), set-up and test command (9), the AR plot's limits (10).

Each test holds a statement of the docs or the help to what the code does, so that the two cannot
drift apart again.
"""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from siammask.cli import build_parser
from siammask.evaluation.vot.agreement import PolygonPairs, describe_overlap, overlap_stats, vertex_difference

from .helpers import assert_one_line_error, cli, snapshot, write_dataset

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {o for a in parser._actions for o in a.option_strings
            if o.startswith("--") and o not in ("--help", "--traceback")}


# --------------------------------------------------------------------------------------------
# 4. the README's CLI table, the help texts and the API snippet say what the code does


def test_readme_cli_table_lists_every_option_of_every_command():
    rows = dict(re.findall(r"^\| `siammask (\w+)(.*?)` \|", README, flags=re.M))
    engine_text = README[README.index("ENGINE: "):].split("\n\n")[0]
    engine = set(re.findall(r"--[a-z][a-z0-9-]*", engine_text))
    for name, parser in _subparsers().items():
        assert name in rows, f"README's CLI table has no row for `siammask {name}`"
        shown = set(re.findall(r"--[a-z][a-z0-9-]*", rows[name])) | (engine if "ENGINE" in rows[name] else set())
        missing = sorted(_options(parser) - shown)
        assert not missing, f"README's row for `siammask {name}` misses {missing}"


def test_top_level_help_names_davis_for_synth_and_eval():
    helps = {a.dest: a.help for a in next(a for a in build_parser()._actions
                                         if isinstance(a, argparse._SubParsersAction))._choices_actions}
    for name in ("synth", "eval"):
        assert "DAVIS" in helps[name], (name, helps[name])
    assert "DAVIS" in build_parser().description


def test_demo_help_says_which_weights_and_how_long():
    text = _subparsers()["demo"].format_help()
    assert "untrained" not in text and "~3 minutes" not in text
    assert "trained default" in text
    # the time the help gives is the README's measured one
    measured = re.search(r"(\d+ min \d+ s) on 2 (?:idle|shared) AVX-512 cores", text)
    assert measured and measured.group(1) in README.split("## Quick start")[0]


def test_compare_help_is_truthful_about_the_engine():
    text = _subparsers()["compare"].format_help()
    assert "--backend" in text and "OpenVINO" in text and "(ONNX Runtime)" not in text


def test_readme_api_snippet_box_lies_on_the_target(tmp_path):
    """The snippet's box is on synth00's target in its first frame (the demo's dataset, seed 0)."""
    from siammask.datasets.synth import make_dataset
    from siammask.evaluation.vot.region import region_overlap

    snippet = README[README.index("## Python API"):]
    boxes = re.findall(r"\.init\(cv2\.imread\(frames\[0\]\), \(([\d., ]+)\)\)", snippet)
    assert len(boxes) == 2 and len(set(boxes)) == 1, boxes
    box = [float(v) for v in boxes[0].split(",")]
    assert "siammask-demo/dataset/synth00" in snippet
    root = make_dataset(tmp_path / "ds", sequences=1, frames=2, seed=0)  # synth00 is the same for any count
    first = [float(v) for v in (Path(root) / "synth00" / "groundtruth.txt").read_text().splitlines()[0].split(",")]
    assert region_overlap(box, first) > 0.5


def test_compare_takes_backend_once_or_per_model(capsys, tmp_path, exported_model):
    pytest.importorskip("openvino")
    dataset = write_dataset(tmp_path / "ds", ["a"], frames=3)
    rc, out, err = cli(capsys, "compare", "--dataset", dataset, "--model", exported_model, "--model",
                       exported_model, "--backend", "onnxruntime", "--backend", "openvino", "--threads", 1,
                       "--json", tmp_path / "c.json")
    assert rc == 0, err
    first, second = out.splitlines()[:2]
    assert "onnxruntime fp32" in first and "--backend given" in first
    assert "openvino fp32" in second
    assert "region overlap (VOT" in out
    import json

    figures = json.loads((tmp_path / "c.json").read_text())
    assert figures["models"] == ["model_fp32_onnxruntime", "model_fp32_openvino"]
    assert figures["overlap"]["all"]["frames"] >= 1


def test_compare_refuses_a_backend_that_cannot_run_its_model(capsys, tmp_path, exported_model, seeded_checkpoint):
    dataset = write_dataset(tmp_path / "ds", ["a"], frames=3)
    base = ["compare", "--dataset", dataset, "--model", seeded_checkpoint, "--model", exported_model]
    rc, _, err = cli(capsys, *base, "--backend", "openvino", "--backend", "torch")
    assert_one_line_error(rc, err, "openvino backend runs an exported folder")
    rc, _, err = cli(capsys, *base, "--backend", "torch", "--backend", "torch")
    assert_one_line_error(rc, err, "torch backend needs --checkpoint")
    rc, _, err = cli(capsys, *base, "--backend", "auto", "--backend", "auto", "--backend", "auto")
    assert_one_line_error(rc, err, "--backend once")
    with pytest.raises(SystemExit) as stop:
        cli(capsys, *base, "--backend", "tensorflow")
    assert stop.value.code == 2
    # given once, it is the exported folder's: a checkpoint always runs on PyTorch
    from siammask.commands.compare import model_backends

    assert model_backends(["openvino"], [str(seeded_checkpoint), str(exported_model)]) == [None, "openvino"]
    assert model_backends(None, ["a", "b"]) == [None, None]


def test_compare_labels_name_the_precision_once():
    from siammask.evaluation.vot.compare import default_labels

    def engine(precision: str, name: str = "onnxruntime"):
        return SimpleNamespace(precision=precision, name=name), None

    assert default_labels([engine("fp32"), engine("fp32+int8")], ["models/vot", "models/vot_int8"]) == (
        "vot_fp32", "vot_int8")
    assert default_labels([engine("fp32"), engine("fp32+int8")], ["models/a", "models/b"]) == ("a_fp32", "b_int8")
    assert default_labels([engine("fp32", "onnxruntime"), engine("fp32", "openvino")], ["m", "m"]) == (
        "m_fp32_onnxruntime", "m_fp32_openvino")
    assert default_labels([engine("fp32"), engine("fp32")], ["m", "m"]) == ("m_fp32_onnxruntime_A",
                                                                            "m_fp32_onnxruntime_B")


# --------------------------------------------------------------------------------------------
# 5. demo --force: the rules of every output folder, and messages that name real options


def test_demo_force_is_an_option_and_never_replaces_a_folder_it_did_not_write(capsys, tmp_path):
    assert build_parser().parse_args(["demo", "--force"]).force is True
    notes = tmp_path / "notempty"
    notes.mkdir()
    (notes / "keep.txt").write_text("mine")
    before = snapshot(notes)
    rc, _, err = cli(capsys, "demo", "--output", notes)
    line = assert_one_line_error(rc, err, "exists and is not empty", "use --force")
    assert "even with --force" not in line
    rc, _, err = cli(capsys, "demo", "--output", notes, "--force")
    assert_one_line_error(rc, err, "not replaced even with --force", "not a demo folder")
    assert snapshot(notes) == before


def test_demo_force_replaces_only_a_demo_folder_holding_nothing_else(capsys, tmp_path):
    from siammask.demo import MARKER, prepare_output

    earlier = tmp_path / "siammask-demo"
    (earlier / "plots").mkdir(parents=True)
    (earlier / MARKER).write_text("made by siammask demo\n")
    (earlier / "summary.md").write_text("old")
    (earlier / "notes.txt").write_text("mine")  # the user's, beside the demo's files
    before = snapshot(earlier)
    rc, _, err = cli(capsys, "demo", "--output", earlier, "--force")
    assert_one_line_error(rc, err, "not replaced even with --force", "notes.txt")
    assert snapshot(earlier) == before
    (earlier / "notes.txt").unlink()
    with pytest.raises(Exception, match="use --force"):
        prepare_output(earlier)
    prepare_output(earlier, force=True)  # an earlier demo's folder: replaced
    assert sorted(p.name for p in earlier.iterdir()) == [MARKER]


# --------------------------------------------------------------------------------------------
# 7. two runs' polygons compared as regions, the same way in the demo and in `compare`

AXIS_BOX = [20.0, 30.0, 60.0, 30.0, 60.0, 70.0, 20.0, 70.0]


def _rotated(polygon: list[float], degrees: float) -> list[float]:
    points = np.asarray(polygon).reshape(4, 2)
    centre = points.mean(axis=0)
    a = np.radians(degrees)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    # start at another corner, as cv2.boxPoints may
    return np.roll((points - centre) @ rot.T + centre, 1, axis=0).ravel().tolist()


def test_vertex_order_does_not_make_a_difference():
    shifted = np.roll(np.asarray(AXIS_BOX).reshape(4, 2), 2, axis=0).ravel().tolist()
    assert vertex_difference(AXIS_BOX, shifted) == 0.0
    backwards = np.asarray(shifted).reshape(4, 2)[::-1].ravel().tolist()
    assert vertex_difference(AXIS_BOX, backwards) == 0.0
    pairs = PolygonPairs()
    pairs.add(AXIS_BOX, shifted, "s frame 1")
    assert pairs.overlaps()[0] == pytest.approx(1.0)


def test_an_axis_aligned_box_against_a_rotated_polygon_is_a_small_region_difference():
    tilted = _rotated(AXIS_BOX, 8.0)
    naive = float(np.abs(np.asarray(AXIS_BOX) - np.asarray(tilted)).max())  # what the demo said before
    assert naive > 30
    pairs = PolygonPairs()
    pairs.add(AXIS_BOX, tilted, "synth01 frame 23")
    overlaps = pairs.overlaps()
    assert 0.75 < overlaps[0] < 1.0
    assert vertex_difference(AXIS_BOX, tilted) < 6
    worst = pairs.worst(overlaps)
    assert worst["where"] == "synth01 frame 23" and worst["shapes"] == "axis-aligned box against rotated polygon"


def test_demo_and_compare_give_the_same_figures(tmp_path):
    """The demo reads result files, compare holds the runs' records: same polygons, same words."""
    from siammask.datasets.vot import load_dataset
    from siammask.demo import TRACKERS, _int8_lines, compare_runs
    from siammask.evaluation.vot.compare import Comparison, _compare_runs
    from siammask.evaluation.vot.results import result_path, write_trajectory

    dataset = load_dataset(write_dataset(tmp_path / "ds", ["a"], frames=4))
    fp32 = [1, AXIS_BOX, AXIS_BOX, AXIS_BOX]
    int8 = [1, _rotated(AXIS_BOX, 0.0), _rotated(AXIS_BOX, 8.0), AXIS_BOX]
    for key, regions in (("onnxruntime", fp32), ("onnxruntime_int8", int8)):
        write_trajectory(result_path(tmp_path / "r", TRACKERS[key], "a"), regions)
    demo = compare_runs(dataset, tmp_path / "r", "onnxruntime", "onnxruntime_int8")
    summary = "\n".join(_int8_lines(demo))
    assert "region overlap (VOT" in summary and "a frame 2: axis-aligned box against rotated polygon" in summary
    assert demo["polygon_max_diff_px"] < 6 and demo["events_equal_pct"] == 100.0

    def run(regions):
        records = [SimpleNamespace(event="init" if isinstance(r, int) else "track",
                                   polygon=None if isinstance(r, int) else np.asarray(r).reshape(4, 2))
                   for r in regions]
        return SimpleNamespace(records=records, failures=0)

    seq = _compare_runs("a", run(fp32), run(int8))
    comparison = Comparison(("fp32", "int8"), [seq], {"trackers": {}})
    assert comparison.overlap_stats() == demo["overlap"] == overlap_stats(seq.overlap)
    # the demo reads result files, which keep 4 decimals
    assert comparison.polygon_stats()["max"] == pytest.approx(demo["polygon_max_diff_px"], abs=1e-3)
    figures = comparison.to_dict()
    assert figures["overlap"]["lowest"]["where"] == "a frame 2"
    assert describe_overlap(comparison.overlap_stats(), comparison.worst()) in summary


# --------------------------------------------------------------------------------------------
# 9. set-up and test command


def _readme_test_command() -> str:
    block = README[README.index("Test command"):].split("```bash\n", 1)[1].split("```", 1)[0]
    return block.split("#", 1)[0].strip()


def test_readme_test_command_is_what_ci_runs_and_reports_skips():
    command = _readme_test_command()
    assert "-rs" in shlex.split(command)
    ci = (REPO / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1].strip() == command


def test_readme_setup_says_what_the_browser_tests_need_and_the_cpu_index():
    top = README.split("SiamMask follows an object")[0]
    assert "chromium" in top and "chromium-driver" in top and "skipped" in top
    assert "download.pytorch.org/whl/cpu" in top


def test_dependencies_resolve_once():
    tomllib = pytest.importorskip("tomllib")
    from packaging.requirements import Requirement

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    core = {Requirement(r).name: Requirement(r) for r in project["dependencies"]}
    extras = {name: [Requirement(r) for r in reqs] for name, reqs in project["optional-dependencies"].items()}
    for name, reqs in extras.items():
        for req in reqs:
            pins = [s for s in req.specifier if s.operator == "=="]
            if req.name in core and pins:  # the core range's newest release must be the pin's, or pip fetches twice
                assert pins[0].version in core[req.name].specifier, (name, str(req), str(core[req.name]))
                assert any(s.operator == "<" for s in core[req.name].specifier), str(core[req.name])
    torch = next(r for r in extras["torch"] if r.name == "torch")
    assert not any(s.operator == "==" for s in torch.specifier), "torch pinned exactly"


# --------------------------------------------------------------------------------------------
# 10. the AR plot shows every point whole


@pytest.mark.parametrize("points", [[(0.0, 0.68), (0.0, 0.69)], [(0.0, 1.0)], [(3.5, 0.2), (0.0, 0.0)]])
def test_ar_plot_limits_show_every_point_whole(points):
    from siammask.evaluation.vot.metrics import TrackerMetrics
    from siammask.evaluation.vot.plots import ar_figure

    metrics = {f"t{k}": TrackerMetrics(accuracy=a, robustness=r, lost_number=0, eao_pysot=0.5, eao_vot=0.5,
                                       interval_pysot=(1, 2), interval_vot=(1, 2), eao_per_tag={},
                                       curve_pysot=np.zeros(3), curve_vot=np.zeros(3))
               for k, (r, a) in enumerate(points)}
    ax = ar_figure(metrics).axes[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    for r, a in points:  # a margin of at least 4 % of the axis on every side of every point
        assert x0 + 0.04 * (x1 - x0) <= r <= x1 - 0.04 * (x1 - x0)
        assert y0 + 0.04 * (y1 - y0) <= a <= y1 - 0.04 * (y1 - y0)
