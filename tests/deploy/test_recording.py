"""RecordingEngine: an EngineProxy that keeps each call's graph feeds and changes no result."""

from __future__ import annotations

import numpy as np

from siammask.deploy.quantize import RecordingEngine
from siammask.engine_contract import EngineProxy, SearchResult, TemplateKernels


class FakeEngine:
    name, precision = "fake", "fp32"

    def template(self, z: np.ndarray) -> TemplateKernels:
        k = np.full((len(z), 2, 1, 1), float(z.mean()), np.float32)
        return TemplateKernels(k, k + 1, k + 2)

    def search(self, x: np.ndarray, kernels: TemplateKernels) -> SearchResult:
        return SearchResult(x.mean(axis=(1, 2, 3)), kernels.loc, None)


def test_records_per_target_feeds_and_forwards_the_results():
    recorder = RecordingEngine(FakeEngine())
    assert isinstance(recorder, EngineProxy)
    assert (recorder.name, recorder.precision) == ("fake", "fp32")
    z = np.arange(2 * 3 * 4 * 4, dtype=np.float64).reshape(2, 3, 4, 4)
    kernels = recorder.template(z)
    np.testing.assert_array_equal(kernels.cls, FakeEngine().template(z).cls)
    result = recorder.search(z + 1, kernels)
    np.testing.assert_array_equal(result.cls, (z + 1).mean(axis=(1, 2, 3)))
    assert [f["exemplar"].shape for f in recorder.feeds["template"]] == [(1, 3, 4, 4)] * 2
    assert all(f["exemplar"].dtype == np.float32 for f in recorder.feeds["template"])
    second = recorder.feeds["search"][1]
    np.testing.assert_array_equal(second["search"], (z + 1)[1:2])
    np.testing.assert_array_equal(second["cls_kernel"], kernels.cls[1:2])
    assert recorder.feeds["refine"] == []
