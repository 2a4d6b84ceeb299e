"""Activations: scratch/activations.py against torch_ref/activations.py (torch.nn)."""

import numpy as np
import pytest
import torch

from parity_tests.helpers import DTYPES as BOTH_DTYPES
from parity_tests.helpers import (
    NONFINITE,
    NONFINITE_ROWS,
    TIERS,
    assert_close,
    assert_finite,
    assert_numerical_grad,
    assert_parity,
    extreme_vector,
    refusal,
    refusal_tests,
    stricter,
    t32,
)
from scratch import activations as S
from torch_ref import activations as T

# (name, scratch factory, torch factory): the element-wise ones and the two along a dim
ELEMENTWISE = [
    ("Sigmoid", S.Sigmoid, T.Sigmoid),
    ("Tanh", S.Tanh, T.Tanh),
    ("ReLU", S.ReLU, T.ReLU),
    ("LeakyReLU", S.LeakyReLU, T.LeakyReLU),
    ("LeakyReLU(0.2)", lambda: S.LeakyReLU(0.2), lambda: T.LeakyReLU(0.2)),
]
ALONG_DIM = [
    ("Softmax", S.Softmax, T.Softmax),
    ("LogSoftmax", S.LogSoftmax, T.LogSoftmax),
]
ALL = ELEMENTWISE + [(n, lambda s=s: s(-1), lambda t=t: t(-1)) for n, s, t in ALONG_DIM]
IDS = [name for name, _, _ in ALL]
SHAPES = [(1,), (7,), (1, 5), (4, 3), (2, 3, 5), (2, 1, 3, 4)]   # batch of 1, odd sizes, NCHW


@pytest.mark.parametrize("dtype", TIERS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("name", "scratch", "torch_cls"), ALL, ids=IDS)
def test_activation_parity(name, scratch, torch_cls, shape, dtype, rng):
    result = assert_parity(scratch(), torch_cls(), 3 * rng.standard_normal(shape), dtype=dtype)
    assert result["out"].dtype == dtype and result["grads"][0].dtype == dtype   # no float64 leak


@pytest.mark.parametrize("dtype", TIERS)
@pytest.mark.parametrize(("name", "scratch", "torch_cls"), ALL, ids=IDS)
def test_activation_extreme_inputs(name, scratch, torch_cls, dtype, rng):
    """|x| up to 1e4, mixed with ordinary values: no overflow warning (pytest turns it into an
    error), no NaN, and still torch's values."""
    x = np.concatenate([rng.uniform(-1e4, 1e4, (3, 6)),
                        [[1e4, -1e4, 0.5, -0.5, 1e4, -1e4]],
                        [[-1e4, -1e4, -1e4, -1e4, -1e4, 3.0]]])
    result = assert_parity(scratch(), torch_cls(), x, dtype=dtype)
    assert not np.isnan(result["out"]).any()
    assert not np.isnan(result["grads"][0]).any()


@pytest.mark.parametrize("dtype", TIERS)
@pytest.mark.parametrize(("name", "scratch", "torch_cls"), ALL, ids=IDS)
def test_activation_nan_and_inf_propagate_as_torch(name, scratch, torch_cls, dtype):
    x = np.array([[np.nan, 1.0, -2.0], [np.inf, 0.5, -1.0], [-np.inf, 0.5, 2.0],
                  [np.inf, -np.inf, 0.0]])
    assert_parity(scratch(), torch_cls(), x, dtype=dtype)


@pytest.mark.parametrize("dtype", TIERS)
@pytest.mark.parametrize(("name", "scratch", "torch_cls"), ELEMENTWISE[2:], ids=IDS[2:5])
def test_relu_kinks_at_exact_zero(name, scratch, torch_cls, dtype, rng):
    x = rng.standard_normal((3, 4))
    x[0, :] = 0.0
    x[1, 0] = -0.0
    assert_parity(scratch(), torch_cls(), x, dtype=dtype)


def test_relu_derivative_at_zero_is_zero():
    relu = S.ReLU()
    relu(np.array([-1.0, 0.0, -0.0, 2.0]))
    np.testing.assert_array_equal(relu.backward(np.ones(4)), [0.0, 0.0, 0.0, 1.0])


@pytest.mark.parametrize("slope", [0.01, 0.2])
def test_leaky_relu_derivative_at_zero_is_the_slope(slope):
    """torch's leaky_relu_backward tests x > 0, so x = 0 takes the negative slope."""
    x = torch.tensor([0.0, -0.0], dtype=torch.float64, requires_grad=True)
    T.LeakyReLU(slope)(x).sum().backward()
    leaky = S.LeakyReLU(slope)
    leaky(np.array([0.0, -0.0]))
    np.testing.assert_array_equal(leaky.backward(np.ones(2)), [slope, slope])
    np.testing.assert_array_equal(x.grad.numpy(), [slope, slope])


@pytest.mark.parametrize(
    "module",
    [S.Sigmoid, S.Tanh, lambda: S.Softmax(0), lambda: S.Softmax(1), lambda: S.Softmax(-1),
     lambda: S.LogSoftmax(0), lambda: S.LogSoftmax(1), lambda: S.LogSoftmax(-1)],
    ids=["Sigmoid", "Tanh", "Softmax0", "Softmax1", "Softmax-1",
         "LogSoftmax0", "LogSoftmax1", "LogSoftmax-1"],
)
def test_smooth_activation_numerical_gradient(module, rng):
    assert_numerical_grad(module(), 2 * rng.standard_normal((3, 4, 2)))


@pytest.mark.parametrize("module", [S.ReLU, lambda: S.LeakyReLU(0.1)], ids=["ReLU", "LeakyReLU"])
def test_relu_numerical_gradient_away_from_the_kink(module, rng):
    x = rng.standard_normal((4, 5))
    x = np.where(np.abs(x) < 0.1, 0.5, x)           # central differences need |x| > ε
    assert_numerical_grad(module(), x)


def test_hand_derived_values():
    """σ(0) = 1/2, σ'(0) = 1/4; tanh'(0) = 1; softmax of equal scores is uniform."""
    sigmoid = S.Sigmoid()
    assert sigmoid(np.array([0.0]))[0] == 0.5
    assert sigmoid.backward(np.array([1.0]))[0] == 0.25
    tanh = S.Tanh()
    tanh(np.array([0.0]))
    assert tanh.backward(np.array([1.0]))[0] == 1.0
    np.testing.assert_allclose(S.Softmax(1)(np.full((2, 4), 7.0)), np.full((2, 4), 0.25))
    np.testing.assert_allclose(S.LogSoftmax(1)(np.full((2, 4), 7.0)), np.full((2, 4), np.log(0.25)))


@pytest.mark.parametrize(("name", "scratch", "torch_cls"), ALL, ids=IDS)
def test_float32_stays_float32(name, scratch, torch_cls, rng):
    module = scratch()
    x = rng.standard_normal((3, 4)).astype(np.float32)
    out = module(x)
    assert out.dtype == np.float32
    assert module.backward(np.ones_like(out)).dtype == np.float32


def test_sigmoid_saturates_exactly_like_torch_in_float32():
    """The tutorials' 1 / (1 + exp(-clip(z, -500, 500))) overflows in float32: e⁵⁰⁰ = inf.
    The split on sign never calls exp with a positive argument. (σ(−89) ≈ 2e-39 is subnormal:
    torch's vectorised kernel gives 0 there, we give the value; both within tolerance.)"""
    z = np.array([-1e4, -500.0, -89.0, 89.0, 500.0, 1e4], dtype=np.float32)
    with pytest.warns(RuntimeWarning, match="overflow"):
        1 / (1 + np.exp(-np.clip(z, -500, 500)))
    out = S.Sigmoid()(z)
    assert_close(out, torch.sigmoid(torch.from_numpy(z)), "Sigmoid float32", dtype=np.float32)
    assert out[0] == 0.0 and out[-1] == 1.0


# -- Step: the perceptron's activation, forward only ------------------------------------------
@pytest.mark.parametrize("dtype", TIERS)
def test_step_forward_matches_torch_heaviside(dtype, rng):
    x = np.concatenate([rng.standard_normal(8), [0.0, -0.0, np.inf, -np.inf, np.nan, 1e4, -1e4]])
    x = x.astype(dtype)
    out = S.Step()(x)
    assert out.dtype == dtype
    assert_close(out, T.Step()(torch.from_numpy(x)), "Step forward", dtype=dtype)
    np.testing.assert_array_equal(out[-7:], [1, 1, 1, 0, 0, 1, 0])   # H(0) = 1; NaN → 0


def test_step_backward_refuses_like_torch():
    step = S.Step()
    step(np.array([0.5, -0.5]))
    with pytest.raises(RuntimeError, match=r"no useful gradient.*perceptron learning rule"):
        step.backward(np.ones(2))
    x = torch.tensor([0.5, -0.5], requires_grad=True)
    with pytest.raises(RuntimeError, match="not implemented"):
        T.Step()(x).sum().backward()


# -- refusals -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("scratch", "torch_module"),
    [(S.LeakyReLU(), T.LeakyReLU()), (S.Softmax(0), T.Softmax(0)), (S.LogSoftmax(0), T.LogSoftmax(0))],
    ids=["LeakyReLU", "Softmax", "LogSoftmax"],
)
def test_integer_input_refused_like_torch(scratch, torch_module):
    with pytest.raises(TypeError, match="int64"):
        scratch(np.array([1, 2, 3]))
    with pytest.raises((RuntimeError, NotImplementedError)):
        torch_module(torch.tensor([1, 2, 3]))


@pytest.mark.parametrize(
    ("scratch", "torch_module"),
    [(S.Sigmoid(), T.Sigmoid()), (S.Tanh(), T.Tanh()), (S.ReLU(), T.ReLU()), (S.Step(), T.Step())],
    ids=["Sigmoid", "Tanh", "ReLU", "Step"],
)
def test_integer_input_refused_where_torch_promotes(scratch, torch_module):
    """A deliberate difference: torch computes these on integers (promoting to float, or
    staying integer); every scratch layer takes float32/float64 only, and says how to convert."""
    with pytest.raises(TypeError, match=r"int64.*astype"):
        scratch(np.array([1, 2, 3]))
    torch_module(torch.tensor([1, 2, 3]))            # no error in torch


def test_non_array_input_refused():
    with pytest.raises(TypeError, match="Sigmoid: input must be a NumPy array, got list"):
        S.Sigmoid()([1.0, 2.0])
    with pytest.raises(TypeError, match="negative_slope must be a number"):
        S.LeakyReLU("0.1")


# -- refusals, one row per bad input (from test_reliability) ------------------------------------
F_OR_D, INT = "must be float16, float32 or float64", "got dtype int64"
REFUSED = [
    refusal("LeakyReLU-int-input", lambda: S.LeakyReLU()(np.zeros(3, dtype=np.int64)),
            lambda: T.LeakyReLU()(torch.zeros(3, dtype=torch.long)),
            TypeError, "LeakyReLU(negative_slope=0.01):", "input " + F_OR_D, INT),
    refusal("LeakyReLU-slope-str", lambda: S.LeakyReLU("0.1"), lambda: T.LeakyReLU("0.1")(t32(3)),
            TypeError, "LeakyReLU:", "negative_slope must be a number", "'0.1'"),
    refusal("Sigmoid-list-input", lambda: S.Sigmoid()([0.0, 1.0]), lambda: T.Sigmoid()([0.0, 1.0]),
            TypeError, "Sigmoid:", "input must be a NumPy array", "got list"),
    refusal("ReLU-list-input", lambda: S.ReLU()([0.0, 1.0]), lambda: T.ReLU()([0.0, 1.0]),
            TypeError, "ReLU:", "input must be a NumPy array", "got list"),
    # every scratch layer computes in floats; torch computes these in integers or promotes
    stricter("Sigmoid-int-input", lambda: S.Sigmoid()(np.zeros(3, np.int64)),
             lambda: T.Sigmoid()(torch.zeros(3, dtype=torch.long)),
             TypeError, "Sigmoid:", "input " + F_OR_D, INT),
    stricter("Tanh-int-input", lambda: S.Tanh()(np.zeros(3, np.int64)),
             lambda: T.Tanh()(torch.zeros(3, dtype=torch.long)), TypeError, "Tanh:", "input " + F_OR_D, INT),
    stricter("ReLU-int-input", lambda: S.ReLU()(np.zeros(3, np.int64)),
             lambda: T.ReLU()(torch.zeros(3, dtype=torch.long)), TypeError, "ReLU:", "input " + F_OR_D, INT),
]
test_scratch_refuses, test_torch_agrees = refusal_tests(REFUSED)


# -- numerics: extreme and non-finite inputs (from test_reliability) ----------------------------
@pytest.mark.parametrize("dtype", BOTH_DTYPES)
@pytest.mark.parametrize(("scratch", "reference"), [
    (S.Sigmoid, T.Sigmoid), (S.Tanh, T.Tanh), (S.ReLU, T.ReLU), (S.LeakyReLU, T.LeakyReLU),
], ids=["Sigmoid", "Tanh", "ReLU", "LeakyReLU"])
def test_elementwise_extreme_finite(scratch, reference, dtype):
    assert_finite(assert_parity(scratch(), reference(), extreme_vector(dtype), dtype=dtype))


@pytest.mark.parametrize("dtype", BOTH_DTYPES)
@pytest.mark.parametrize(("scratch", "reference", "x"), [
    (S.Sigmoid, T.Sigmoid, NONFINITE), (S.Tanh, T.Tanh, NONFINITE), (S.ReLU, T.ReLU, NONFINITE),
    (S.LeakyReLU, T.LeakyReLU, NONFINITE), (lambda: S.Softmax(1), lambda: T.Softmax(1), NONFINITE_ROWS),
    (lambda: S.LogSoftmax(1), lambda: T.LogSoftmax(1), NONFINITE_ROWS),
], ids=["Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Softmax", "LogSoftmax"])
def test_nan_and_inf_propagate_as_torch(scratch, reference, x, dtype):
    assert_parity(scratch(), reference(), x, dtype=dtype)     # NaN positions compared too


@pytest.mark.parametrize("dtype", BOTH_DTYPES)
def test_step_nan_and_inf_as_torch(dtype):
    x = NONFINITE.astype(dtype)
    expected = T.Step()(torch.from_numpy(x))
    assert_close(S.Step()(x), expected, "Step forward", dtype=dtype)


# -- torch.nn compatibility: float16, empty arrays, the argument forms torch takes ---------------
HALF_EXTREMES = np.array([-65504, -1e4, -100, -1, 0, 1, 100, 1e4, 65504])   # float16's largest: 65504


@pytest.mark.parametrize("shape", [*SHAPES, (64, 100)])           # 6400 values: a 2-ulp slip shows
@pytest.mark.parametrize(("name", "scratch", "torch_cls"), ELEMENTWISE, ids=IDS[:5])
def test_activation_float16_as_torch(name, scratch, torch_cls, shape, rng):
    """torch computes these in float16 on the CPU: in float32, rounded to float16 once (Sigmoid's
    backward rounds each of its two products, as torch's half kernel does); so does scratch."""
    result = assert_parity(scratch(), torch_cls(), 3 * rng.standard_normal(shape), dtype=np.float16)
    assert result["out"].dtype == np.float16 and result["grads"][0].dtype == np.float16


@pytest.mark.parametrize("x", [HALF_EXTREMES, NONFINITE], ids=["extremes", "nonfinite"])
@pytest.mark.parametrize(("name", "scratch", "torch_cls"), ELEMENTWISE, ids=IDS[:5])
def test_activation_float16_extremes_as_torch(name, scratch, torch_cls, x):
    assert_parity(scratch(), torch_cls(), x, dtype=np.float16)        # NaN positions compared too


def test_step_float16_as_torch():
    x = np.concatenate([HALF_EXTREMES, NONFINITE]).astype(np.float16)
    out = S.Step()(x)
    assert out.dtype == np.float16
    assert_close(out, T.Step()(torch.from_numpy(x)), "Step float16", dtype=np.float16)


@pytest.mark.parametrize("dtype", TIERS)
@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0)])
@pytest.mark.parametrize(("name", "scratch", "torch_cls"), ALL, ids=IDS)
def test_activation_of_an_empty_array_is_empty_as_torch(name, scratch, torch_cls, shape, dtype):
    result = assert_parity(scratch(), torch_cls(), np.zeros(shape), dtype=dtype)
    assert result["out"].shape == shape and result["grads"][0].shape == shape


def test_leaky_relu_takes_a_numpy_slope_as_torch(rng):
    slope = np.float32(0.1)                  # torch takes it; it is a number
    assert_parity(S.LeakyReLU(slope), T.LeakyReLU(slope), rng.standard_normal((3, 4)), dtype=np.float32)
    assert S.LeakyReLU(slope).negative_slope == float(slope)


@pytest.mark.parametrize("module", [S.Sigmoid, S.ReLU, S.LeakyReLU, lambda: S.Softmax(1), S.Step],
                         ids=["Sigmoid", "ReLU", "LeakyReLU", "Softmax", "Step"])
def test_to_float16_keeps_the_layer_and_int_is_refused(module):
    layer = module()
    assert layer.to(np.float16) is layer
    with pytest.raises(TypeError, match=r"\.to: dtype must be float16, float32 or float64, got int32"):
        layer.to(np.int32)
    with pytest.raises(TypeError):
        torch.nn.ReLU().to(torch.int32)


COMPATIBILITY = [
    # torch reads True as a slope of 1.0; a bool is refused here, as everywhere a number is asked
    stricter("LeakyReLU-slope-bool", lambda: S.LeakyReLU(True), lambda: T.LeakyReLU(True)(t32(3)),
             TypeError, "LeakyReLU:", "negative_slope must be a number", "got True"),
]
test_compatibility_scratch_refuses, test_compatibility_torch_agrees = refusal_tests(COMPATIBILITY)
