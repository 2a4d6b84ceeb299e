"""Conv2d's padding modes and the argument forms torch.nn.Conv2d takes: scratch/conv.py against
torch_ref/conv.py (torch.nn.Conv2d).

torch pads with F.pad(x, _reversed_padding_repeated_twice, mode) and convolves with padding 0:
'reflect' mirrors the image without repeating its edge, 'replicate' repeats the edge, 'circular'
wraps around; 'same' splits d·(k − 1) as torch does (the odd one to the bottom and right), and
a negative padding crops (F.pad accepts it; F.conv2d refuses it with 'zeros').
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from parity_tests.helpers import (
    assert_close,
    assert_numerical_grad,
    assert_parity,
    copy_weights,
    f32,
    refusal,
    refusal_tests,
    stricter,
    t32,
)
from scratch import _fast_conv, _threads
from scratch.conv import Conv2d
from torch_ref.conv import Conv2d as TorchConv2d

pytestmark = [
    pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning"),
    pytest.mark.filterwarnings("ignore:Initializing zero-element tensors:UserWarning"),
]
MODES = ["zeros", "reflect", "replicate", "circular"]

CASES = [
    # (args, kwargs, input shape)
    ((2, 3, 3), {"padding": 1}, (2, 2, 5, 6)),
    ((2, 3, (2, 3)), {"padding": (2, 1), "stride": (2, 1), "dilation": (1, 2)}, (2, 2, 5, 7)),
    ((2, 4, 4), {"padding": "same"}, (1, 2, 5, 6)),                  # odd total: 1 up, 2 down
    ((2, 4, (3, 4)), {"padding": "same", "dilation": (2, 1)}, (1, 2, 5, 6)),
    ((2, 4, 3), {"padding": "valid"}, (1, 2, 5, 6)),
    ((4, 6, 3), {"padding": 2, "groups": 2, "bias": False}, (2, 4, 3, 4)),   # padding up to H − 1
    ((2, 3, 3), {"padding": (0, 3)}, (1, 2, 5, 3)),                  # circular: padding = W
    ((2, 3, 3), {"padding": 1}, (2, 5, 6)),                          # unbatched
    ((2, 3, 3), {"padding": 1}, (0, 2, 5, 6)),                       # an empty batch
    ((3, 3, 3), {"padding": 1, "groups": 3}, (13, 3, 4, 5)),         # depthwise, 8 + 5 samples
]


def _fits(mode, kwargs, shape) -> bool:
    """Does F.pad take this padding for this input? (reflect: < size; circular: ≤ size)."""
    padding = kwargs.get("padding", 0)
    if isinstance(padding, str) or mode in ("zeros", "replicate"):
        return True
    pads = (padding, padding) if isinstance(padding, int) else padding
    limit = 0 if mode == "reflect" else 1
    return all(p < n + limit for p, n in zip(pads, shape[-2:], strict=True))


PARAMS = [pytest.param(mode, *case, id=f"{mode}-{case[1]}-{case[2]}")
          for mode in MODES for case in CASES if _fits(mode, case[1], case[2])]   # (reflect: below)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("mode", "args", "kwargs", "shape"), PARAMS)
def test_padding_modes_parity(mode, args, kwargs, shape, dtype, rng):
    torch.manual_seed(0)
    kwargs = {**kwargs, "padding_mode": mode}
    x = rng.standard_normal(shape)
    assert_parity(Conv2d(*args, **kwargs), TorchConv2d(*args, **kwargs), x, dtype=dtype)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [-1, (-1, 2), (2, -2)])
def test_negative_padding_crops_as_f_pad(mode, padding, rng):
    """padding=-1 with a padding mode: F.pad crops a row and a column on each side."""
    torch.manual_seed(0)
    x = rng.standard_normal((2, 2, 7, 6))
    assert_parity(Conv2d(2, 3, 2, padding=padding, padding_mode=mode),
                  TorchConv2d(2, 3, 2, padding=padding, padding_mode=mode), x)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(mode=st.sampled_from(["reflect", "replicate", "circular"]), k=st.integers(1, 4),
       s=st.integers(1, 3), d=st.integers(1, 2), p=st.integers(0, 3), size=st.integers(4, 8),
       seed=st.integers(0, 2**16))
def test_padding_modes_parity_property(mode, k, s, d, p, size, seed):
    """Square kernels, strides, dilations and paddings, float64, with torch's own layer."""
    torch.manual_seed(0)
    x = np.random.default_rng(seed).standard_normal((2, 2, size, size + 1))
    if size + 2 * p < d * (k - 1) + 1:
        return
    kwargs = {"stride": s, "padding": p, "dilation": d, "padding_mode": mode}
    assert_parity(Conv2d(2, 3, k, **kwargs), TorchConv2d(2, 3, k, **kwargs), x, seed=seed)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_padding_modes_numerical_gradient(mode, rng):
    """The adjoint of the padding adds each copy's gradient back onto its source pixel."""
    layer = Conv2d(2, 2, 3, padding=2, padding_mode=mode, generator=rng)
    assert_numerical_grad(layer, rng.standard_normal((1, 2, 4, 5)))


def test_padding_mode_repr_matches_torch():
    for kwargs in ({"padding": 1, "padding_mode": "reflect"},
                   {"padding": "same", "padding_mode": "circular", "bias": False}):
        assert repr(Conv2d(2, 3, 3, **kwargs)) == repr(TorchConv2d(2, 3, 3, **kwargs))


# -- argument forms torch takes, and the sizes at the edges ---------------------------------
@pytest.mark.parametrize(("args", "kwargs", "shape"), [
    ((2, 3, [3, 2]), {"stride": [2, 1], "padding": [1, 0]}, (1, 2, 6, 5)),          # lists
    ((np.int64(2), np.int64(3), np.int64(3)), {"stride": np.int32(2), "padding": np.int64(1),
                                               "groups": np.int64(1)}, (1, 2, 6, 5)),  # NumPy ints
    ((2, 3, 3), {"stride": (2,), "padding": (1,), "dilation": (2,)}, (1, 2, 7, 6)),  # 1-tuples
    ((4, 6, 3), {"groups": 2, "bias": False}, (2, 4, 5, 5)),                        # groups, no bias
])
def test_argument_forms_and_edge_sizes_parity(args, kwargs, shape, rng):
    torch.manual_seed(0)
    x = rng.standard_normal(shape)
    assert_parity(Conv2d(*args, **kwargs), TorchConv2d(*args, **kwargs), x)


REFUSED = [
    refusal("Conv2d-unknown-padding_mode", lambda: Conv2d(2, 3, 3, padding_mode="zero"),
            lambda: TorchConv2d(2, 3, 3, padding_mode="zero"),
            ValueError, "Conv2d:", "padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular'",
            "got 'zero'"),
    refusal("Conv2d-reflect-padding-as-large-as-input",
            lambda: Conv2d(2, 3, 1, padding=3, padding_mode="reflect")(f32(1, 2, 3, 5)),
            lambda: TorchConv2d(2, 3, 1, padding=3, padding_mode="reflect")(t32(1, 2, 3, 5)),
            ValueError, "reflect padding must be smaller than the input", "padding (3, 3) on H=3"),
    refusal("Conv2d-circular-padding-wraps-twice",
            lambda: Conv2d(2, 3, 1, padding=(0, 4), padding_mode="circular")(f32(1, 2, 3, 3)),
            lambda: TorchConv2d(2, 3, 1, padding=(0, 4), padding_mode="circular")(t32(1, 2, 3, 3)),
            ValueError, "circular padding must be at most the input's size", "padding (4, 4) on W=3"),
    refusal("Conv2d-reflect-no-channels",
            lambda: Conv2d(0, 3, 3, padding=1, padding_mode="reflect")(f32(1, 0, 5, 5)),
            lambda: TorchConv2d(0, 3, 3, padding=1, padding_mode="reflect")(t32(1, 0, 5, 5)),
            ValueError, "input must have at least one channel", "got shape (1, 0, 5, 5)"),
    refusal("Conv2d-empty-height",
            lambda: Conv2d(2, 3, 3, padding=2)(f32(1, 2, 0, 5)),
            lambda: TorchConv2d(2, 3, 3, padding=2)(t32(1, 2, 0, 5)),
            ValueError, "input must have non-empty H and W", "got shape (1, 2, 0, 5)"),
    refusal("Conv2d-replicate-empty-width",
            lambda: Conv2d(2, 3, 1, padding=1, padding_mode="replicate")(f32(1, 2, 4, 0)),
            lambda: TorchConv2d(2, 3, 1, padding=1, padding_mode="replicate")(t32(1, 2, 4, 0)),
            ValueError, "non-empty H and W", "(1, 2, 4, 0)"),
    refusal("Conv2d-negative-padding-leaves-too-little",
            lambda: Conv2d(2, 3, 3, padding=-2, padding_mode="replicate")(f32(1, 2, 5, 5)),
            lambda: TorchConv2d(2, 3, 3, padding=-2, padding_mode="replicate")(t32(1, 2, 5, 5)),
            ValueError, "padded input (1 x 1)", "dilated kernel (3 x 3)"),
    refusal("Conv2d-one-tuple-padding-with-reflect-batched",
            lambda: Conv2d(2, 3, 3, padding=(1,), padding_mode="reflect"),
            lambda: TorchConv2d(2, 3, 3, padding=(1,), padding_mode="reflect")(t32(1, 2, 5, 5)),
            ValueError, "padding_mode='reflect'", "padding must be an int or a pair", "got (1,)"),
    refusal("Conv2d-one-tuple-kernel",
            lambda: Conv2d(2, 3, (3,)), lambda: TorchConv2d(2, 3, (3,))(t32(1, 2, 5, 5)),
            ValueError, "Conv2d:", "kernel_size must be an int or a pair of ints ≥ 1", "got (3,)"),
    refusal("Conv2d-no-filters", lambda: Conv2d(2, 0, 3), lambda: TorchConv2d(2, 0, 3)(t32(1, 2, 5, 5)),
            ValueError, "Conv2d:", "out_channels must be a positive int", "got 0"),
    refusal("Conv2d-empty-stride", lambda: Conv2d(2, 3, 3, stride=()),
            lambda: TorchConv2d(2, 3, 3, stride=())(t32(1, 2, 5, 5)),
            ValueError, "Conv2d:", "stride must be an int or a pair of ints ≥ 1", "got ()"),
    refusal("Conv2d-float-kernel", lambda: Conv2d(2, 3, 3.0), lambda: TorchConv2d(2, 3, 3.0),
            ValueError, "Conv2d:", "kernel_size", "got 3.0"),
    # torch pads W alone for an unbatched input, and refuses a batch (above): refused whole
    stricter("Conv2d-one-tuple-padding-with-reflect-unbatched",
             lambda: Conv2d(2, 3, 3, padding=(1,), padding_mode="reflect"),
             lambda: TorchConv2d(2, 3, 3, padding=(1,), padding_mode="reflect")(t32(2, 5, 5)),
             ValueError, "padding_mode='reflect'", "got (1,)"),
    # torch returns an empty (N, 0, H_out, W_out) for no input channels, not the C_out bias maps
    stricter("Conv2d-no-input-channels", lambda: Conv2d(0, 3, 3)(f32(2, 0, 5, 5)),
             lambda: TorchConv2d(0, 3, 3)(t32(2, 0, 5, 5)),
             ValueError, "input must have at least one channel", "got shape (2, 0, 5, 5)"),
    stricter("Conv2d-circular-no-input-channels",
             lambda: Conv2d(0, 3, 3, padding=1, padding_mode="circular")(f32(1, 0, 4, 4)),
             lambda: TorchConv2d(0, 3, 3, padding=1, padding_mode="circular")(t32(1, 0, 4, 4)),
             ValueError, "at least one channel", "(1, 0, 4, 4)"),
    # torch takes True as a 1 × 1 kernel (a bool is an int to it); scratch counts with ints only
    stricter("Conv2d-bool-kernel", lambda: Conv2d(2, 3, True),
             lambda: TorchConv2d(2, 3, True)(t32(1, 2, 5, 5)),
             ValueError, "Conv2d:", "kernel_size", "got True"),
    # torch convolves float16 on the CPU; scratch's parameters are float32 or float64
    stricter("Conv2d-float16-dtype", lambda: Conv2d(2, 3, 3, dtype=np.float16),
             lambda: TorchConv2d(2, 3, 3, dtype=torch.float16)(torch.zeros(1, 2, 5, 5, dtype=torch.float16)),
             TypeError, "Conv2d", "dtype must be float32 or float64", "got float16"),
]
test_scratch_refuses, test_torch_agrees = refusal_tests(REFUSED)


# Conv2d computes through one of three layouts (scratch/_fast_conv.py), chosen by the size of the
# output image and the vertical stride. Each padding mode and argument form goes through each
# layout that can take it (rows needs a vertical stride and dilation of 1), the layout forced. The per-image
# layout cuts the batch into a share per thread: it runs once more on three threads, 26 images
# in shares of 8, 9 and 9 (small images: float32 sums of a few hundred terms).
LAYOUT_CASES = [
    ({"padding": 2, "groups": 2}, True),
    ({"padding": (1, 3), "stride": (1, 2), "dilation": (1, 2)}, True),
    ({"padding": (1, 3), "stride": (1, 2), "dilation": (2, 1)}, True),
    ({"padding": (1, 3), "stride": 2, "dilation": (2, 1)}, True),
    ({"padding": "same", "dilation": 2}, False),
    ({"padding": "same", "dilation": (1, 2)}, False),
    ({"padding": (1, 2), "stride": (1, 2), "groups": 2}, False),
]
LAYOUTS = {"per image": (34, 33), "rows": (9, 11), "batch last": (9, 11),
           "per image on 3 threads": (5, 6)}
# In float32, the per-image ∂W of 3 images of 34 × 33 sums 3,366 terms, whose rounding crossed
# rtol 1e-4 by 1.37× on one AMD EPYC's OpenBLAS and stayed within it on others: float32 takes
# 14 × 14 images there (16 × 16 out at padding 2, PER_IMAGE's 256), within 0.55× of it.
FLOAT32_SIZES = {"per image": (14, 14)}


@pytest.mark.parametrize(("layout", "kwargs", "bias"), [
    pytest.param(layout, kwargs, bias, id=f"{layout.replace(' ', '-')}-{number}")
    for layout in LAYOUTS for number, (kwargs, bias) in enumerate(LAYOUT_CASES)
    if layout != "rows" or all(np.broadcast_to(kwargs.get(name, 1), 2)[0] == 1
                               for name in ("stride", "dilation"))])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_each_layout_with_each_mode(layout, kwargs, bias, mode, dtype, monkeypatch):
    used = layout.removesuffix(" on 3 threads")
    monkeypatch.setattr(_fast_conv, "_layout", lambda x_shape, window: used)
    monkeypatch.setattr(_threads, "THREADS", 3 if used != layout else 1)
    torch.manual_seed(0)
    args, N = (4, 6, 3), 26 if used != layout else 3
    size = FLOAT32_SIZES.get(layout, LAYOUTS[layout]) if dtype == np.float32 else LAYOUTS[layout]
    x = np.random.default_rng(1).standard_normal((N, 4, *size))
    scratch = Conv2d(*args, padding_mode=mode, bias=bias, **kwargs)
    assert_parity(scratch, TorchConv2d(*args, padding_mode=mode, bias=bias, **kwargs), x,
                  dtype=dtype)
    scratch.forward(x.astype(scratch.weight.data.dtype))
    assert _fast_conv.kept_layout(scratch.cache[1]) == used   # the one forced was the one used


@pytest.mark.parametrize("layout", ["per image", "rows", "batch last"])
def test_each_layout_on_an_empty_batch_and_from_shape_to_shape(layout, monkeypatch):
    """One layer, called on batch after batch of other shapes, writes its columns over the last
    call's where they fit (and assert_parity works on copies): each call must match torch."""
    monkeypatch.setattr(_fast_conv, "_layout", lambda x_shape, window: layout)
    torch.manual_seed(0)
    kwargs = {"padding": (1, 2), "stride": (1, 2), "groups": 2}
    theirs = TorchConv2d(4, 6, 3, **kwargs, dtype=torch.float64)
    scratch = Conv2d(4, 6, 3, **kwargs, dtype=np.float64)
    copy_weights(theirs, scratch)
    rng = np.random.default_rng(2)
    for shape in [(3, 4, 9, 11), (3, 4, 9, 11), (0, 4, 9, 11), (2, 4, 7, 6), (3, 4, 9, 11), (5, 4, 9, 11)]:
        x = torch.from_numpy(rng.standard_normal(shape)).requires_grad_(True)
        theirs.zero_grad()
        out = theirs(x)
        grad = torch.from_numpy(rng.standard_normal(tuple(out.shape)))
        out.backward(grad)
        scratch.zero_grad()
        assert_close(scratch(x.detach().numpy()), out, f"output for {shape}")
        assert_close(scratch.backward(grad.numpy()), x.grad, f"input gradient for {shape}")
        assert_close(scratch.weight.grad, theirs.weight.grad, f"weight gradient for {shape}")
        assert_close(scratch.bias.grad, theirs.bias.grad, f"bias gradient for {shape}")


@pytest.mark.parametrize(("x_shape", "kernel_size", "kwargs", "layout"), [
    ((2, 1, 28, 28), 5, {}, "per image"),                  # the MNIST CNN's conv1: 24 × 24 out
    ((2, 16, 12, 12), 5, {}, "rows"),                      # its conv2: 8 × 8 out
    ((2, 16, 12, 12), 5, {"stride": (1, 2)}, "rows"),
    ((2, 16, 12, 12), 5, {"stride": (2, 1)}, "batch last"),
    ((2, 16, 12, 12), 3, {"dilation": (1, 2)}, "rows"),
    ((2, 16, 12, 12), 3, {"dilation": (2, 1)}, "batch last"),
    ((2, 4, 16, 16), 1, {}, "per image"),                  # 16 × 16 = 256 output pixels
    ((2, 4, 16, 16), 2, {}, "rows"),                       # 15 × 15 = 225
])
def test_layout_follows_output_size_vertical_stride_and_dilation(x_shape, kernel_size, kwargs, layout):
    window = Conv2d(x_shape[1], 3, kernel_size, **kwargs)._window
    assert _fast_conv._layout(x_shape, window) == layout
