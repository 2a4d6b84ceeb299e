"""Linear: scratch/linear.py against torch_ref/linear.py (torch.nn.Linear)."""

import numpy as np
import pytest
import torch
from torch import nn

from parity_tests.helpers import (
    NONFINITE_ROWS,
    assert_numerical_grad,
    assert_parity,
    f32,
    f64,
    refusal,
    refusal_tests,
    t32,
)
from scratch.linear import Linear
from torch_ref.linear import Linear as TorchLinear

CASES = [
    # (in_features, out_features, bias, input shape)
    (4, 3, True, (5, 4)),
    (4, 3, False, (5, 4)),
    (1, 1, True, (1, 1)),            # batch of 1, one feature
    (7, 2, True, (1, 7)),
    (6, 5, True, (2, 3, 6)),         # extra leading dimensions, as torch allows
    (3, 4, True, (3,)),              # unbatched input
    (64, 10, True, (32, 64)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("fin", "fout", "bias", "shape"), CASES)
def test_linear_parity(fin, fout, bias, shape, dtype, rng):
    torch.manual_seed(0)
    x = rng.standard_normal(shape)
    assert_parity(Linear(fin, fout, bias=bias), TorchLinear(fin, fout, bias=bias), x, dtype=dtype)


def test_linear_extreme_inputs(rng):
    x = rng.standard_normal((4, 5)) * 1e4
    assert_parity(Linear(5, 3), TorchLinear(5, 3), x)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_numerical_gradient(bias, rng):
    layer = Linear(4, 3, bias=bias, generator=rng)
    assert_numerical_grad(layer, rng.standard_normal((5, 4)))


def test_linear_backward_accumulates(rng):
    """Two backwards without zero_grad add up, as torch's .grad does."""
    layer = Linear(3, 2, generator=rng).double()
    x = rng.standard_normal((4, 3))
    g = rng.standard_normal((4, 2))
    layer(x)
    layer.backward(g)
    once = layer.weight.grad.copy()
    layer(x)
    layer.backward(g)
    np.testing.assert_allclose(layer.weight.grad, 2 * once, rtol=1e-12)
    layer.zero_grad()
    assert not layer.weight.grad.any()


def test_linear_default_init_bounds(rng):
    """torch's default: W, b ~ U(−1/√in, 1/√in)."""
    layer = Linear(400, 300, generator=rng)
    bound = 1 / np.sqrt(400)
    assert layer.weight.dtype == np.float32
    assert np.abs(layer.weight.data).max() <= bound
    assert np.abs(layer.weight.data).max() > 0.99 * bound
    assert np.abs(layer.bias.data).max() <= bound


def test_linear_rejects_wrong_width():
    layer = Linear(4, 3)
    with pytest.raises(ValueError, match=r"in_features=4.*got shape \(2, 5\)"):
        layer(np.zeros((2, 5), dtype=np.float32))
    with pytest.raises(RuntimeError):
        TorchLinear(4, 3)(torch.zeros(2, 5))


def test_linear_rejects_dtype_mismatch_like_torch():
    with pytest.raises(TypeError, match=r"float64.*float32"):
        Linear(4, 3)(np.zeros((2, 4)))
    with pytest.raises(RuntimeError):
        TorchLinear(4, 3)(torch.zeros(2, 4, dtype=torch.float64))


def test_linear_rejects_integer_input():
    with pytest.raises(TypeError, match="int64"):
        Linear(4, 3)(np.zeros((2, 4), dtype=np.int64))


def test_linear_backward_before_forward_names_the_layer():
    with pytest.raises(RuntimeError, match=r"Linear\(in_features=4.*before forward"):
        Linear(4, 3).backward(np.zeros((2, 3), dtype=np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_nan_and_inf_propagate_as_torch(dtype):
    torch.manual_seed(0)
    assert_parity(Linear(3, 2), nn.Linear(3, 2), NONFINITE_ROWS, dtype=dtype)


LINEAR = "Linear(in_features=4, out_features=3, bias=True)"
REFUSED = [
    refusal("wrong-width", lambda: Linear(4, 3)(f32(2, 5)), lambda: nn.Linear(4, 3)(t32(2, 5)),
            ValueError, LINEAR, "(*, in_features=4)", "got shape (2, 5)"),
    refusal("0d-input", lambda: Linear(4, 3)(f32()), lambda: nn.Linear(4, 3)(t32()),
            ValueError, LINEAR, "(*, in_features=4)", "got shape ()"),
    refusal("int-input", lambda: Linear(4, 3)(np.zeros((2, 4), dtype=np.int64)),
            lambda: nn.Linear(4, 3)(torch.zeros(2, 4, dtype=torch.long)),
            TypeError, LINEAR, "input must be float32 or float64", "int64"),
    refusal("float64-input-float32-layer", lambda: Linear(4, 3)(f64(2, 4)),
            lambda: nn.Linear(4, 3)(torch.zeros(2, 4, dtype=torch.float64)),
            TypeError, LINEAR, "input has dtype float64", "parameters are float32"),
    refusal("list-input", lambda: Linear(4, 3)([[0.0] * 4]), lambda: nn.Linear(4, 3)([[0.0] * 4]),
            TypeError, LINEAR, "input must be a NumPy array", "got list"),
    refusal("negative-in_features", lambda: Linear(-1, 3), lambda: nn.Linear(-1, 3),
            ValueError, "Linear:", "in_features", "non-negative int", "got -1"),
    refusal("float-out_features", lambda: Linear(4, 2.5), lambda: nn.Linear(4, 2.5),
            (ValueError, TypeError), "Linear:", "out_features", "non-negative int", "got 2.5"),
    refusal("int-dtype", lambda: Linear(4, 3, dtype=np.int32),
            lambda: nn.Linear(4, 3, dtype=torch.int32),
            TypeError, "Linear", "dtype must be float32 or float64", "got int32"),
]
test_scratch_refuses, test_torch_agrees = refusal_tests(REFUSED)
