"""The functional convolutions of scratch/conv.py against torch_ref/conv.py: the readable loops
``conv2d_naive`` with their own backward, the im2col ``conv2d``, the output-size formula, and
the true convolution ``convolve2d`` (cross-correlation with the kernel flipped)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from parity_tests.helpers import assert_close, f64, refusal, refusal_tests, stricter
from parity_tests.test_conv import conv_configs
from scratch.conv import Conv2d, conv2d, conv2d_naive, conv2d_naive_backward, conv_output_size, convolve2d
from torch_ref.conv import conv2d as torch_conv2d
from torch_ref.conv import conv2d_naive_backward as torch_conv2d_naive_backward
from torch_ref.conv import conv_output_size as torch_conv_output_size
from torch_ref.conv import convolve2d as torch_convolve2d

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")


def _random_arrays(config, rng):
    """The functional arguments (stride, padding, ...) and random x, W, b for one generated config."""
    cfg = {k: config[k] for k in ("stride", "padding", "dilation", "groups")}
    kH, kW = np.broadcast_to(config["kernel_size"], 2)
    x = rng.standard_normal(config["shape"])
    weight = rng.standard_normal((config["out_channels"], config["in_channels"] // config["groups"],
                                  kH, kW))
    bias = rng.standard_normal(config["out_channels"]) if config["bias"] else None
    return cfg, x, weight, bias


@settings(max_examples=60, deadline=None, derandomize=True)
@given(config=conv_configs(max_batch=2, max_channels_per_group=2, max_groups=2),
       seed=st.integers(0, 2**32 - 1))
def test_conv2d_naive_forward_and_backward_property(config, seed):
    """The readable loops against F.conv2d and autograd, float64."""
    rng = np.random.default_rng(seed)
    cfg, x, weight, bias = _random_arrays(config, rng)
    t = {name: None if a is None else torch.from_numpy(a)
         for name, a in (("x", x), ("weight", weight), ("bias", bias))}

    out = conv2d_naive(x, weight, bias, **cfg)
    expected = torch_conv2d(t["x"], t["weight"], t["bias"], **cfg)
    assert_close(out, expected, "conv2d_naive output")

    grad_out = rng.standard_normal(out.shape)
    grads = conv2d_naive_backward(grad_out, x, weight, **cfg)
    expected = torch_conv2d_naive_backward(torch.from_numpy(grad_out), t["x"], t["weight"], **cfg)
    for name, grad, want in zip(("∂L/∂x", "∂L/∂W", "∂L/∂b"), grads, expected, strict=True):
        assert_close(grad, want, f"conv2d_naive_backward {name}")


@settings(max_examples=40, deadline=None, derandomize=True)
@given(config=conv_configs(), seed=st.integers(0, 2**32 - 1))
def test_conv2d_functional_property(config, seed):
    """The functional conv2d (what Conv2d runs) against F.conv2d, float64."""
    rng = np.random.default_rng(seed)
    cfg, x, weight, bias = _random_arrays(config, rng)
    expected = torch_conv2d(torch.from_numpy(x), torch.from_numpy(weight),
                            None if bias is None else torch.from_numpy(bias), **cfg)
    assert_close(conv2d(x, weight, bias, **cfg), expected, "conv2d output")


def test_conv2d_functional_unbatched(rng):
    """(C_in, H, W) in, (C_out, H_out, W_out) out, as F.conv2d."""
    x = rng.standard_normal((2, 5, 6))
    weight, bias = rng.standard_normal((3, 2, 2, 3)), rng.standard_normal(3)
    expected = torch_conv2d(*(torch.from_numpy(a) for a in (x, weight, bias)), stride=(1, 2), padding=1)
    assert_close(conv2d(x, weight, bias, stride=(1, 2), padding=1), expected, "unbatched conv2d")


@settings(max_examples=150, deadline=None, derandomize=True)
@given(size=st.integers(1, 12), kernel=st.integers(1, 6), stride=st.integers(1, 4),
       padding=st.integers(0, 3), dilation=st.integers(1, 3))
def test_output_size_formula_matches_torch(size, kernel, stride, padding, dilation):
    """H_out = ⌊(H + 2p − d(k − 1) − 1) / s⌋ + 1 where torch accepts the input; where the
    dilated kernel does not fit, both refuse."""
    formula = conv_output_size(size, kernel, stride, padding, dilation)
    layer = Conv2d(1, 1, (kernel, 1), (stride, 1), (padding, 0), (dilation, 1))
    x = np.zeros((1, 1, size, 1), dtype=np.float32)
    if size + 2 * padding >= dilation * (kernel - 1) + 1:
        assert formula == torch_conv_output_size(size, kernel, stride, padding, dilation)
        assert layer(x).shape == (1, 1, formula, 1)
    else:
        assert formula < 1
        with pytest.raises(RuntimeError, match="Kernel size can't be greater"):
            torch_conv_output_size(size, kernel, stride, padding, dilation)
        with pytest.raises(ValueError, match="smaller than the dilated kernel"):
            layer(x)


# -- convolution versus cross-correlation --------------------------------------------------


def _convolution_by_definition(image, kernel):
    """(X ∗ K)[t] = Σ_τ X[τ] · K[t − τ], summed literally over every τ, 'full' output."""
    H, W = image.shape
    kH, kW = kernel.shape
    out = np.zeros((H + kH - 1, W + kW - 1))
    for t1 in range(out.shape[0]):
        for t2 in range(out.shape[1]):
            for tau1 in range(H):
                for tau2 in range(W):
                    if 0 <= t1 - tau1 < kH and 0 <= t2 - tau2 < kW:
                        out[t1, t2] += image[tau1, tau2] * kernel[t1 - tau1, t2 - tau2]
    return out


@pytest.mark.parametrize(("image_shape", "kernel_shape"), [((5, 6), (2, 3)), ((4, 4), (4, 4)),
                                                             ((7, 3), (3, 1)), ((1, 1), (1, 1))])
def test_true_convolution(image_shape, kernel_shape, rng):
    image = rng.standard_normal(image_shape)
    kernel = rng.standard_normal(kernel_shape)
    full = _convolution_by_definition(image, kernel)
    kH, kW = kernel_shape
    H, W = image_shape
    assert_close(convolve2d(image, kernel, "full"), full, "convolve2d 'full' vs the definition")
    assert_close(convolve2d(image, kernel), full[kH - 1:H, kW - 1:W], "convolve2d 'valid'")
    t_image, t_kernel = torch.from_numpy(image), torch.from_numpy(kernel)
    for mode in ("full", "valid"):
        assert_close(convolve2d(image, kernel, mode), torch_convolve2d(t_image, t_kernel, mode),
                     f"convolve2d {mode!r} vs torch")
    # True convolution is cross-correlation with the kernel flipped in both axes,
    flipped = np.ascontiguousarray(kernel[::-1, ::-1])
    assert_close(convolve2d(image, kernel), conv2d(image[None, None], flipped[None, None])[0, 0],
                 "convolve2d vs conv2d of the flipped kernel")
    # and, unlike cross-correlation, commutative: X ∗ K = K ∗ X.
    assert_close(convolve2d(kernel, image, "full"), full, "K ∗ X vs X ∗ K")


def test_convolution_and_cross_correlation_differ_by_hand():
    """Tutorial 003's 1..16 image and 2×2 kernel [[−1, −1], [1, 1]].

    Window at (i, j) holds [[a, a + 1], [a + 4, a + 5]] with a = 4i + j + 1.
    Cross-correlation: −a − (a + 1) + (a + 4) + (a + 5) = 8 everywhere (the tutorial's output).
    True convolution uses the flipped kernel [[1, 1], [−1, −1]]: a + (a + 1) − (a + 4) − (a + 5) = −8.
    """
    image = np.arange(1.0, 17.0).reshape(4, 4)
    kernel = np.array([[-1.0, -1.0], [1.0, 1.0]])
    np.testing.assert_array_equal(conv2d(image[None, None], kernel[None, None])[0, 0],
                                  np.full((3, 3), 8.0))
    np.testing.assert_array_equal(convolve2d(image, kernel), np.full((3, 3), -8.0))
    np.testing.assert_array_equal(torch_convolve2d(torch.from_numpy(image), torch.from_numpy(kernel)),
                                  np.full((3, 3), -8.0))




def test_functional_rejects_mismatched_weight():
    x = np.zeros((1, 4, 5, 5))
    weight = np.zeros((2, 3, 3, 3))
    with pytest.raises(ValueError, match=r"groups · weight\.shape"):
        conv2d(x, weight)
    with pytest.raises(ValueError, match=r"groups · weight\.shape"):
        conv2d_naive(x, weight)
    with pytest.raises(RuntimeError):
        torch_conv2d(torch.zeros(1, 4, 5, 5), torch.zeros(2, 3, 3, 3))



def _w(*shape):
    return torch.zeros(shape, dtype=torch.float64)


REFUSED = [
    refusal("conv2d-no-filters", lambda: conv2d(f64(1, 3, 5, 5), f64(0, 3, 3, 3)),
            lambda: torch_conv2d(_w(1, 3, 5, 5), _w(0, 3, 3, 3)),
            ValueError, "conv2d:", "weight must hold at least one filter", "(0, 3, 3, 3)"),
    refusal("conv2d_naive-no-filters", lambda: conv2d_naive(f64(1, 3, 5, 5), f64(0, 3, 3, 3)),
            lambda: torch_conv2d(_w(1, 3, 5, 5), _w(0, 3, 3, 3)),
            ValueError, "conv2d_naive:", "weight must hold at least one filter"),
    stricter("conv2d-no-input-channels", lambda: conv2d(f64(2, 0, 5, 5), f64(3, 0, 3, 3), f64(3)),
             lambda: torch_conv2d(_w(2, 0, 5, 5), _w(3, 0, 3, 3), _w(3)),
             ValueError, "conv2d:", "input must have at least one channel", "dropping the bias"),
    refusal("conv2d-negative-padding", lambda: conv2d(f64(1, 3, 5, 5), f64(2, 3, 3, 3), padding=-1),
            lambda: torch_conv2d(_w(1, 3, 5, 5), _w(2, 3, 3, 3), padding=-1),
            ValueError, "conv2d:", "padding", "≥ 0", "got -1"),
    refusal("conv2d-same-strided", lambda: conv2d(f64(1, 3, 5, 5), f64(2, 3, 3, 3), None, 2, "same"),
            lambda: torch_conv2d(_w(1, 3, 5, 5), _w(2, 3, 3, 3), None, 2, "same"),
            ValueError, "conv2d:", "padding='same' is not supported for strided"),
    refusal("conv2d_naive_backward-grad-shape",
            lambda: conv2d_naive_backward(f64(1, 2, 4, 4), f64(1, 3, 5, 5), f64(2, 3, 3, 3)),
            lambda: torch_conv2d_naive_backward(_w(1, 2, 4, 4), _w(1, 3, 5, 5), _w(2, 3, 3, 3)),
            ValueError, "conv2d_naive_backward:", "grad_out must have the output's shape (1, 2, 3, 3)",
            "got (1, 2, 4, 4)"),
    refusal("convolve2d-valid-kernel-too-large", lambda: convolve2d(f64(2, 5), f64(3, 3)),
            lambda: torch_convolve2d(_w(2, 5), _w(3, 3)),
            ValueError, "convolve2d:", "mode='valid' needs an image at least as large as the kernel",
            "got image (2, 5) and kernel (3, 3)"),
]
test_scratch_refuses, test_torch_agrees = refusal_tests(REFUSED)


def test_functional_conv2d_computes_what_f_conv2d_computes_for_empty_batches_and_one_tuples(rng):
    """N = 0 gives an empty output; stride=(2,), dilation=(2,) mean both dimensions (ATen
    expands a one-element list), as do lists."""
    weight = rng.standard_normal((4, 3, 3, 3))
    for x, kwargs in [(np.zeros((0, 3, 6, 6)), {}), (rng.standard_normal((2, 3, 7, 8)), {"stride": (2,)}),
                      (rng.standard_normal((2, 3, 7, 8)), {"dilation": [2], "padding": [1, 2]})]:
        expected = torch_conv2d(torch.from_numpy(x), torch.from_numpy(weight), **kwargs)
        assert_close(conv2d(x, weight, **kwargs), expected, f"conv2d {kwargs}")
        assert_close(conv2d_naive(x, weight, **kwargs), expected, f"conv2d_naive {kwargs}")
