"""Each command's defaults are the defaults of the code it drives.

The parsers spell their defaults out (so that `siammask --help` shows them without importing
numpy, OpenCV or torch for every command); this test holds each one to the constant or dataclass
default it mirrors, so the two cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from siammask.cli import build_parser


def _parse(*argv: str):
    return build_parser().parse_args(list(argv))


def _defaults(func) -> dict:
    return {k: p.default for k, p in inspect.signature(func).parameters.items() if p.default is not p.empty}


def test_bench_defaults_are_bench_options():
    from siammask.bench.run import BenchOptions

    args, options = _parse("bench"), BenchOptions()
    for name in ("frames", "repeats", "warmup", "frame_size", "reference_no_grad", "threads", "backends"):
        assert getattr(args, name) == getattr(options, name), name


def test_synth_defaults_are_the_generators():
    from siammask.datasets.synth import make_dataset
    from siammask.datasets.synth_davis import make_davis_dataset

    args = _parse("synth", "out")
    vot, davis = _defaults(make_dataset), _defaults(make_davis_dataset)
    assert (args.sequences, args.frames, args.size, args.seed) == (
        vot["sequences"], vot["frames"], vot["size"], vot["seed"])
    assert args.objects == davis["objects"] and davis["size"] == vot["size"]


def test_demo_defaults_are_demo_options(tmp_path):
    from siammask.demo import DemoOptions

    args, options = _parse("demo"), DemoOptions(output=tmp_path)
    assert (args.sequences, args.frames) == (options.sequences, options.frames)


def test_train_defaults_are_the_settings():
    pytest.importorskip("torch")
    from siammask.training.loop import Settings
    from siammask.training.run import SEEDED_LR

    args, settings = _parse("train", "--dataset", "d", "--seeded", "--output", "o.pth"), Settings()
    for name in ("train", "seed", "batch", "bf16", "max_gap"):
        assert getattr(args, name) == getattr(settings, name), name
    # --lr follows the starting point (training/run.py); from the seeded weights it is the settings'
    assert args.lr is None and SEEDED_LR == settings.lr


def test_serve_defaults_are_the_settings():
    pytest.importorskip("fastapi")
    from siammask.serve.app import ServeSettings

    args = _parse("serve")
    fields = {f.name: f.default for f in dataclasses.fields(ServeSettings)}
    # the parser keeps the text; `serve` checks it is a finite number in range (commands/serve.number)
    assert float(args.max_upload_mb) == fields["max_upload_mb"]
    assert float(args.idle_minutes) * 60 == fields["idle_timeout"]
    for name in ("max_sessions", "max_runs", "max_targets"):
        assert int(getattr(args, name)) == fields[name], name
    assert args.max_temp_mb is None and fields["max_temp_mb"] is None
