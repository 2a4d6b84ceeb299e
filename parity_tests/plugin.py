"""pytest fixtures for checking your own layers with the harness.

In your suite's conftest.py::

    pytest_plugins = ["parity_tests.plugin"]

then, in a test::

    def test_my_layer(parity_dtype, parity_rng):
        x = parity_rng.standard_normal((8, 5))
        assert_parity(MyLayer(5), TorchLayer(5), x, dtype=parity_dtype)

``parity_dtype`` runs the test once per tier, float64 (rtol 1e-7, atol 1e-10) and float32
(rtol 1e-4, atol 1e-5); ``parity_rng`` is a seeded ``np.random.Generator``, the same numbers
on every run; ``parity_torch_seed`` seeds torch's generator too, so torch modules start from
the same weights every run.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from parity_tests.harness import TOLERANCES


@pytest.fixture(params=[np.float64, np.float32], ids=["float64", "float32"])
def parity_dtype(request):
    """Each parity test twice: in float64 and in float32, each with its own tolerance."""
    assert np.dtype(request.param) in TOLERANCES
    return request.param


@pytest.fixture
def parity_rng() -> np.random.Generator:
    """A seeded generator for the inputs: the same numbers on every run."""
    return np.random.default_rng(0)


@pytest.fixture
def parity_torch_seed() -> int:
    """torch's generator seeded (0), so torch modules start from the same weights each run."""
    torch.manual_seed(0)
    return 0
