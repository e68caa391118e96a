"""Tiny synthetic datasets for the training tests (a step costs one backbone pass per crop)."""

from __future__ import annotations

import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    # the machine's cores are shared: a test never takes more than one
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def vot_data(tmp_path_factory):
    from siammask.datasets.synth import make_dataset

    return make_dataset(tmp_path_factory.mktemp("vot") / "synth", sequences=3, frames=6, size=(160, 120))


@pytest.fixture(scope="session")
def davis_data(tmp_path_factory):
    from siammask.datasets.synth_davis import make_davis_dataset

    return make_davis_dataset(tmp_path_factory.mktemp("davis") / "d", sequences=2, frames=4, size=(160, 120),
                              objects=2)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
