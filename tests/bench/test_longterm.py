"""`siammask bench --long-term`: the three per-frame figures, measured on the same frames (the
figures themselves are timings and never asserted; what is checked is what was measured)."""

from __future__ import annotations

from siammask.bench.longterm import format_long_term, measure_long_term
from siammask.engines.factory import EngineSpec


def test_long_term_bench_measures_present_and_wide_frames(exported_model):
    figures = measure_long_term(EngineSpec(model=exported_model, threads=1), frames=2, size=(160, 120))
    for key in ("short_term_ms", "long_term_present_ms", "long_term_wide_ms", "long_term_wide_cap_ms"):
        assert figures[key] > 0
    assert 255 < figures["wide_size"] <= figures["wide_cap_size"]
    assert (figures["wide_size"] - 255) % 64 == 0 or figures["wide_size"] == figures["wide_cap_size"]
    text = format_long_term(figures)
    assert "target present" in text and f"({figures['wide_cap_size']})" in text
