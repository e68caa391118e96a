"""The training loop's chunks: the frozen part runs once a pair, and what it caches is what the
uncached network computes on the same crops."""

from __future__ import annotations

from collections import Counter

import numpy as np
import torch

from siammask.datasets.vot import load_dataset
from siammask.model.checkpoint import load_into
from siammask.model.network import SiamMaskNet
from siammask.model.seeded import seeded_state_dict
from siammask.training.data import vot_tracks
from siammask.training.loop import Settings, Trainer, chunk_steps, draw_pair, frozen_features


def _model() -> SiamMaskNet:
    model = SiamMaskNet()
    load_into(model, {k: torch.from_numpy(v) for k, v in seeded_state_dict().items()}, source="seeded")
    return model.eval()


def test_each_pair_goes_through_the_backbone_once_and_is_trained_on_reuse_times(vot_data, monkeypatch):
    import siammask.training.loop as loop

    monkeypatch.setattr(loop, "CHUNK", 4)
    settings = Settings(batch=2, reuse=3, negatives=0.5)
    trainer = Trainer(_model(), settings, vot_tracks(load_dataset(vot_data)))
    crops = Counter()
    real = trainer.model.features.features.forward

    def counting(x):
        crops[x.shape[-1]] += x.shape[0]
        return real(x)

    monkeypatch.setattr(trainer.model.features.features, "forward", counting)
    pairs, steps = chunk_steps(settings)
    assert (pairs, steps) == (4, 6)
    seen = Counter()
    for step in range(steps):
        batch = trainer.batch(step)
        seen.update(id(s) for s in batch.samples)
    assert crops == {127: 4, 255: 4}  # 4 pairs, each cropped once through the backbone
    assert sorted(seen.values()) == [3, 3, 3, 3]  # each trained on `reuse` times
    trainer.batch(steps)  # the next chunk draws new pairs
    assert crops == {127: 6, 255: 6}


def test_cached_features_are_the_networks_own_on_the_same_crops(vot_data):
    model = _model()
    tracks = vot_tracks(load_dataset(vot_data))
    settings = Settings(train="mask", batch=2, negatives=0)
    drawn = [draw_pair(tracks, settings, np.random.default_rng(k)) for k in range(2)]
    samples = frozen_features(model, drawn, settings)
    with torch.no_grad():
        for (pair, _, cells), sample in zip(drawn, samples):
            x = torch.from_numpy(pair.search.transpose(2, 0, 1).copy())[None]
            p0, _, _, p3 = model.features.features(x)
            torch.testing.assert_close(sample.x, p3[0], rtol=1e-4, atol=1e-4)  # batch of 2 against 1
            if len(cells):  # the refine's first window at the first chosen cell, cut as network.py cuts it
                r, c = cells[0]
                padded = torch.nn.functional.pad(p0, [16] * 4)
                torch.testing.assert_close(sample.windows[0][0], padded[0, :, 4 * r : 4 * r + 61, 4 * c : 4 * c + 61],
                                           rtol=1e-4, atol=1e-4)


def test_negatives_and_reuse_out_of_range_are_refused():
    import pytest

    from siammask.errors import SiamMaskError

    with pytest.raises(SiamMaskError, match="--negatives must be at least 0 and under 1, got 1.0"):
        Settings(negatives=1.0)
    with pytest.raises(SiamMaskError, match="--reuse must be a whole number of at least 1, got 0"):
        Settings(reuse=0)
