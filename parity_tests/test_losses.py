"""Losses: scratch/losses.py against torch_ref/losses.py (torch.nn.MSELoss), and what every
loss shares: reductions, targets, weights (BCELoss and BCEWithLogitsLoss: test_bce.py; NLLLoss and
CrossEntropyLoss: test_cross_entropy.py)."""

import numpy as np
import pytest
import torch

from parity_tests.helpers import DTYPES as BOTH_DTYPES
from parity_tests.helpers import (
    NONFINITE,
    REDUCTIONS,
    TIERS,
    assert_close,
    assert_dtype_kept,
    assert_numerical_grad,
    assert_parity,
    f32,
    f64,
    refusal,
    refusal_tests,
    stricter,
    t32,
    tl,
)
from scratch import cross_entropy as SC
from scratch import losses as S
from torch_ref import cross_entropy as TC
from torch_ref import losses as T

# every loss by name, in both twins: the class losses live in cross_entropy.py
SCRATCH = {name: getattr(m, name) for m in (S, SC) for name in m.__all__}
TORCH = {name: getattr(m, name) for m in (T, TC) for name in m.__all__}


# -- MSELoss ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", TIERS)
@pytest.mark.parametrize("shape", [(), (1,), (5,), (4, 3), (2, 3, 4, 5)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_parity(reduction, shape, dtype, rng):
    result = assert_parity(S.MSELoss(reduction=reduction), T.MSELoss(reduction=reduction),
                           rng.standard_normal(shape), rng.standard_normal(shape), dtype=dtype)
    assert_dtype_kept(result, dtype)


@pytest.mark.parametrize("dtype", TIERS)
def test_mse_extreme_inputs(dtype, rng):
    x = rng.uniform(-1e4, 1e4, (4, 3))
    assert_parity(S.MSELoss(), T.MSELoss(), x, -x, dtype=dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_numerical_gradient(reduction, rng):
    assert_numerical_grad(S.MSELoss(reduction=reduction), rng.standard_normal((3, 4)),
                          rng.standard_normal((3, 4)))


# -- what every loss returns --------------------------------------------------------------------
LOSSES = [
    ("MSELoss", S.MSELoss, lambda rng: (rng.standard_normal(3), rng.standard_normal(3))),
    ("BCELoss", S.BCELoss, lambda rng: (rng.uniform(0.1, 0.9, 3), rng.random(3))),
    ("BCEWithLogitsLoss", S.BCEWithLogitsLoss, lambda rng: (rng.standard_normal(3), rng.random(3))),
    ("CrossEntropyLoss", SC.CrossEntropyLoss, lambda rng: (rng.standard_normal((3, 4)), np.array([0, 3, 1]))),
    ("NLLLoss", SC.NLLLoss, lambda rng: (rng.standard_normal((3, 4)), np.array([0, 3, 1]))),
]
LOSS_IDS = [name for name, _, _ in LOSSES]


@pytest.mark.parametrize("dtype", TIERS)
@pytest.mark.parametrize(("name", "cls", "make"), LOSSES, ids=LOSS_IDS)
def test_loss_is_a_0d_array_of_the_input_dtype(name, cls, make, dtype, rng):
    x, target = make(rng)
    x = x.astype(dtype)
    target = target.astype(dtype) if target.dtype.kind == "f" else target
    for reduction in ("mean", "sum"):
        loss = cls(reduction=reduction)
        out = loss(x, target)
        assert isinstance(out, np.ndarray) and out.shape == () and out.dtype == dtype
        grad = loss.backward()                      # grad_out None means 1.0
        assert grad.shape == x.shape and grad.dtype == dtype
        np.testing.assert_array_equal(loss.backward(np.float64(2.0)), 2 * grad)


@pytest.mark.parametrize(("name", "cls", "make"), LOSSES, ids=LOSS_IDS)
def test_reduction_none_needs_a_grad_out_like_torch(name, cls, make, rng):
    x, target = make(rng)
    loss = cls(reduction="none")
    loss(x, target)
    with pytest.raises(ValueError, match=r"reduction='none'.*pass grad_out"):
        loss.backward()
    with pytest.raises(ValueError, match="grad_out must have the loss's shape"):
        loss.backward(np.ones(7))
    torch_loss = TORCH[name](reduction="none")(
        torch.tensor(x, requires_grad=True), torch.tensor(target))
    with pytest.raises(RuntimeError, match="scalar outputs"):
        torch_loss.backward()


@pytest.mark.parametrize(("name", "cls", "make"), LOSSES, ids=LOSS_IDS)
def test_invalid_reduction_refused_like_torch(name, cls, make, rng):
    with pytest.raises(ValueError, match=r"reduction must be 'none', 'mean' or 'sum', got 'avg'"):
        cls(reduction="avg")
    x, target = make(rng)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        TORCH[name](reduction="avg")(torch.tensor(x), torch.tensor(target))


def test_deprecated_positional_arguments_are_refused():
    """torch.nn.MSELoss('sum') binds 'sum' to the deprecated size_average; here it is an error."""
    with pytest.raises(TypeError):
        S.MSELoss("sum")
    with pytest.raises(TypeError):
        SC.CrossEntropyLoss(None, None, -100)



@pytest.mark.parametrize("name", ["MSELoss", "BCELoss", "BCEWithLogitsLoss"])
def test_float_target_shape_mismatch_refused(name, rng):
    """(N, 1) against (N,): torch's BCE losses refuse; MSELoss only warns and broadcasts to an
    (N, N) loss, a silent bug that we refuse."""
    x = rng.uniform(0.1, 0.9, (4, 1))
    y = rng.random(4)
    with pytest.raises(ValueError, match=r"target must have the input's shape \(4, 1\), got \(4,\)"):
        SCRATCH[name]()(x, y)
    if name == "MSELoss":
        with pytest.warns(UserWarning, match="different to the input size"):
            T.MSELoss()(torch.tensor(x), torch.tensor(y))
    else:
        with pytest.raises(ValueError, match="size"):
            TORCH[name]()(torch.tensor(x), torch.tensor(y))


@pytest.mark.parametrize("name", ["MSELoss", "BCEWithLogitsLoss"])
def test_target_dtype_mismatch_refused_where_torch_promotes(name, rng):
    """A deliberate difference: torch promotes a float32 input with a float64 target to float64
    silently (the float64 leak this project avoids); we ask for a conversion."""
    x = rng.standard_normal(3).astype(np.float32)
    y = rng.random(3)
    with pytest.raises(TypeError, match="target has dtype float64 but input has dtype float32"):
        SCRATCH[name]()(x, y)
    assert TORCH[name]()(torch.tensor(x), torch.tensor(y)).dtype == torch.float64


# -- refusals: bad inputs -----------------------------------------------------------------------
@pytest.mark.parametrize(("name", "make"), [
    ("BCELoss", lambda: (np.array([1, 0, 1]), np.array([1.0, 0.0, 1.0], dtype=np.float32))),
    ("BCEWithLogitsLoss", lambda: (np.array([1, 0, 1]), np.array([1.0, 0.0, 1.0], dtype=np.float32))),
    ("CrossEntropyLoss", lambda: (np.array([[1, 2]]), np.array([0]))),
    ("NLLLoss", lambda: (np.array([[1, 2]]), np.array([0]))),
])
def test_integer_input_refused_like_torch(name, make):
    x, target = make()
    with pytest.raises(TypeError, match=rf"{name}: input must be float32 or float64, got dtype int64"):
        SCRATCH[name]()(x, target)
    with pytest.raises((RuntimeError, NotImplementedError)):
        TORCH[name]()(torch.tensor(x), torch.tensor(target))


def test_mse_integer_input_refused_where_torch_promotes():
    """A deliberate difference: torch computes MSE of integer tensors; scratch layers take
    float32/float64 only."""
    x, y = np.array([1, 0, 1]), np.array([1.0, 0.0, 0.0], dtype=np.float32)
    with pytest.raises(TypeError, match="MSELoss: input must be float32 or float64"):
        S.MSELoss()(x, y)
    T.MSELoss()(torch.tensor(x), torch.tensor(y))


def test_weights_are_buffers_with_torch_keys():
    torch_keys = set(TC.CrossEntropyLoss(torch.ones(3)).state_dict())
    assert set(SC.CrossEntropyLoss(np.ones(3)).state_dict()) == torch_keys == {"weight"}
    assert not SC.CrossEntropyLoss().state_dict()
    both = S.BCEWithLogitsLoss(np.ones(3), pos_weight=np.ones(3))
    assert set(both.state_dict()) == {"weight", "pos_weight"}
    assert S.BCELoss([1.0, 2.0]).weight.dtype == np.float32          # as torch.tensor([1., 2.])
    assert_close(SC.NLLLoss(torch.ones(2)).weight, torch.ones(2), "weight from a torch tensor")


# -- refusals, one row per bad input (from test_reliability) ------------------------------------
MSE, TMSE = S.MSELoss, T.MSELoss
F_OR_D, INT = "must be float32 or float64", "got dtype int64"


def _backward_after(loss, *inputs):
    loss(*inputs)
    return loss.backward()


REFUSED = [
    refusal("MSELoss-target-shape", lambda: MSE()(f32(4), f32(3)), lambda: TMSE()(t32(4), t32(3)),
            ValueError, "MSELoss:", "target must have the input's shape (4,)", "got (3,)"),
    refusal("MSELoss-int-input", lambda: MSE()(np.zeros(4, np.int64), np.zeros(4, np.int64)),
            lambda: TMSE()(tl(0, 0, 0, 0), tl(0, 0, 0, 0)), TypeError, "MSELoss:", "input " + F_OR_D, INT),
    refusal("MSELoss-reduction", lambda: MSE(reduction="avg"), lambda: TMSE(reduction="avg")(t32(4), t32(4)),
            ValueError, "MSELoss: reduction must be 'none', 'mean' or 'sum', got 'avg'"),
    refusal("MSELoss-none-backward-without-grad",
            lambda: _backward_after(MSE(reduction="none"), f32(3), f32(3)),
            lambda: TMSE(reduction="none")(t32(3).requires_grad_(), t32(3)).backward(), ValueError,
            "MSELoss.backward:", "with reduction='none' the loss is an array of shape (3,)", "pass grad_out"),
    # torch warns, then broadcasts (N, 1) against (N,) into an (N, N) loss
    stricter("MSELoss-N-by-1-against-N", lambda: MSE()(f32(4, 1), f32(4)), lambda: TMSE()(t32(4, 1), t32(4)),
             ValueError, "MSELoss:", "target must have the input's shape (4, 1)", "got (4,)"),
    # torch silently promotes the other argument
    stricter("MSELoss-int-target", lambda: MSE()(f32(4), np.zeros(4, np.int64)),
             lambda: TMSE()(t32(4), tl(0, 0, 0, 0)), TypeError, "MSELoss:", "target " + F_OR_D, INT),
    stricter("MSELoss-float64-target-float32-input", lambda: MSE()(f32(4), f64(4)),
             lambda: TMSE()(t32(4), torch.zeros(4, dtype=torch.float64)), TypeError, "MSELoss:",
             "target has dtype float64", "input has dtype float32"),
]
test_scratch_refuses, test_torch_agrees = refusal_tests(REFUSED)


def test_mse_broadcast_is_a_real_bug_in_torch():
    """Why MSELoss-N-by-1-against-N is refused: torch builds a loss over N·N pairs."""
    x = torch.tensor([[1.0], [2.0]])
    y = torch.tensor([1.0, 2.0])
    with pytest.warns(UserWarning, match="different to the input size"):
        broadcast = TMSE()(x, y)
    assert broadcast.item() == pytest.approx(0.5)      # ((0 + 1 + 1 + 0) / 4), not 0


# -- NaN and ±inf propagate as in torch (from test_reliability) ---------------------------------
@pytest.mark.parametrize("dtype", BOTH_DTYPES)
@pytest.mark.parametrize(("scratch", "reference", "inputs"), [
    (lambda: MSE(reduction="none"), lambda: TMSE(reduction="none"), (NONFINITE, np.full(6, 0.5))),
    (MSE, TMSE, (np.zeros(6), NONFINITE)),
], ids=["MSELoss", "MSELoss-nonfinite-target"])
def test_nan_and_inf_propagate_as_torch(scratch, reference, inputs, dtype):
    assert_parity(scratch(), reference(), *inputs, dtype=dtype)     # NaN positions compared too


# -- torch.nn compatibility: empty batches, and the float16 torch computes ------------------------
EMPTY = [
    ("MSELoss", {}, np.zeros(0), np.zeros(0)),
    ("MSELoss", {}, np.zeros((0, 3)), np.zeros((0, 3))),
    ("BCELoss", {"weight": np.ones(3)}, np.zeros((0, 3)), np.zeros((0, 3))),
    ("BCEWithLogitsLoss", {"pos_weight": np.ones(3)}, np.zeros((0, 3)), np.zeros((0, 3))),
    ("NLLLoss", {"weight": np.ones(3)}, np.zeros((0, 3)), np.zeros(0, np.int64)),
    ("CrossEntropyLoss", {"label_smoothing": 0.1}, np.zeros((0, 3)), np.zeros(0, np.int64)),
    ("CrossEntropyLoss", {}, np.zeros((0, 3)), np.zeros((0, 3))),                   # probabilities
    ("CrossEntropyLoss", {"weight": np.ones(3)}, np.zeros((2, 3, 0)), np.zeros((2, 0), np.int64)),
]
EMPTY_IDS = ["MSELoss-(0,)", "MSELoss-(0, 3)", "BCELoss-weight", "BCEWithLogitsLoss-pos_weight",
             "NLLLoss-weight", "CrossEntropyLoss-label_smoothing", "CrossEntropyLoss-probabilities",
             "CrossEntropyLoss-(2, 3, 0)"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("name", "kwargs", "x", "target"), EMPTY, ids=EMPTY_IDS)
def test_loss_of_an_empty_batch_as_torch(name, kwargs, x, target, reduction):
    """No elements: 'none' is empty, 'sum' is 0, 'mean' is 0 / 0 = NaN, every gradient is empty."""
    torch_kwargs = {key: torch.tensor(value) if isinstance(value, np.ndarray) else value
                    for key, value in kwargs.items()}
    result = assert_parity(SCRATCH[name](**kwargs, reduction=reduction),
                           TORCH[name](**torch_kwargs, reduction=reduction), x, target)
    assert result["grads"][0].shape == x.shape
    if reduction != "none":
        np.testing.assert_equal(result["out"], {"sum": 0.0, "mean": np.nan}[reduction])


def _half(*shape):
    return np.zeros(shape, np.float16)


def _thalf(*shape):
    return torch.zeros(shape, dtype=torch.float16)


# torch computes every loss in float16 on the CPU, rounding at each of its own steps (its kernels
# differ from a float32 computation rounded once by several units in the last place): refused here
HALF = "input must be float32 or float64", "got dtype float16"
COMPATIBILITY = [
    stricter("MSELoss-float16-input", lambda: MSE()(_half(3), _half(3)), lambda: TMSE()(_thalf(3), _thalf(3)),
             TypeError, "MSELoss:", *HALF),
    stricter("BCELoss-float16-input", lambda: S.BCELoss()(_half(3), _half(3)),
             lambda: T.BCELoss()(_thalf(3), _thalf(3)), TypeError, "BCELoss:", *HALF),
    stricter("BCEWithLogitsLoss-float16-input", lambda: S.BCEWithLogitsLoss()(_half(3), _half(3)),
             lambda: T.BCEWithLogitsLoss()(_thalf(3), _thalf(3)), TypeError, "BCEWithLogitsLoss:", *HALF),
    stricter("NLLLoss-float16-input", lambda: SC.NLLLoss()(_half(2, 3), np.zeros(2, np.int64)),
             lambda: TC.NLLLoss()(_thalf(2, 3), tl(0, 0)), TypeError, "NLLLoss:", *HALF),
    stricter("CrossEntropyLoss-float16-input",
             lambda: SC.CrossEntropyLoss()(_half(2, 3), np.zeros(2, np.int64)),
             lambda: TC.CrossEntropyLoss()(_thalf(2, 3), tl(0, 0)), TypeError, "CrossEntropyLoss:", *HALF),
]
test_compatibility_scratch_refuses, test_compatibility_torch_agrees = refusal_tests(COMPATIBILITY)
