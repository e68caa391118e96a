"""Closed loop over the golden sequences under the supervised protocol: the same event
(init/track/lost/skip) as the reference on every frame. A failure names the first divergence."""

from __future__ import annotations

import pytest

from siammask.evaluation.vot.protocol import run_supervised
from siammask.tracking.tracker import Tracker
from tests.constants import golden_records, sequence_frames, sequence_groundtruth


def first_divergence(engine, seq: str, records: list[dict]) -> str | None:
    run = run_supervised(Tracker(engine), sequence_frames(seq), sequence_groundtruth(seq))
    ours = [r.event for r in run.records]
    theirs = [r["event"] for r in records]
    assert len(ours) == len(theirs)
    for f, (a, b) in enumerate(zip(ours, theirs)):
        if a != b:
            return f"{seq} frame {f}: ours {a}, reference {b}"
    return None


@pytest.mark.parametrize("engine", ["torch_engine", "onnx_engine"])
@pytest.mark.parametrize("seq", ["synth00", "synth01", "synth02"])
def test_closed_loop_events_match_reference(request, engine, seq):
    assert first_divergence(request.getfixturevalue(engine), seq, golden_records()[seq]) is None
