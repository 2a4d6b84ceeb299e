"""Pooling: scratch/pooling.py against torch_ref/pooling.py (torch.nn.MaxPool2d, AvgPool2d)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from parity_tests.helpers import assert_close, assert_numerical_grad, assert_parity
from scratch.pooling import AvgPool2d, MaxPool2d, pool_output_size
from torch_ref.pooling import AvgPool2d as TorchAvgPool2d
from torch_ref.pooling import MaxPool2d as TorchMaxPool2d

PROPERTY = settings(derandomize=True, deadline=None, max_examples=60)


def _image_1_to_16() -> np.ndarray:
    return np.arange(1, 17, dtype=np.float64).reshape(1, 1, 4, 4)


def _misses_input(size: int, out: int, k: int, s: int, p: int, d: int) -> bool:
    """Does some window along this dimension lie wholly in padding? (torch's backward then
    writes out of bounds, so such configurations are compared forward only.)"""
    return any(not any(0 <= i * s - p + u * d < size for u in range(k)) for i in range(out))


@st.composite
def pool_configs(draw, dilated: bool):
    """Kernel, stride, padding, dilation, ceil_mode and an input size that torch accepts."""
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 4), st.integers(1, 4))))
    d = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if dilated else (1, 1)
    p = tuple(draw(st.integers(0, kk // 2)) for kk in k)
    ceil_mode = draw(st.booleans())
    # sizes from the smallest that yields one window (output size 1) up to a few more
    size = tuple(max(1, dd * (kk - 1) + 1 - 2 * pp) + draw(st.integers(0, 5))
                 for kk, pp, dd in zip(k, p, d, strict=True))
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 3)), *size)
    return {"kernel_size": k, "stride": stride, "padding": p, "dilation": d,
            "ceil_mode": ceil_mode}, shape


def _values(draw_ties: bool, shape, rng) -> np.ndarray:
    """Small integers tie often (several maxima in a window); normals almost never do."""
    if draw_ties:
        return rng.integers(-2, 3, size=shape).astype(np.float64)
    return rng.standard_normal(shape)


# -- the tutorials' worked example ---------------------------------------------------------------
def test_max_pool_of_1_to_16_image_both_twins():
    """Tutorial 003: 2×2 max pooling of [[1..4], …, [13..16]] is [[6, 8], [14, 16]]."""
    expected = np.array([[[[6.0, 8.0], [14.0, 16.0]]]])       # each 2×2 block's bottom-right
    assert_close(MaxPool2d(2)(_image_1_to_16()), expected, "scratch MaxPool2d(2)")
    assert_close(TorchMaxPool2d(2)(torch.from_numpy(_image_1_to_16())), expected, "torch MaxPool2d(2)")
    assert_parity(MaxPool2d(2), TorchMaxPool2d(2), _image_1_to_16())


def test_avg_pool_of_1_to_16_image_both_twins():
    expected = np.array([[[[3.5, 5.5], [11.5, 13.5]]]])       # (1+2+5+6)/4 = 3.5, …
    assert_close(AvgPool2d(2)(_image_1_to_16()), expected, "scratch AvgPool2d(2)")
    assert_close(TorchAvgPool2d(2)(torch.from_numpy(_image_1_to_16())), expected, "torch AvgPool2d(2)")


def _tutorial_001_max_pool2d(feature_map, pool_size=2):
    h, w = feature_map.shape
    out_h, out_w = h // pool_size, w // pool_size
    pooled = np.zeros((out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            pooled[i, j] = np.max(feature_map[i * pool_size:(i + 1) * pool_size,
                                              j * pool_size:(j + 1) * pool_size])
    return pooled


def _tutorial_004_max_pooling(x, size=2, stride=2):
    h, w = x.shape
    pooled = np.zeros((h // 2, w // 2))
    for i in range(0, h, stride):
        for j in range(0, w, stride):
            pooled[i // 2, j // 2] = np.max(x[i:i + size, j:j + size])
    return pooled


def test_tutorial_001_pooling_is_floor_mode(rng):
    """h // pool_size drops the last row and column of an odd map: torch's default floor mode."""
    x = rng.standard_normal((5, 7))
    floor = MaxPool2d(2)(x[None, None])[0, 0]
    assert floor.shape == (2, 3)
    assert_close(floor, _tutorial_001_max_pool2d(x), "floor mode vs tutorial 001")
    ceil = MaxPool2d(2, ceil_mode=True)(x[None, None])[0, 0]
    assert ceil.shape == (3, 4)                                # keeps the partial last windows
    assert ceil[2, 3] == x[4, 6]                               # the 1×1 corner window


def test_tutorial_004_pooling_breaks_on_odd_sizes(rng):
    x = rng.standard_normal((5, 5))
    with pytest.raises(IndexError):
        _tutorial_004_max_pooling(x)
    assert MaxPool2d(2)(x[None, None]).shape == (1, 1, 2, 2)


# -- output size ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("size", "k", "s", "p", "d", "ceil_mode", "expected"), [
    (4, 2, 2, 0, 1, False, 2),
    (5, 2, 2, 0, 1, False, 2),     # floor: the last row is dropped
    (5, 2, 2, 0, 1, True, 3),      # ceil: a last window of one row
    (5, 2, 2, 1, 1, True, 3),      # ⌈(5 + 2 − 2)/2⌉ + 1 = 4, but window 4 would start at 6 ≥ 5 + 1
    (6, 3, 2, 1, 1, True, 4),      # ⌈(6 + 2 − 3)/2⌉ + 1 = 4, last window starts at 6 < 6 + 1
    (7, 3, 1, 1, 2, False, 5),     # dilation 2: the window spans 5 rows
    (1, 1, 1, 0, 1, False, 1),
])
def test_output_size_by_hand(size, k, s, p, d, ceil_mode, expected):
    assert pool_output_size(size, k, s, p, d, ceil_mode) == expected
    x = torch.zeros(1, 1, size, size)
    assert F.max_pool2d(x, k, s, p, d, ceil_mode).shape[-1] == expected


@settings(derandomize=True, deadline=None, max_examples=100)
@given(size=st.integers(1, 12), k=st.integers(1, 5), s=st.integers(1, 5), d=st.integers(1, 3),
       p_frac=st.integers(0, 2), ceil_mode=st.booleans())
def test_output_size_formula_matches_torch(size, k, s, d, p_frac, ceil_mode):
    p = min(p_frac, k // 2)
    assume(size + 2 * p >= d * (k - 1) + 1)
    expected = F.max_pool2d(torch.zeros(1, 1, size, 1), (k, 1), (s, 1), (p, 0), (d, 1),
                            ceil_mode).shape[-2]
    assert pool_output_size(size, k, s, p, d, ceil_mode) == expected


# -- MaxPool2d parity ----------------------------------------------------------------------------
def _assert_max_pool_parity(config, x, dtype=np.float64):
    out = assert_parity(MaxPool2d(**config), TorchMaxPool2d(**config), x, dtype=dtype)["out"]
    indices = MaxPool2d(**config, return_indices=True)(x.astype(dtype))[1]
    torch_indices = TorchMaxPool2d(**config, return_indices=True)(torch.from_numpy(x.astype(dtype)))[1]
    np.testing.assert_array_equal(indices, torch_indices.numpy(), err_msg=f"indices, {config}")
    return out


def _some_window_misses_input(config, shape) -> bool:
    """Does some window, along either dimension, lie wholly in padding (see _misses_input)?"""
    stride = config["stride"] or config["kernel_size"]
    out_size = F.max_pool2d(torch.zeros(shape), **config).shape[-2:]
    return any(_misses_input(n, o, k, s, p, d) for n, o, k, s, p, d in zip(
        shape[-2:], out_size, config["kernel_size"], stride, config["padding"], config["dilation"],
        strict=True))


@PROPERTY
@given(case=pool_configs(dilated=True), ties=st.booleans(), seed=st.integers(0, 2**16))
def test_max_pool_parity_property(case, ties, seed):
    config, shape = case
    assume(not _some_window_misses_input(config, shape))
    _assert_max_pool_parity(config, _values(ties, shape, np.random.default_rng(seed)))


@settings(derandomize=True, deadline=None, max_examples=25)
@given(case=pool_configs(dilated=True), ties=st.booleans(), seed=st.integers(0, 2**16))
def test_max_pool_parity_property_float32(case, ties, seed):
    config, shape = case
    assume(not _some_window_misses_input(config, shape))
    _assert_max_pool_parity(config, _values(ties, shape, np.random.default_rng(seed)), np.float32)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(8, 4, 24, 24), (8, 8, 8, 8), (2, 3, 7, 9), (1, 1, 2, 2)])
def test_max_pool_common_case_parity(shape, dtype, rng):
    """kernel = stride = 2, the MNIST CNN's layer: disjoint windows, odd sizes floor."""
    _assert_max_pool_parity({"kernel_size": 2}, rng.standard_normal(shape), dtype)


def test_max_pool_constant_image_ties():
    """Every element ties: the gradient goes to each window's first element only."""
    x = np.full((1, 1, 4, 4), 3.0)
    _assert_max_pool_parity({"kernel_size": 2}, x)
    layer = MaxPool2d(2)
    layer(x)
    grad_x = layer.backward(np.ones((1, 1, 2, 2)))
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1                                       # top-left of each 2×2 window
    assert_close(grad_x[0, 0], expected, "gradient of a constant image")
    for config in ({"kernel_size": 3, "stride": 1, "padding": 1},
                   {"kernel_size": (2, 3), "stride": (1, 2), "dilation": (1, 2), "ceil_mode": True}):
        _assert_max_pool_parity(config, np.full((2, 2, 5, 6), -1.5))


def test_max_pool_repeated_maxima_in_a_window():
    x = np.array([[[[1.0, 5.0, 5.0],
                    [5.0, 2.0, 5.0],
                    [0.0, 5.0, 1.0]]]])
    layer = MaxPool2d(3)
    layer(x)
    grad_x = layer.backward(np.array([[[[2.0]]]]))
    expected = np.zeros((3, 3))
    expected[0, 1] = 2.0                                         # the first 5 in row-major order
    assert_close(grad_x[0, 0], expected, "first maximum wins")
    _assert_max_pool_parity({"kernel_size": 3}, x)


def test_max_pool_overlapping_windows_accumulate(rng):
    """One element is the maximum of all four 2×2 windows of a 3×3 image (stride 1)."""
    x = rng.uniform(-1, 0, size=(1, 1, 3, 3))
    x[0, 0, 1, 1] = 10.0
    g = np.array([[[[0.5, -2.0], [3.0, 0.25]]]])
    layer = MaxPool2d(2, stride=1)
    layer(x)
    grad_x = layer.backward(g)
    expected = np.zeros((3, 3))
    expected[1, 1] = 0.5 - 2.0 + 3.0 + 0.25                      # Σ over the windows it wins
    assert_close(grad_x[0, 0], expected, "accumulated gradient")
    _assert_max_pool_parity({"kernel_size": 2, "stride": 1}, x)
    _assert_max_pool_parity({"kernel_size": 3, "stride": 1, "padding": 1}, x)


def test_max_pool_nan_and_inf_as_torch():
    """NaN wins (the last NaN of a window, torch's CPU rule); an all −∞ window routes its
    gradient to its first element inside the input, never to padding."""
    nan, inf = np.nan, np.inf
    x = np.array([[[[1.0, nan, 2.0, nan],
                    [-inf, -inf, 3.0, nan],
                    [-inf, -inf, inf, 0.0],
                    [-inf, -inf, 1.0, inf]]]])
    for config in ({"kernel_size": 2}, {"kernel_size": 2, "stride": 1, "padding": 1},
                   {"kernel_size": 3, "stride": 1, "padding": 1}, {"kernel_size": (1, 4)},
                   {"kernel_size": 2, "ceil_mode": True, "stride": 3, "padding": 1}):
        _assert_max_pool_parity(config, x)


def test_max_pool_window_outside_input_forward_only():
    """H = 1, kernel 2, padding 1, dilation 2: rows −1 and 1 both miss the input. Output −∞
    as torch; torch's backward would write out of bounds, so only ours is checked: zero."""
    x = np.array([[[[1.0, 2.0, 3.0, 4.0]]]])
    layer = MaxPool2d(2, padding=1, dilation=2)
    out = layer(x)
    torch_out = F.max_pool2d(torch.from_numpy(x), 2, padding=1, dilation=2)
    assert_close(out, torch_out, "forward of windows outside the input")
    assert np.isneginf(out).all()
    assert not layer.backward(np.ones_like(out)).any()


@pytest.mark.parametrize("config", [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    {"kernel_size": (2, 3), "stride": (1, 2), "dilation": (2, 1), "padding": (1, 1)},
])
def test_max_pool_numerical_gradient(config, rng):
    x = rng.permutation(np.linspace(-3, 3, 2 * 2 * 5 * 6)).reshape(2, 2, 5, 6)  # gaps of 0.05 ≫ ε
    assert_numerical_grad(MaxPool2d(**config), x)


def test_max_pool_unbatched_input(rng):
    x = rng.standard_normal((3, 5, 5))
    assert_parity(MaxPool2d(2, ceil_mode=True), TorchMaxPool2d(2, ceil_mode=True), x)
