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

from parity_tests.helpers import (
    DTYPES,
    NONFINITE_IMAGE,
    assert_numerical_grad,
    assert_parity,
    f32,
    f64,
    refusal,
    refusal_tests,
    t32,
)
from scratch.conv import (
    Conv2d,
)
from torch_ref.conv import Conv2d as TorchConv2d

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


# -- central differences: the third witness ------------------------------------------------


@pytest.mark.parametrize(("args", "shape"), [
    ((2, 3, 3), (2, 2, 5, 4)),
    ((4, 2, (2, 3), 2, 1, (2, 1), 2, False), (1, 4, 6, 7)),
    ((2, 2, 2, 1, "same"), (1, 2, 3, 5)),
])
def test_conv2d_numerical_gradient(args, shape, rng):
    assert_numerical_grad(Conv2d(*args, generator=rng), rng.standard_normal(shape))


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


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv2d_nan_and_inf_propagate_as_torch(dtype):
    torch.manual_seed(0)
    assert_parity(Conv2d(1, 2, 2), TorchConv2d(1, 2, 2), NONFINITE_IMAGE, dtype=dtype)


# -- the sweep of bad inputs (from test_reliability.py) ------------------------------------
CONV = "Conv2d(3, 4, kernel_size=(3, 3), stride=(1, 1))"
REFUSED = [
    refusal("Conv2d-2d-input", lambda: Conv2d(3, 4, 3)(f32(5, 5)), lambda: TorchConv2d(3, 4, 3)(t32(5, 5)),
            ValueError, CONV, "input must be 3-D or 4-D (N, C_in, H, W) or (C_in, H, W)",
            "got 2-D with shape (5, 5)"),
    refusal("Conv2d-5d-input", lambda: Conv2d(3, 4, 3)(f32(1, 1, 3, 5, 5)),
            lambda: TorchConv2d(3, 4, 3)(t32(1, 1, 3, 5, 5)),
            ValueError, CONV, "input must be 3-D or 4-D", "got 5-D"),
    refusal("Conv2d-wrong-channels", lambda: Conv2d(3, 4, 3)(f32(1, 2, 5, 5)),
            lambda: TorchConv2d(3, 4, 3)(t32(1, 2, 5, 5)),
            ValueError, CONV, "in_channels=3 channels (dimension -3)", "got shape (1, 2, 5, 5)"),
    refusal("Conv2d-int-input", lambda: Conv2d(3, 4, 3)(np.zeros((1, 3, 5, 5), np.int64)),
            lambda: TorchConv2d(3, 4, 3)(torch.zeros(1, 3, 5, 5, dtype=torch.long)),
            TypeError, CONV, "input must be float32 or float64", "got dtype int64"),
    refusal("Conv2d-float64-input-float32-layer", lambda: Conv2d(3, 4, 3)(f64(1, 3, 5, 5)),
            lambda: TorchConv2d(3, 4, 3)(torch.zeros(1, 3, 5, 5, dtype=torch.float64)),
            TypeError, CONV, "input has dtype float64", "parameters are float32"),
    refusal("Conv2d-input-smaller-than-kernel", lambda: Conv2d(3, 4, 3)(f32(1, 3, 2, 2)),
            lambda: TorchConv2d(3, 4, 3)(t32(1, 3, 2, 2)),
            ValueError, CONV, "the padded input (2 x 2) is smaller than the dilated kernel (3 x 3)"),
    refusal("Conv2d-kernel-0", lambda: Conv2d(3, 4, 0), lambda: TorchConv2d(3, 4, 0)(t32(1, 3, 5, 5)),
            ValueError, "Conv2d:", "kernel_size must be an int or a pair of ints ≥ 1", "got 0"),
    refusal("Conv2d-stride-0", lambda: Conv2d(3, 4, 3, stride=0),
            lambda: TorchConv2d(3, 4, 3, stride=0)(t32(1, 3, 5, 5)),
            ValueError, "Conv2d:", "stride must be an int or a pair of ints ≥ 1", "got 0"),
    refusal("Conv2d-negative-padding", lambda: Conv2d(3, 4, 3, padding=-1),
            lambda: TorchConv2d(3, 4, 3, padding=-1)(t32(1, 3, 5, 5)),
            ValueError, "Conv2d:", "padding must be an int or a pair of ints ≥ 0", "got -1"),
    refusal("Conv2d-dilation-0", lambda: Conv2d(3, 4, 3, dilation=0),
            lambda: TorchConv2d(3, 4, 3, dilation=0)(t32(1, 3, 5, 5)),
            ValueError, "Conv2d:", "dilation must be an int or a pair of ints ≥ 1", "got 0"),
    refusal("Conv2d-groups-not-dividing", lambda: Conv2d(3, 4, 3, groups=2),
            lambda: TorchConv2d(3, 4, 3, groups=2),
            ValueError, "Conv2d:", "in_channels=3 and out_channels=4", "divisible by groups=2"),
    refusal("Conv2d-negative-in_channels", lambda: Conv2d(-1, 4, 3), lambda: TorchConv2d(-1, 4, 3),
            ValueError, "Conv2d:", "in_channels must be a non-negative int", "got -1"),
    refusal("Conv2d-same-padding-strided", lambda: Conv2d(3, 4, 3, stride=2, padding="same"),
            lambda: TorchConv2d(3, 4, 3, stride=2, padding="same"),
            ValueError, "Conv2d:", "padding='same' is not supported for strided convolutions"),
    refusal("Conv2d-unknown-padding-string", lambda: Conv2d(3, 4, 3, padding="full"),
            lambda: TorchConv2d(3, 4, 3, padding="full"),
            ValueError, "Conv2d:", "padding must be an int, a pair of ints, 'valid' or 'same'", "got 'full'"),
    refusal("Conv2d-int-dtype", lambda: Conv2d(3, 4, 3, dtype=np.int32),
            lambda: TorchConv2d(3, 4, 3, dtype=torch.int32),
            TypeError, "Conv2d", "dtype must be float32 or float64", "got int32"),
]
test_scratch_refuses, test_torch_agrees = refusal_tests(REFUSED)


def test_conv2d_backward_before_forward_names_the_layer():
    with pytest.raises(RuntimeError, match=r"Conv2d\(2, 3, kernel_size=\(3, 3\).*before forward"):
        Conv2d(2, 3, 3).backward(np.zeros((1, 3, 3, 3), dtype=np.float32))
