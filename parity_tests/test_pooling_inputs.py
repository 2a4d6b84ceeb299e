"""The inputs and arguments the pools take, scratch/pooling.py against torch_ref/pooling.py:
float16 (which torch pools on the CPU), the argument forms torch.nn accepts, empty batches,
non-finite values, and every refusal."""

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from parity_tests.helpers import (
    DTYPES,
    NONFINITE_IMAGE,
    assert_close,
    assert_parity,
    f32,
    refusal,
    refusal_tests,
    stricter,
    t32,
)
from parity_tests.test_pooling import (
    _assert_max_pool_parity,
    _some_window_misses_input,
    _values,
    pool_configs,
)
from scratch.pooling import AvgPool2d, MaxPool2d
from torch_ref.pooling import AvgPool2d as TorchAvgPool2d
from torch_ref.pooling import MaxPool2d as TorchMaxPool2d

F16 = np.float16
HALF = settings(derandomize=True, deadline=None, max_examples=40)


# -- float16: forward in float32 rounded once, backward in float16 in torch's order --------
@HALF
@given(case=pool_configs(dilated=True), ties=st.booleans(), seed=st.integers(0, 2**16))
def test_max_pool_float16_parity_property(case, ties, seed):
    """The maxima are exact; the gradients of overlapping windows add up in float16, window
    after window in row-major order, rounding at every add, as torch's CPU kernel."""
    config, shape = case
    assume(not _some_window_misses_input(config, shape))
    x = 3 * _values(ties, shape, np.random.default_rng(seed))
    out = _assert_max_pool_parity(config, x, F16)
    assert out.dtype == F16


@HALF
@given(case=pool_configs(dilated=False), count_include_pad=st.booleans(),
       divisor_override=st.sampled_from([None, None, 3, -2]), seed=st.integers(0, 2**16))
def test_avg_pool_float16_parity_property(case, count_include_pad, divisor_override, seed):
    """Sums in float32 divided and rounded once (torch's accumulate type); the gradient
    ∂out / divisor in float16, added window by window in torch's order."""
    config, shape = case
    del config["dilation"]
    config.update(count_include_pad=count_include_pad, divisor_override=divisor_override)
    x = 3 * np.random.default_rng(seed).standard_normal(shape)
    out = assert_parity(AvgPool2d(**config), TorchAvgPool2d(**config), x, dtype=F16)["out"]
    assert out.dtype == F16


@pytest.mark.parametrize(("scratch", "reference"), [
    (lambda: AvgPool2d(3, 1, 1), lambda: TorchAvgPool2d(3, 1, 1)),
    (lambda: MaxPool2d(3, 1, 1), lambda: TorchMaxPool2d(3, 1, 1)),
], ids=["AvgPool2d", "MaxPool2d"])
def test_pools_float16_overlapping_windows_bit_for_bit(scratch, reference, rng):
    """Kernel 3, stride 1: each element sits in nine windows, so its gradient is nine float16
    additions. Summed in float32 and rounded once, about half the elements (average) or one in
    twenty (max) would differ from torch; added in torch's order, none does."""
    x = (3 * rng.standard_normal((2, 3, 9, 11))).astype(F16)
    g = rng.standard_normal((2, 3, 9, 11)).astype(F16)
    layer, twin = scratch(), reference()
    t = torch.from_numpy(x).requires_grad_(True)
    twin(t).backward(torch.from_numpy(g))
    layer(x)
    np.testing.assert_array_equal(layer.backward(g), t.grad.numpy())


def test_avg_pool_float16_sums_do_not_overflow():
    """Four values of 6e4 sum to 2.4e5, beyond float16's 65504: summed in float32, as torch
    does, the mean is 6e4; summed in float16 it would be inf."""
    x = np.full((1, 1, 4, 4), 6e4)
    out = assert_parity(AvgPool2d(2), TorchAvgPool2d(2), x, dtype=F16)["out"]
    assert np.isfinite(out).all()


@pytest.mark.parametrize(("scratch", "reference"), [
    (lambda: MaxPool2d(2, ceil_mode=True), lambda: TorchMaxPool2d(2, ceil_mode=True)),
    (lambda: AvgPool2d(3, 2, 1), lambda: TorchAvgPool2d(3, 2, 1)),
], ids=["MaxPool2d", "AvgPool2d"])
def test_pools_float16_unbatched_and_nonfinite(scratch, reference, rng):
    assert_parity(scratch(), reference(), rng.standard_normal((3, 5, 5)), dtype=F16)
    assert_parity(scratch(), reference(), NONFINITE_IMAGE, dtype=F16)


# -- non-finite values (from test_reliability.py) -----------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("scratch", "reference"), [(MaxPool2d, TorchMaxPool2d), (AvgPool2d, TorchAvgPool2d)],
                         ids=["MaxPool2d", "AvgPool2d"])
def test_pools_nan_and_inf_propagate_as_torch(scratch, reference, dtype):
    assert_parity(scratch(2), reference(2), NONFINITE_IMAGE, dtype=dtype)


# -- the argument forms torch.nn takes ------------------------------------------------------
FORMS = [
    {"kernel_size": 2, "stride": ()},                       # () is "omitted": stride = kernel_size
    {"kernel_size": (3, 2), "stride": []},
    {"kernel_size": (2,), "stride": (1,), "padding": (1,)},  # one-element tuples: both dimensions
    {"kernel_size": [3, 2], "stride": [2, 1], "padding": [1, 0]},
    {"kernel_size": np.int64(3), "stride": np.int32(2), "padding": np.int64(1)},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
]


@pytest.mark.parametrize("config", FORMS, ids=[str(c) for c in FORMS])
def test_argument_forms_parity(config, rng):
    x = rng.standard_normal((2, 3, 7, 6))
    _assert_max_pool_parity({**config, "dilation": (1,)}, x)
    assert_parity(AvgPool2d(**config), TorchAvgPool2d(**config), x)


def test_repr_of_the_argument_forms_matches_torch():
    kwargs = {"kernel_size": (2,), "stride": (), "padding": (1,)}
    assert repr(MaxPool2d(**kwargs)) == repr(TorchMaxPool2d(**kwargs))


@pytest.mark.parametrize("config", [
    {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True},
    {"kernel_size": (2, 3), "stride": (3, 1), "padding": (1, 1), "dilation": (1, 2), "ceil_mode": True},
    {"kernel_size": 2, "stride": 1, "dilation": 3},
])
def test_max_pool_return_indices_with_ceil_mode_and_dilation(config, rng):
    """The indices point into the unpadded H·W, for windows that ceil mode adds too."""
    for shape in [(2, 2, 7, 8), (2, 7, 8)]:
        _assert_max_pool_parity(config, _values(True, shape, rng))


def test_avg_pool_negative_divisor_override(rng):
    """torch divides by any non-zero int, a negative one included (and a NumPy int)."""
    x = rng.standard_normal((2, 3, 5, 6))
    for divisor in (-1, -4, np.int64(3)):
        config = {"kernel_size": 3, "stride": 1, "padding": 1, "divisor_override": divisor}
        assert_parity(AvgPool2d(**config), TorchAvgPool2d(**config), x)
    assert_close(AvgPool2d(2, divisor_override=-1)(np.ones((1, 1, 2, 2))), -4 * np.ones((1, 1, 1, 1)),
                 "sum / −1")


@pytest.mark.parametrize("dtype", [np.float64, F16])
def test_pools_of_an_empty_batch(dtype):
    """N = 0: torch pools nothing and says nothing; so do the scratch pools."""
    x = np.zeros((0, 2, 5, 5))
    assert assert_parity(AvgPool2d(2), TorchAvgPool2d(2), x, dtype=dtype)["out"].shape == (0, 2, 2, 2)
    _assert_max_pool_parity({"kernel_size": 2, "padding": 1}, x, dtype)


def test_pools_to_any_float_dtype():
    layer = MaxPool2d(2)
    assert layer.to(np.float16) is layer
    with pytest.raises(TypeError, match=r"AvgPool2d\.to: dtype must be float16, float32 .*got int32"):
        AvgPool2d(2).to(np.int32)
    with pytest.raises(TypeError):
        TorchMaxPool2d(2).to(torch.int32)


# -- refusals ------------------------------------------------------------------------------
@pytest.mark.parametrize(("layer", "kwargs", "match"), [
    ("max", {"kernel_size": 2, "padding": 2}, "padding must be at most half of kernel_size"),
    ("max", {"kernel_size": 3, "padding": 2, "dilation": 2}, "padding must be at most half"),
    ("avg", {"kernel_size": 3, "padding": 2}, "padding must be at most half of kernel_size"),
    ("max", {"kernel_size": 2, "stride": 0}, "stride must be an int or a pair of ints ≥ 1"),
    ("avg", {"kernel_size": 0, "stride": 1}, "kernel_size must be an int or a pair of ints ≥ 1"),
    ("max", {"kernel_size": 2, "padding": -1}, "padding must be an int or a pair of ints ≥ 0"),
    ("max", {"kernel_size": 2, "dilation": 0}, "dilation must be an int or a pair of ints ≥ 1"),
    ("avg", {"kernel_size": 2, "divisor_override": 0}, "divisor_override must be None or a non-zero"),
])
def test_pool_refuses_bad_arguments_like_torch(layer, kwargs, match):
    scratch_cls, torch_cls = {"max": (MaxPool2d, TorchMaxPool2d),
                              "avg": (AvgPool2d, TorchAvgPool2d)}[layer]
    with pytest.raises(ValueError, match=match):
        scratch_cls(**kwargs)
    with pytest.raises(RuntimeError):                  # torch checks when called
        torch_cls(**kwargs)(torch.zeros(1, 1, 6, 6))


@pytest.mark.parametrize("layer", ["max", "avg"])
def test_pool_refuses_bad_inputs_like_torch(layer):
    scratch_cls, torch_cls = {"max": (MaxPool2d, TorchMaxPool2d),
                              "avg": (AvgPool2d, TorchAvgPool2d)}[layer]
    with pytest.raises(ValueError, match=r"too small, the output would be \(0, 0\)"):
        scratch_cls(6)(np.zeros((1, 1, 5, 5)))
    with pytest.raises(RuntimeError, match="too small"):
        torch_cls(6)(torch.zeros(1, 1, 5, 5))
    with pytest.raises(ValueError, match=r"must be 3-D or 4-D .*got 2-D"):
        scratch_cls(2)(np.zeros((4, 4)))
    with pytest.raises((RuntimeError, IndexError)):    # AvgPool2d: IndexError, MaxPool2d: "3D or 4D"
        torch_cls(2)(torch.zeros(4, 4))
    with pytest.raises(ValueError, match="non-empty C, H and W"):
        scratch_cls(2)(np.zeros((1, 1, 0, 4)))
    with pytest.raises(RuntimeError):
        torch_cls(2)(torch.zeros(1, 1, 0, 4))
    with pytest.raises(TypeError, match="int64"):      # torch pools integers; scratch computes in float
        scratch_cls(2)(np.zeros((1, 1, 4, 4), dtype=np.int64))


MAXPOOL = "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
AVGPOOL = "AvgPool2d(kernel_size=2, stride=2, padding=0, ceil_mode=False, count_include_pad=True)"
REFUSED = [
    # from test_reliability.py
    refusal("MaxPool2d-2d-input", lambda: MaxPool2d(2)(f32(4, 4)), lambda: TorchMaxPool2d(2)(t32(4, 4)),
            ValueError, MAXPOOL, "input must be 3-D or 4-D (N, C, H, W) or (C, H, W)",
            "got 2-D with shape (4, 4)"),
    refusal("MaxPool2d-5d-input", lambda: MaxPool2d(2)(f32(1, 1, 1, 4, 4)),
            lambda: TorchMaxPool2d(2)(t32(1, 1, 1, 4, 4)), ValueError, MAXPOOL, "3-D or 4-D", "got 5-D"),
    refusal("MaxPool2d-empty-channels", lambda: MaxPool2d(2)(f32(1, 0, 4, 4)),
            lambda: TorchMaxPool2d(2)(t32(1, 0, 4, 4)),
            ValueError, MAXPOOL, "input must have non-empty C, H and W", "got shape (1, 0, 4, 4)"),
    refusal("MaxPool2d-input-too-small", lambda: MaxPool2d(3)(f32(1, 1, 2, 2)),
            lambda: TorchMaxPool2d(3)(t32(1, 1, 2, 2)),
            ValueError, "MaxPool2d(kernel_size=3", "input of spatial size (2, 2) is too small"),
    refusal("MaxPool2d-kernel-0", lambda: MaxPool2d(0), lambda: TorchMaxPool2d(0)(t32(1, 1, 4, 4)),
            ValueError, "MaxPool2d:", "kernel_size must be an int or a pair of ints ≥ 1", "got 0"),
    refusal("MaxPool2d-stride-0", lambda: MaxPool2d(2, stride=0),
            lambda: TorchMaxPool2d(2, stride=0)(t32(1, 1, 4, 4)),
            ValueError, "MaxPool2d:", "stride must be an int or a pair of ints ≥ 1", "got 0"),
    refusal("MaxPool2d-negative-padding", lambda: MaxPool2d(2, padding=-1),
            lambda: TorchMaxPool2d(2, padding=-1)(t32(1, 1, 4, 4)),
            ValueError, "MaxPool2d:", "padding must be an int or a pair of ints ≥ 0", "got -1"),
    refusal("MaxPool2d-padding-over-half-kernel", lambda: MaxPool2d(2, padding=2),
            lambda: TorchMaxPool2d(2, padding=2)(t32(1, 1, 4, 4)),
            ValueError, "MaxPool2d:", "padding must be at most half of kernel_size",
            "padding=2 with kernel_size=2"),
    refusal("MaxPool2d-dilation-0", lambda: MaxPool2d(2, dilation=0),
            lambda: TorchMaxPool2d(2, dilation=0)(t32(1, 1, 4, 4)),
            ValueError, "MaxPool2d:", "dilation must be an int or a pair of ints ≥ 1", "got 0"),
    refusal("AvgPool2d-2d-input", lambda: AvgPool2d(2)(f32(4, 4)), lambda: TorchAvgPool2d(2)(t32(4, 4)),
            ValueError, AVGPOOL, "input must be 3-D or 4-D", "got 2-D with shape (4, 4)"),
    refusal("AvgPool2d-input-too-small", lambda: AvgPool2d(3)(f32(1, 1, 2, 2)),
            lambda: TorchAvgPool2d(3)(t32(1, 1, 2, 2)),
            ValueError, "AvgPool2d(kernel_size=3", "input of spatial size (2, 2) is too small"),
    refusal("AvgPool2d-kernel-0", lambda: AvgPool2d(0), lambda: TorchAvgPool2d(0)(t32(1, 1, 4, 4)),
            ValueError, "AvgPool2d:", "kernel_size must be an int or a pair of ints ≥ 1", "got 0"),
    refusal("AvgPool2d-divisor_override-0", lambda: AvgPool2d(2, divisor_override=0),
            lambda: TorchAvgPool2d(2, divisor_override=0)(t32(1, 1, 4, 4)),
            ValueError, "AvgPool2d:", "divisor_override must be None or a non-zero int", "got 0"),
    # the forms torch refuses
    refusal("MaxPool2d-int-ceil_mode", lambda: MaxPool2d(2, ceil_mode=1),
            lambda: TorchMaxPool2d(2, ceil_mode=1)(t32(1, 1, 4, 4)),
            TypeError, "MaxPool2d:", "ceil_mode must be a bool", "got 1"),
    refusal("AvgPool2d-numpy-bool-ceil_mode", lambda: AvgPool2d(2, ceil_mode=np.True_),
            lambda: TorchAvgPool2d(2, ceil_mode=np.True_)(t32(1, 1, 4, 4)),
            TypeError, "AvgPool2d:", "ceil_mode must be a bool"),
    refusal("AvgPool2d-int-count_include_pad", lambda: AvgPool2d(2, count_include_pad=0),
            lambda: TorchAvgPool2d(2, count_include_pad=0)(t32(1, 1, 4, 4)),
            TypeError, "AvgPool2d:", "count_include_pad must be a bool", "got 0"),
    refusal("AvgPool2d-bool-divisor_override", lambda: AvgPool2d(2, divisor_override=True),
            lambda: TorchAvgPool2d(2, divisor_override=True)(t32(1, 1, 4, 4)),
            ValueError, "AvgPool2d:", "divisor_override must be None or a non-zero int", "got True"),
    refusal("AvgPool2d-float-divisor_override", lambda: AvgPool2d(2, divisor_override=2.0),
            lambda: TorchAvgPool2d(2, divisor_override=2.0)(t32(1, 1, 4, 4)),
            ValueError, "AvgPool2d:", "divisor_override", "got 2.0"),
    refusal("MaxPool2d-bool-kernel", lambda: MaxPool2d(True), lambda: TorchMaxPool2d(True)(t32(1, 1, 4, 4)),
            ValueError, "MaxPool2d:", "kernel_size must be an int or a pair", "got True"),
    refusal("MaxPool2d-empty-kernel", lambda: MaxPool2d(()), lambda: TorchMaxPool2d(())(t32(1, 1, 4, 4)),
            ValueError, "MaxPool2d:", "kernel_size", "got ()"),
    refusal("AvgPool2d-empty-padding", lambda: AvgPool2d(2, padding=()),
            lambda: TorchAvgPool2d(2, padding=())(t32(1, 1, 4, 4)),
            ValueError, "AvgPool2d:", "padding must be an int or a pair", "got ()"),
    refusal("MaxPool2d-empty-dilation", lambda: MaxPool2d(2, dilation=()),
            lambda: TorchMaxPool2d(2, dilation=())(t32(1, 1, 4, 4)),
            ValueError, "MaxPool2d:", "dilation must be an int or a pair", "got ()"),
    refusal("AvgPool2d-three-strides", lambda: AvgPool2d(2, stride=(1, 1, 1)),
            lambda: TorchAvgPool2d(2, stride=(1, 1, 1))(t32(1, 1, 4, 4)),
            ValueError, "AvgPool2d:", "stride must be an int or a pair", "got (1, 1, 1)"),
    refusal("AvgPool2d-unbatched-no-channels", lambda: AvgPool2d(2)(f32(0, 4, 4)),
            lambda: TorchAvgPool2d(2)(t32(0, 4, 4)),
            ValueError, "AvgPool2d(", "non-empty C, H and W", "(0, 4, 4)"),
    # torch pools integers; scratch computes in floating point (float16 included)
    stricter("MaxPool2d-int-input", lambda: MaxPool2d(2)(np.zeros((1, 1, 4, 4), np.int64)),
             lambda: TorchMaxPool2d(2)(torch.zeros(1, 1, 4, 4, dtype=torch.long)),
             TypeError, MAXPOOL, "input must be float16, float32 or float64", "got dtype int64"),
    stricter("AvgPool2d-int-input", lambda: AvgPool2d(2)(np.zeros((1, 1, 4, 4), np.int64)),
             lambda: TorchAvgPool2d(2)(torch.zeros(1, 1, 4, 4, dtype=torch.long)),
             TypeError, AVGPOOL, "input must be float16, float32 or float64", "got dtype int64"),
]
test_scratch_refuses, test_torch_agrees = refusal_tests(REFUSED)


@pytest.mark.parametrize("layer", [MaxPool2d(2), AvgPool2d(2)], ids=["MaxPool2d", "AvgPool2d"])
def test_pool_backward_before_forward_names_the_layer(layer):
    with pytest.raises(RuntimeError, match=rf"{type(layer).__name__}\(kernel_size=2.*before forward"):
        layer.backward(np.zeros((1, 1, 2, 2), dtype=np.float32))
