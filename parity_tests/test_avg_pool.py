"""AvgPool2d: scratch/pooling.py against torch_ref/pooling.py (torch.nn.AvgPool2d): torch's
divisors (count_include_pad, ceil mode's overhang, divisor_override), forward and backward."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parity_tests.helpers import assert_close, assert_numerical_grad, assert_parity
from parity_tests.test_pooling import PROPERTY, pool_configs
from scratch.pooling import AvgPool2d
from torch_ref.pooling import AvgPool2d as TorchAvgPool2d


# -- AvgPool2d parity ----------------------------------------------------------------------------
@PROPERTY
@given(case=pool_configs(dilated=False), count_include_pad=st.booleans(),
       divisor_override=st.sampled_from([None, None, 1, 3, -2]), seed=st.integers(0, 2**16))
def test_avg_pool_parity_property(case, count_include_pad, divisor_override, seed):
    config, shape = case
    del config["dilation"]
    config.update(count_include_pad=count_include_pad, divisor_override=divisor_override)
    x = np.random.default_rng(seed).standard_normal(shape)
    assert_parity(AvgPool2d(**config), TorchAvgPool2d(**config), x)


@settings(derandomize=True, deadline=None, max_examples=25)
@given(case=pool_configs(dilated=False), count_include_pad=st.booleans(), seed=st.integers(0, 2**16))
def test_avg_pool_parity_property_float32(case, count_include_pad, seed):
    config, shape = case
    del config["dilation"]
    config.update(count_include_pad=count_include_pad)
    x = np.random.default_rng(seed).standard_normal(shape)
    assert_parity(AvgPool2d(**config), TorchAvgPool2d(**config), x, dtype=np.float32)


def test_avg_pool_divisors_by_hand():
    """H = W = 5, kernel 3, stride 2, padding 1, ceil_mode: windows start at −1, 1, 3 and the
    last one covers rows 3, 4, 5, where row 5 is padding (5 < 5 + 1) but still inside the
    padded input, and it cannot hang further. Along one row of ones, the sums are 2, 3, 2."""
    x = np.ones((1, 1, 5, 5))
    # count_include_pad: every window holds 3 cells of the padded input per dimension
    assert_close(AvgPool2d(3, 2, 1, ceil_mode=True)(x)[0, 0],
                 np.outer([2, 3, 2], [2, 3, 2]) / 9, "count_include_pad divisors")
    # without padding counted: only cells of the input, so the mean of ones is 1
    assert_close(AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)(x)[0, 0],
                 np.ones((3, 3)), "count_include_pad=False divisors")
    # H = 6, kernel 2, stride 4, ceil: windows at 0 and 4 (4 < 6); no padding to count
    assert_close(AvgPool2d(2, 4, 0, ceil_mode=True)(np.ones((1, 1, 6, 6)))[0, 0],
                 np.ones((2, 2)), "windows inside the input")
    # H = 5, kernel 2, stride 2, ceil: the last window [4, 6) hangs past the input by one row,
    # with no padding there: the divisor counts only the row inside, even with count_include_pad
    assert_close(AvgPool2d(2, ceil_mode=True)(np.ones((1, 1, 5, 5)))[0, 0],
                 np.ones((3, 3)), "ceil-mode overhang is not counted")
    assert_close(AvgPool2d(2, ceil_mode=True, divisor_override=4)(np.ones((1, 1, 5, 5)))[0, 0],
                 np.array([[1, 1, 0.5], [1, 1, 0.5], [0.5, 0.5, 0.25]]), "divisor_override")
    for config in ({"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
                   {"kernel_size": 2, "ceil_mode": True},
                   {"kernel_size": 2, "ceil_mode": True, "divisor_override": 4}):
        assert_parity(AvgPool2d(**config), TorchAvgPool2d(**config), x)


@pytest.mark.parametrize("config", [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
    {"kernel_size": (3, 2), "stride": (1, 2), "padding": (1, 0), "divisor_override": 5},
])
def test_avg_pool_numerical_gradient(config, rng):
    assert_numerical_grad(AvgPool2d(**config), rng.standard_normal((2, 2, 5, 6)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_avg_pool_extreme_and_unbatched(dtype, rng):
    x = rng.standard_normal((3, 6, 7)) * 1e4
    assert_parity(AvgPool2d(3, 2, 1, ceil_mode=True), TorchAvgPool2d(3, 2, 1, ceil_mode=True), x,
                  dtype=dtype)
