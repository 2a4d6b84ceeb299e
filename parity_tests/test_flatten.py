"""Flatten: scratch/flatten.py against torch_ref/flatten.py (torch.nn.Flatten)."""

import numpy as np
import pytest
import torch
from torch import nn

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
from scratch.flatten import Flatten
from torch_ref.flatten import Flatten as TorchFlatten


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("shape", "start_dim", "end_dim", "expected"), [
    ((2, 3, 4, 5), 1, -1, (2, 60)),          # the default: one vector per sample
    ((1, 1, 2, 2), 1, -1, (1, 4)),           # batch of 1 keeps its batch axis
    ((2, 3, 4, 5), 0, -1, (120,)),           # the tutorials' reshape(-1)
    ((2, 3, 4, 5), 2, 3, (2, 3, 20)),
    ((2, 3, 4, 5), 1, 1, (2, 3, 4, 5)),      # one dimension: nothing to merge
    ((2, 3, 4, 5), -3, -2, (2, 12, 5)),
    ((7, 3), 1, -1, (7, 3)),
    ((0, 3, 2), 1, -1, (0, 6)),              # an empty batch, as torch allows
    ((), 0, -1, (1,)),                       # torch treats a 0-D tensor as having one dim
    ((), 0, 0, (1,)),
    ((), -1, -1, (1,)),
    ((0, 3), 1, -1, (0, 3)),                 # zero-size dimensions, as torch
    ((0, 3), 0, -1, (0,)),
    ((2, 0, 3), 0, -1, (0,)),
    ((3, 0), 1, -1, (3, 0)),
    ((5,), 0, -1, (5,)),
])
def test_flatten_parity(shape, start_dim, end_dim, expected, dtype, rng):
    x = rng.standard_normal(shape)
    out = assert_parity(Flatten(start_dim, end_dim), TorchFlatten(start_dim, end_dim), x,
                        dtype=dtype)["out"]
    assert out.shape == expected


def test_flatten_keeps_the_batch_where_the_tutorials_do_not(rng):
    """Tutorials 001/004 flatten with reshape(-1): a batch of 2 maps becomes one vector."""
    x = rng.standard_normal((2, 1, 3, 3))
    assert x.reshape(-1).shape == (18,)
    out = Flatten()(x)
    assert out.shape == (2, 9)
    assert_close(out[1], x[1].reshape(-1), "second sample's vector")     # samples stay apart
    assert_close(Flatten(0)(x), x.reshape(-1), "Flatten(0) is the tutorials' flatten")


def test_flatten_backward_restores_shape(rng):
    layer = Flatten()
    x = rng.standard_normal((2, 3, 4))
    layer(x)
    g = rng.standard_normal((2, 12))
    grad_x = layer.backward(g)
    assert grad_x.shape == (2, 3, 4)
    assert_close(grad_x[1, 2], g[1, 8:12], "∂L/∂x is ∂L/∂out, reshaped")


def test_flatten_refuses_what_torch_refuses():
    with pytest.raises(ValueError, match=r"start_dim must not come after end_dim"):
        Flatten(2, 1)(np.zeros((2, 3, 4)))
    with pytest.raises(RuntimeError, match="start_dim cannot come after end_dim"):
        TorchFlatten(2, 1)(torch.zeros(2, 3, 4))
    with pytest.raises(ValueError, match=r"start_dim=1 is out of range for an input with 1 dims"):
        Flatten()(np.zeros(5))
    with pytest.raises(IndexError):
        TorchFlatten()(torch.zeros(5))
    with pytest.raises(ValueError, match=r"end_dim=5 is out of range"):
        Flatten(1, 5)(np.zeros((2, 3, 4)))
    with pytest.raises(IndexError):
        TorchFlatten(1, 5)(torch.zeros(2, 3, 4))
    with pytest.raises(TypeError, match="start_dim must be an int"):
        Flatten(1.5)


@pytest.mark.parametrize(("shape", "start_dim", "end_dim"), [
    ((2, 3, 4, 5), 1, -1), ((2, 3, 4), 0, 1), ((0, 3, 2), 1, -1), ((), 0, -1),
])
def test_flatten_float16_as_torch(shape, start_dim, end_dim, rng):
    """torch flattens half tensors on the CPU: so does scratch, keeping the dtype."""
    x = rng.standard_normal(shape)
    out = assert_parity(Flatten(start_dim, end_dim), TorchFlatten(start_dim, end_dim), x,
                        dtype=np.float16)["out"]
    assert out.dtype == np.float16


def test_flatten_numpy_int_dims_as_torch(rng):
    x = rng.standard_normal((2, 3, 4))
    layer = Flatten(np.int64(0), np.int64(-2))
    assert layer.start_dim == 0 and type(layer.start_dim) is int
    assert_parity(layer, TorchFlatten(np.int64(0), np.int64(-2)), x)


def test_flatten_backward_before_forward_names_the_layer():
    with pytest.raises(RuntimeError, match=r"Flatten\(start_dim=1, end_dim=-1\)\.backward.*before forward"):
        Flatten().backward(np.zeros((2, 3)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_flatten_nan_and_inf_propagate_as_torch(dtype):
    assert_parity(Flatten(), nn.Flatten(), NONFINITE_IMAGE, dtype=dtype)


FLATTEN = "Flatten(start_dim=1, end_dim=-1)"
REFUSED = [
    refusal("Flatten-start_dim-out-of-range", lambda: Flatten(3)(f32(2, 3)),
            lambda: nn.Flatten(3)(t32(2, 3)), ValueError, "Flatten(start_dim=3, end_dim=-1)",
            "start_dim=3 is out of range for an input with 2 dims"),
    refusal("Flatten-start-after-end", lambda: Flatten(2, 1)(f32(2, 3, 4)),
            lambda: nn.Flatten(2, 1)(t32(2, 3, 4)), ValueError, "Flatten(start_dim=2, end_dim=1)",
            "start_dim must not come after end_dim", "2 > 1"),
    refusal("Flatten-float-dim", lambda: Flatten(1.5), lambda: nn.Flatten(1.5)(t32(2, 3, 4)),
            TypeError, "Flatten:", "start_dim must be an int", "got 1.5"),
    refusal("Flatten-bool-dim", lambda: Flatten(True), lambda: nn.Flatten(True)(t32(2, 3, 4)),
            TypeError, "Flatten:", "start_dim must be an int", "got True"),
    refusal("Flatten-0d-default-dims", lambda: Flatten()(f32()), lambda: nn.Flatten()(t32()),
            ValueError, FLATTEN, "start_dim=1 is out of range for an input with 1 dims"),
    refusal("Flatten-list-input", lambda: Flatten()([[0.0, 1.0]]), lambda: nn.Flatten()([[0.0, 1.0]]),
            TypeError, FLATTEN, "input must be a NumPy array", "got list"),
]
STRICTER = [
    # torch reshapes any dtype; scratch layers compute in floating point only
    stricter("Flatten-int-input", lambda: Flatten()(np.zeros((2, 3), np.int64)),
             lambda: nn.Flatten()(torch.zeros(2, 3, dtype=torch.long)),
             TypeError, FLATTEN, "input must be float16, float32 or float64", "int64"),
]
test_scratch_refuses, test_torch_agrees = refusal_tests(REFUSED + STRICTER)
