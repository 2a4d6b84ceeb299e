"""Conv2d: scratch/conv.py against torch_ref/conv.py (torch.nn.Conv2d, F.conv2d).

Three scratch forms are checked against torch: the layer (im2col + matrix products), the
functional ``conv2d``, and the readable ``conv2d_naive`` with its own backward. Hypothesis
draws the configurations (batch, channels, sizes, kernel, stride, padding, dilation, groups);
``derandomize=True`` makes every run draw the same ones, so CI is reproducible.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from parity_tests.helpers import assert_close, assert_numerical_grad, assert_parity
from scratch.conv import (
    Conv2d,
    col2im,
    conv2d,
    conv2d_naive,
    conv2d_naive_backward,
    conv_output_size,
    convolve2d,
    im2col,
)
from torch_ref.conv import Conv2d as TorchConv2d
from torch_ref.conv import col2im as torch_col2im
from torch_ref.conv import conv2d as torch_conv2d
from torch_ref.conv import conv2d_naive_backward as torch_conv2d_naive_backward
from torch_ref.conv import conv_output_size as torch_conv_output_size
from torch_ref.conv import convolve2d as torch_convolve2d
from torch_ref.conv import im2col as torch_im2col

# torch's own notes, not failures: 'same' with an even kernel pads a copy of the input, and a
# zero-size kernel makes kaiming_uniform_ a no-op.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning"),
    pytest.mark.filterwarnings("ignore:Initializing zero-element tensors:UserWarning"),
]

CASES = [
    # (in, out, kernel_size, stride, padding, dilation, groups, bias, input shape)
    (1, 1, 3, 1, 0, 1, 1, True, (1, 1, 5, 5)),           # batch of 1, one channel
    (3, 4, 3, 1, 0, 1, 1, False, (2, 3, 7, 6)),          # bias=False, non-square input
    (3, 4, 3, 2, 1, 1, 1, True, (2, 3, 7, 7)),           # stride > 1 over an odd size
    (2, 3, (2, 3), (2, 1), (1, 0), (1, 2), 1, True, (2, 2, 6, 9)),  # everything rectangular
    (4, 6, 3, 1, 1, 1, 2, True, (2, 4, 5, 5)),           # two groups
    (3, 6, 3, 1, 1, 1, 3, True, (2, 3, 5, 4)),           # depthwise: one group per channel
    (2, 4, 3, 1, "same", 1, 1, True, (2, 2, 5, 6)),      # 'same', odd kernel: symmetric
    (2, 4, 2, 1, "same", 1, 1, True, (2, 2, 5, 6)),      # 'same', even kernel: extra pad bottom/right
    (2, 4, (4, 3), 1, "same", (1, 3), 1, True, (1, 2, 6, 7)),  # 'same' with dilation
    (2, 3, 3, 1, "valid", 1, 1, True, (2, 2, 4, 4)),
    (2, 3, 5, 1, 0, 1, 1, True, (2, 2, 5, 5)),           # output size 1
    (2, 3, 3, 3, 2, 2, 1, True, (1, 2, 3, 3)),           # padding wider than the input
    (3, 2, 3, 1, 1, 1, 1, True, (3, 6, 6)),              # unbatched (C, H, W), as torch allows
    (1, 16, 5, 1, 0, 1, 1, True, (4, 1, 28, 28)),        # the MNIST CNN's first layer
    (16, 32, 5, 1, 0, 1, 1, True, (2, 16, 12, 12)),      # and its second
    (3, 4, 3, 1, 1, 1, 1, True, (13, 3, 5, 7)),          # batch 13: blocks of 8 samples and a rest
]


def _ids(case):
    return "in{}-out{}-k{}-s{}-p{}-d{}-g{}-b{}-x{}".format(*case).replace(" ", "")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_conv2d_parity(case, dtype, rng):
    cin, cout, k, s, p, d, g, bias, shape = case
    torch.manual_seed(0)
    x = rng.standard_normal(shape)
    assert_parity(Conv2d(cin, cout, k, s, p, d, g, bias), TorchConv2d(cin, cout, k, s, p, d, g, bias),
                  x, dtype=dtype)


# -- property-based: hypothesis draws the configurations -----------------------------------


@st.composite
def conv_configs(draw, max_batch=3, max_channels_per_group=3, max_groups=3):
    """A Conv2d configuration and an input shape whose output is at least 1 × 1."""
    groups = draw(st.integers(1, max_groups))
    cin = groups * draw(st.integers(1, max_channels_per_group))
    cout = groups * draw(st.integers(1, max_channels_per_group))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    kind = draw(st.sampled_from(["int", "pair", "valid", "same"]))
    if kind == "same":
        stride = (1, 1)
        padding = "same"
        pads = (0, 0)                  # 'same' keeps H_out = H, so any H ≥ 1 will do
    else:
        stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        if kind == "int":
            padding = draw(st.integers(0, 3))
            pads = (padding, padding)
        elif kind == "pair":
            padding = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
            pads = padding
        else:
            padding, pads = "valid", (0, 0)
    size = []
    for k, d, p in zip(kernel, dilation, pads, strict=True):
        smallest = 1 if padding == "same" else max(1, d * (k - 1) + 1 - 2 * p)   # output size 1
        size.append(draw(st.integers(smallest, smallest + 6)))
    batch = draw(st.integers(1, max_batch))
    bias = draw(st.booleans())
    # Half the time plain ints where both dimensions agree, as most code writes them.
    if kernel[0] == kernel[1] and draw(st.booleans()):
        kernel = kernel[0]
    return {"in_channels": cin, "out_channels": cout, "kernel_size": kernel, "stride": stride,
            "padding": padding, "dilation": dilation, "groups": groups, "bias": bias,
            "shape": (batch, cin, *size)}


def _layers(config):
    args = {k: v for k, v in config.items() if k != "shape"}
    torch.manual_seed(0)
    return Conv2d(**args), TorchConv2d(**args)


@settings(max_examples=160, deadline=None, derandomize=True)
@given(config=conv_configs(), seed=st.integers(0, 2**32 - 1))
def test_conv2d_parity_property_float64(config, seed):
    x = np.random.default_rng(seed).standard_normal(config["shape"])
    scratch_layer, torch_layer = _layers(config)
    assert_parity(scratch_layer, torch_layer, x, seed=seed)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(config=conv_configs(), seed=st.integers(0, 2**32 - 1))
def test_conv2d_parity_property_float32(config, seed):
    x = np.random.default_rng(seed).standard_normal(config["shape"])
    scratch_layer, torch_layer = _layers(config)
    out = assert_parity(scratch_layer, torch_layer, x, dtype=np.float32, seed=seed)["out"]
    assert out.dtype == np.float32


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


# -- im2col and col2im: the matrix form of the convolution ---------------------------------


@pytest.mark.parametrize(("kernel", "dilation", "padding", "stride"),
                         [(3, 1, 0, 1), ((2, 3), (2, 1), (1, 0), (1, 2)), (2, 1, 1, 2)])
def test_im2col_and_col2im_match_unfold_and_fold(kernel, dilation, padding, stride, rng):
    x = rng.standard_normal((2, 3, 7, 6))
    cols = im2col(x, kernel, dilation, padding, stride)
    assert_close(cols, torch_im2col(torch.from_numpy(x), kernel, dilation, padding, stride), "im2col")
    upstream = rng.standard_normal(cols.shape)
    assert_close(col2im(upstream, x.shape, kernel, dilation, padding, stride),
                 torch_col2im(torch.from_numpy(upstream), x.shape, kernel, dilation, padding, stride),
                 "col2im")
    # Adjoints: ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩, which is why col2im is im2col's backward.
    lhs = np.sum(cols * upstream)
    rhs = np.sum(x * col2im(upstream, x.shape, kernel, dilation, padding, stride))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12)


# -- central differences: the third witness ------------------------------------------------


@pytest.mark.parametrize(("args", "shape"), [
    ((2, 3, 3), (2, 2, 5, 4)),
    ((4, 2, (2, 3), 2, 1, (2, 1), 2, False), (1, 4, 6, 7)),
    ((2, 2, 2, 1, "same"), (1, 2, 3, 5)),
])
def test_conv2d_numerical_gradient(args, shape, rng):
    assert_numerical_grad(Conv2d(*args, generator=rng), rng.standard_normal(shape))


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


# -- behaviour -----------------------------------------------------------------------------


def test_conv2d_backward_accumulates(rng):
    """Two backwards without zero_grad add up, as torch's .grad does."""
    layer = Conv2d(2, 3, 3, padding=1, generator=rng).double()
    x = rng.standard_normal((2, 2, 5, 5))
    g = rng.standard_normal((2, 3, 5, 5))
    layer(x)
    grad_x = layer.backward(g)
    once = layer.weight.grad.copy(), layer.bias.grad.copy()
    layer(x)
    np.testing.assert_array_equal(layer.backward(g), grad_x)
    np.testing.assert_allclose(layer.weight.grad, 2 * once[0], rtol=1e-12)
    np.testing.assert_allclose(layer.bias.grad, 2 * once[1], rtol=1e-12)


def test_conv2d_skipping_the_input_gradient(rng):
    """need_input_grad=False returns None and leaves the parameter gradients as they were."""
    x = rng.standard_normal((2, 1, 8, 8))
    g = rng.standard_normal((2, 4, 6, 6))
    full, skipped = Conv2d(1, 4, 3, generator=np.random.default_rng(0)).double(), \
        Conv2d(1, 4, 3, generator=np.random.default_rng(0)).double()
    full(x)
    full.backward(g)
    skipped(x)
    assert skipped.backward(g, need_input_grad=False) is None
    np.testing.assert_array_equal(skipped.weight.grad, full.weight.grad)
    np.testing.assert_array_equal(skipped.bias.grad, full.bias.grad)


def test_conv2d_float32_stays_float32(rng):
    layer = Conv2d(3, 4, 3, padding=1, generator=rng)
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    out = layer(x)
    grad_x = layer.backward(np.ones_like(out))
    assert out.dtype == grad_x.dtype == layer.weight.grad.dtype == layer.bias.grad.dtype == np.float32


def test_conv2d_extreme_inputs(rng):
    """Large magnitudes: sums of products must neither overflow nor lose relative accuracy."""
    torch.manual_seed(0)
    x = rng.standard_normal((2, 3, 6, 6)) * 1e6
    assert_parity(Conv2d(3, 2, 3, padding=1), TorchConv2d(3, 2, 3, padding=1), x)


def test_conv2d_zero_batch():
    torch.manual_seed(0)
    out = assert_parity(Conv2d(2, 3, 3), TorchConv2d(2, 3, 3), np.zeros((0, 2, 5, 5)))["out"]
    assert out.shape == (0, 3, 3, 3)


@pytest.mark.parametrize(("kernel", "dilation"), [(3, 1), (2, 1), (4, 2), ((2, 5), (3, 1))])
def test_same_padding_keeps_the_size(kernel, dilation, rng):
    x = rng.standard_normal((1, 2, 7, 8))
    assert Conv2d(2, 3, kernel, padding="same", dilation=dilation)(x.astype(np.float32)).shape \
        == (1, 3, 7, 8)


def test_default_init_bounds(rng):
    """torch's default: W, b ~ U(−1/√fan_in, 1/√fan_in), fan_in = C_in / groups · kH · kW."""
    layer = Conv2d(32, 64, (3, 5), groups=2, generator=rng)
    bound = 1 / np.sqrt(16 * 3 * 5)
    assert layer.weight.shape == (64, 16, 3, 5)
    assert layer.weight.dtype == np.float32
    assert np.abs(layer.weight.data).max() <= bound
    assert np.abs(layer.weight.data).max() > 0.99 * bound
    assert np.abs(layer.bias.data).max() <= bound
    assert abs(layer.weight.data.std() - bound / np.sqrt(3)) < 0.05 * bound   # U(−b, b): σ = b/√3


def test_state_dict_keys_match_torch():
    assert list(Conv2d(2, 3, 3).state_dict()) == list(TorchConv2d(2, 3, 3).state_dict())
    assert list(Conv2d(2, 3, 3, bias=False).state_dict()) == ["weight"]


def test_repr_matches_torch():
    for args, kwargs in [((2, 4, 3), {}), ((2, 4, (2, 3)), {"stride": 2, "padding": 1}),
                         ((2, 4, 3), {"padding": "same", "dilation": 2, "groups": 2, "bias": False})]:
        assert repr(Conv2d(*args, **kwargs)) == repr(TorchConv2d(*args, **kwargs))


# -- refusals: each with torch refusing the same -------------------------------------------


def test_rejects_wrong_channel_count():
    with pytest.raises(ValueError, match=r"in_channels=3.*got shape \(2, 4, 5, 5\)"):
        Conv2d(3, 2, 3)(np.zeros((2, 4, 5, 5), dtype=np.float32))
    with pytest.raises(RuntimeError, match="to have 3 channels"):
        TorchConv2d(3, 2, 3)(torch.zeros(2, 4, 5, 5))


def test_rejects_wrong_rank():
    with pytest.raises(ValueError, match=r"3-D or 4-D.*got 2-D"):
        Conv2d(1, 2, 3)(np.zeros((5, 5), dtype=np.float32))
    with pytest.raises(RuntimeError, match=r"3D .*or 4D"):
        TorchConv2d(1, 2, 3)(torch.zeros(5, 5))


def test_rejects_dtype_mismatch_like_torch():
    with pytest.raises(TypeError, match=r"float64.*float32"):
        Conv2d(1, 2, 3)(np.zeros((1, 1, 5, 5)))
    with pytest.raises(RuntimeError):
        TorchConv2d(1, 2, 3)(torch.zeros(1, 1, 5, 5, dtype=torch.float64))


def test_rejects_integer_input():
    with pytest.raises(TypeError, match="int64"):
        Conv2d(1, 2, 3)(np.zeros((1, 1, 5, 5), dtype=np.int64))
    with pytest.raises(RuntimeError):
        TorchConv2d(1, 2, 3)(torch.zeros(1, 1, 5, 5, dtype=torch.int64))


def test_rejects_input_smaller_than_kernel():
    with pytest.raises(ValueError, match=r"padded input \(4 x 4\).*dilated kernel \(5 x 5\)"):
        Conv2d(1, 1, 3, dilation=2)(np.zeros((1, 1, 4, 4), dtype=np.float32))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater"):
        TorchConv2d(1, 1, 3, dilation=2)(torch.zeros(1, 1, 4, 4))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"padding": "same", "stride": 2}, "not supported for strided"),
    ({"padding": "full"}, "padding must be"),
    ({"groups": 2}, "divisible by groups"),
    ({"groups": 0}, "groups must be a positive"),
])
def test_rejects_bad_arguments_at_construction_like_torch(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Conv2d(3, 4, 3, **kwargs)
    with pytest.raises(ValueError):
        TorchConv2d(3, 4, 3, **kwargs)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"stride": 0}, "stride must be"),
    ({"padding": -1}, "padding must be"),
    ({"dilation": 0}, "dilation must be"),
    ({"kernel_size": 0}, "kernel_size must be"),
    ({"stride": (1, 1, 1)}, "stride must be"),
])
def test_rejects_bad_geometry_which_torch_refuses_in_forward(kwargs, message):
    """Scratch refuses at construction; torch builds the layer and refuses in forward."""
    args = {"kernel_size": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        Conv2d(2, 2, **args)
    with pytest.raises(RuntimeError):
        TorchConv2d(2, 2, **args)(torch.zeros(1, 2, 6, 6))


def test_refuses_other_padding_modes():
    """torch pads with reflect/replicate/circular copies; only zeros are implemented here,
    so the others are refused plainly rather than silently padded with zeros."""
    with pytest.raises(ValueError, match=r"only padding_mode='zeros'.*'reflect'"):
        Conv2d(1, 1, 3, padding=1, padding_mode="reflect")


def test_functional_rejects_mismatched_weight():
    x = np.zeros((1, 4, 5, 5))
    weight = np.zeros((2, 3, 3, 3))
    with pytest.raises(ValueError, match=r"groups · weight\.shape"):
        conv2d(x, weight)
    with pytest.raises(ValueError, match=r"groups · weight\.shape"):
        conv2d_naive(x, weight)
    with pytest.raises(RuntimeError):
        torch_conv2d(torch.zeros(1, 4, 5, 5), torch.zeros(2, 3, 3, 3))
