"""Binary cross-entropy: scratch/losses.py against torch_ref/losses.py (torch.nn.BCELoss,
torch.nn.BCEWithLogitsLoss)."""

import numpy as np
import pytest
import torch

from parity_tests.helpers import DTYPES as BOTH_DTYPES
from parity_tests.helpers import (
    NEGINF,
    POSINF,
    REDUCTIONS,
    TIERS,
    as_tensor,
    assert_dtype_kept,
    assert_finite,
    assert_numerical_grad,
    assert_parity,
    extreme_vector,
    f32,
    refusal,
    refusal_tests,
    stricter,
    t32,
    tl,
)
from scratch import losses as S
from torch_ref import losses as T


# -- BCELoss ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", TIERS)
@pytest.mark.parametrize("shape", [(1,), (6,), (4, 3), (2, 3, 4)])
@pytest.mark.parametrize("weight", [None, "full", "per-column"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_parity(reduction, weight, shape, dtype, rng):
    weight = {None: None, "full": rng.uniform(0.5, 2, shape),
              "per-column": rng.uniform(0.5, 2, shape[-1:])}[weight]
    x = rng.uniform(0.01, 0.99, shape)
    y = rng.random(shape)                     # soft targets are allowed, as in torch
    result = assert_parity(S.BCELoss(weight, reduction=reduction),
                           T.BCELoss(as_tensor(weight), reduction=reduction), x, y, dtype=dtype)
    assert_dtype_kept(result, dtype)


BOUNDARY_X = np.array([0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1e-45, 1e-30, 0.5])
BOUNDARY_Y = np.array([0.0, 1.0, 0.0, 1.0, 0.3, 0.6, 1.0, 1.0, 0.2])


@pytest.mark.parametrize("dtype", TIERS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_at_zero_and_one_matches_torch(reduction, dtype):
    """log clamped at −100 in the loss; torch's backward (x − y) / max(x(1 − x), 1e-12) in the
    gradient, ±1e12 at the boundary with the wrong target."""
    assert_parity(S.BCELoss(reduction=reduction), T.BCELoss(reduction=reduction),
                  BOUNDARY_X, BOUNDARY_Y, dtype=dtype)


def test_bce_boundary_by_hand():
    loss = S.BCELoss(reduction="none")
    out = loss(np.array([0.0, 1.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0, 1.0]))
    np.testing.assert_array_equal(out, [100.0, 100.0, 0.0, 0.0])        # −max(log 0, −100)
    floor = float(np.float32(1e-12))                                    # torch's EPSILON
    np.testing.assert_array_equal(loss.backward(np.ones(4)), [-1 / floor, 1 / floor, 0.0, 0.0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_numerical_gradient(reduction, rng):
    x = rng.uniform(0.05, 0.95, (3, 4))
    assert_numerical_grad(S.BCELoss(rng.uniform(0.5, 2, 4), reduction=reduction), x, rng.random((3, 4)))


# -- BCEWithLogitsLoss --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", TIERS)
@pytest.mark.parametrize("shape", [(1,), (6,), (4, 3), (2, 5, 3)])
@pytest.mark.parametrize("pos_weight", [False, True])
@pytest.mark.parametrize("weight", [None, "full", "per-column"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_parity(reduction, weight, pos_weight, shape, dtype, rng):
    weight = {None: None, "full": rng.uniform(0.5, 2, shape),
              "per-column": rng.uniform(0.5, 2, shape[-1:])}[weight]
    pos_weight = rng.uniform(0.5, 3, shape[-1:]) if pos_weight else None
    kwargs = {"reduction": reduction}
    result = assert_parity(S.BCEWithLogitsLoss(weight, pos_weight=pos_weight, **kwargs),
                           T.BCEWithLogitsLoss(as_tensor(weight), pos_weight=as_tensor(pos_weight), **kwargs),
                           3 * rng.standard_normal(shape), rng.random(shape), dtype=dtype)
    assert_dtype_kept(result, dtype)


@pytest.mark.parametrize("dtype", TIERS)
@pytest.mark.parametrize("pos_weight", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_extreme_logits(reduction, pos_weight, dtype, rng):
    x = np.array([[1e4, -1e4, 1e4, -1e4, 50.0, -50.0], [-1e4, 1e4, 0.0, 3.0, -1e4, 1e4]])
    y = np.array([[1.0, 0.0, 0.0, 1.0, 0.5, 0.5], [0.0, 1.0, 1.0, 0.0, 0.2, 0.9]])
    pos_weight = np.linspace(0.5, 3, 6) if pos_weight else None
    result = assert_parity(S.BCEWithLogitsLoss(reduction=reduction, pos_weight=pos_weight),
                           T.BCEWithLogitsLoss(reduction=reduction, pos_weight=as_tensor(pos_weight)),
                           x, y, dtype=dtype)
    assert np.isfinite(result["out"]).all()


def test_bce_with_logits_by_hand():
    """x = ±1e4: a right answer costs e⁻¹ᵉ⁴ = 0 in float64, a wrong one costs 1e4 (times
    pos_weight for a missed positive); BCELoss(σ(x)) would stop at its clamp, 100."""
    loss = S.BCEWithLogitsLoss(reduction="none", pos_weight=np.array([1.0, 1.0, 2.0, 2.0]))
    out = loss(np.array([1e4, -1e4, -1e4, 1e4]), np.array([1.0, 1.0, 1.0, 0.0]))
    np.testing.assert_array_equal(out, [0.0, 1e4, 2e4, 1e4])
    # ∂ℓ/∂x = (1 + (p − 1) y) σ(x) − p y
    np.testing.assert_array_equal(loss.backward(np.ones(4)), [0.0, -1.0, -2.0, 1.0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_numerical_gradient(reduction, rng):
    loss = S.BCEWithLogitsLoss(rng.uniform(0.5, 2, (3, 4)), reduction=reduction,
                               pos_weight=rng.uniform(0.5, 3, 4))
    assert_numerical_grad(loss, 3 * rng.standard_normal((3, 4)), rng.random((3, 4)))


def test_bce_target_dtype_mismatch_refused_like_torch(rng):
    x = rng.uniform(0.1, 0.9, 3).astype(np.float32)
    y = rng.random(3)
    with pytest.raises(TypeError, match="target has dtype float64 but input has dtype float32"):
        S.BCELoss()(x, y)
    with pytest.raises(RuntimeError, match="Found dtype Double but expected Float"):
        T.BCELoss()(torch.tensor(x), torch.tensor(y))


@pytest.mark.parametrize("bad", [1.5, -0.1, np.nan])
def test_bce_input_outside_0_1_refused_like_torch(bad):
    x = np.array([0.5, bad])
    y = np.array([1.0, 0.0])
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\].*BCEWithLogitsLoss"):
        S.BCELoss()(x, y)
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        T.BCELoss()(torch.tensor(x), torch.tensor(y))


def test_bce_weight_that_does_not_broadcast_refused_like_torch(rng):
    x = rng.uniform(0.1, 0.9, (3, 2))
    y = rng.random((3, 2))
    with pytest.raises(ValueError, match=r"weight of shape \(3,\) does not broadcast"):
        S.BCELoss(np.ones(3))(x, y)
    with pytest.raises(RuntimeError):
        T.BCELoss(torch.ones(3, dtype=torch.float64))(torch.tensor(x), torch.tensor(y))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(3,\) does not broadcast"):
        S.BCEWithLogitsLoss(pos_weight=np.ones(3))(x, y)
    with pytest.raises(RuntimeError):
        T.BCEWithLogitsLoss(pos_weight=torch.ones(3, dtype=torch.float64))(torch.tensor(x), torch.tensor(y))


# -- refusals, one row per bad input (from test_reliability) ------------------------------------
BCE, BCEL, TBCE, TBCEL = S.BCELoss, S.BCEWithLogitsLoss, T.BCELoss, T.BCEWithLogitsLoss
P, F_OR_D, INT = "must be probabilities in [0, 1]", "must be float32 or float64", "got dtype int64"
ONE, TONE = np.ones(1, np.float32), torch.ones(1)


def half(*shape):
    return np.full(shape, 0.5, dtype=np.float32)


REFUSED = [
    refusal("BCELoss-input-above-1", lambda: BCE()(np.array([1.5], np.float32), ONE),
            lambda: TBCE()(torch.tensor([1.5]), TONE), ValueError, "BCELoss:", "input", P, "Sigmoid", "1.5"),
    refusal("BCELoss-input-negative", lambda: BCE()(np.array([-0.1], np.float32), ONE),
            lambda: TBCE()(torch.tensor([-0.1]), TONE), ValueError, "BCELoss:", "input", P, "-0.1"),
    refusal("BCELoss-input-nan", lambda: BCE()(np.array([np.nan], np.float32), ONE),
            lambda: TBCE()(torch.tensor([float("nan")]), TONE), ValueError, "BCELoss:", "input", P, "nan"),
    refusal("BCELoss-target-above-1", lambda: BCE()(half(2), np.array([1.5, 0], np.float32)),
            lambda: TBCE()(torch.full((2,), 0.5), torch.tensor([1.5, 0.0])),
            ValueError, "BCELoss:", "target", P, "1.5"),
    refusal("BCELoss-target-nan", lambda: BCE()(half(2), np.array([np.nan, 0], np.float32)),
            lambda: TBCE()(torch.full((2,), 0.5), torch.tensor([float("nan"), 0.0])),
            ValueError, "BCELoss:", "target", P, "nan"),
    refusal("BCELoss-target-shape", lambda: BCE()(half(4, 1), half(4)),
            lambda: TBCE()(torch.full((4, 1), 0.5), torch.full((4,), 0.5)),
            ValueError, "BCELoss:", "target must have the input's shape (4, 1)", "got (4,)"),
    refusal("BCELoss-int-target", lambda: BCE()(half(4), np.zeros(4, np.int64)),
            lambda: TBCE()(torch.full((4,), 0.5), tl(0, 0, 0, 0)),
            TypeError, "BCELoss:", "target " + F_OR_D, INT),
    refusal("BCEWithLogitsLoss-target-shape", lambda: BCEL()(f32(4, 1), f32(4)),
            lambda: TBCEL()(t32(4, 1), t32(4)), ValueError, "BCEWithLogitsLoss:",
            "target must have the input's shape (4, 1)", "got (4,)"),
    refusal("BCEWithLogitsLoss-int-target", lambda: BCEL()(f32(4), np.zeros(4, np.int64)),
            lambda: TBCEL()(t32(4), tl(0, 0, 0, 0)),
            TypeError, "BCEWithLogitsLoss:", "target " + F_OR_D, INT),
    refusal("BCEWithLogitsLoss-int-input", lambda: BCEL()(np.zeros(4, np.int64), f32(4)),
            lambda: TBCEL()(tl(0, 0, 0, 0), t32(4)),
            TypeError, "BCEWithLogitsLoss:", "input " + F_OR_D, INT),
    refusal("BCEWithLogitsLoss-pos_weight-shape",
            lambda: BCEL(pos_weight=np.ones(3, np.float32))(f32(4, 5), f32(4, 5)),
            lambda: TBCEL(pos_weight=torch.ones(3))(t32(4, 5), t32(4, 5)), ValueError, "BCEWithLogitsLoss:",
            "pos_weight of shape (3,)", "does not broadcast to the input's shape (4, 5)"),
]
test_scratch_refuses, test_torch_agrees = refusal_tests(REFUSED)


# -- numerics: extreme and non-finite inputs (from test_reliability) ----------------------------
def probabilities(dtype):
    info = np.finfo(dtype)
    return np.array([0, info.smallest_subnormal, 1e-30, 0.5, 1 - info.eps, 1], dtype=dtype)


@pytest.mark.parametrize("dtype", BOTH_DTYPES)
@pytest.mark.parametrize("target", [0.0, 1.0, 0.5])
def test_bce_with_logits_extreme_finite(target, dtype):
    x = extreme_vector(dtype)
    y = np.full(x.shape, target, dtype=dtype)
    result = assert_parity(BCEL(reduction="none"), TBCEL(reduction="none"), x, y, dtype=dtype)
    assert_finite(result)
    moderate = np.array([-1e4, -100, 0, 100, 1e4], dtype=dtype)
    result = assert_parity(BCEL(), TBCEL(), moderate, np.full(moderate.shape, target, dtype=dtype),
                           dtype=dtype)
    assert_finite(result)


@pytest.mark.parametrize("dtype", BOTH_DTYPES)
@pytest.mark.parametrize("reduction", ["none", "mean"])
@pytest.mark.parametrize("target", [0.0, 1.0, 0.5])
def test_bce_extreme_probabilities(target, reduction, dtype):
    """p = 0 and 1 exactly, a subnormal, 1 − eps: the logs clamp at −100, nothing is NaN."""
    p = probabilities(dtype)
    result = assert_parity(BCE(reduction=reduction), TBCE(reduction=reduction), p,
                           np.full(p.shape, target, dtype=dtype), dtype=dtype)
    assert_finite(result)


NONFINITE_CASES = [(f"BCEWithLogitsLoss-{side}-target-{target:g}", x, target)
                   for side, x in [("posinf", POSINF), ("neginf", NEGINF)] for target in (0.0, 0.5, 1.0)]


@pytest.mark.parametrize("dtype", BOTH_DTYPES)
@pytest.mark.parametrize(("x", "target"), [c[1:] for c in NONFINITE_CASES],
                         ids=[c[0] for c in NONFINITE_CASES])
def test_nan_and_inf_propagate_as_torch(x, target, dtype):
    assert_parity(BCEL(reduction="none"), TBCEL(reduction="none"), x, np.full(x.shape, target),
                  dtype=dtype)                                      # NaN positions compared too


# -- torch.nn compatibility: unbatched scalars, 0-d weights, what torch refuses ------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_of_one_unbatched_probability_as_torch(reduction):
    assert_parity(BCE(reduction=reduction), TBCE(reduction=reduction), np.array(0.3), np.array(1.0))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_0d_pos_weight_and_unbatched_logit_as_torch(reduction, rng):
    """A 0-d pos_weight weighs every class alike; a 0-d logit is one unbatched prediction."""
    pos_weight = np.array(2.5)
    assert_parity(BCEL(reduction=reduction, pos_weight=pos_weight),
                  TBCEL(reduction=reduction, pos_weight=torch.tensor(pos_weight)),
                  3 * rng.standard_normal((4, 3)), rng.random((4, 3)))
    assert_parity(BCEL(reduction=reduction), TBCEL(reduction=reduction), np.array(-1.5), np.array(0.25))


def test_weight_given_as_a_list_is_taken_where_torch_refuses_it():
    """A deliberate leniency: a list is how NumPy spells an array, so scratch converts it (to float32,
    as torch.tensor([1., 2.]) would be); torch's buffer takes a tensor only."""
    assert BCE([1.0, 2.0]).weight.dtype == np.float32
    with pytest.raises(TypeError, match="cannot assign 'list' object to buffer 'weight'"):
        TBCE(weight=[1.0, 2.0])


COMPATIBILITY = [
    refusal("BCELoss-weight-larger-than-input",
            lambda: BCE(weight=np.ones((4, 2, 3), np.float32))(half(2, 3), half(2, 3)),
            lambda: TBCE(weight=torch.ones(4, 2, 3))(torch.full((2, 3), 0.5), torch.full((2, 3), 0.5)),
            ValueError, "BCELoss:", "weight of shape (4, 2, 3)",
            "does not broadcast to the input's shape (2, 3)"),
    refusal("BCEWithLogitsLoss-pos_weight-on-a-0d-input",
            lambda: BCEL(pos_weight=np.ones(1, np.float32))(f32(), f32()),
            lambda: TBCEL(pos_weight=torch.ones(1))(t32(), t32()), ValueError,
            "BCEWithLogitsLoss:", "pos_weight of shape (1,)", "does not broadcast to the input's shape ()"),
    # torch casts a float64 weight to the float32 loss; scratch asks for one dtype, as for targets
    stricter("BCELoss-float64-weight-float32-input", lambda: BCE(weight=np.ones(2))(half(2), half(2)),
             lambda: TBCE(weight=torch.ones(2, dtype=torch.float64))(torch.full((2,), 0.5), torch.ones(2)),
             TypeError, "BCELoss:", "weight has dtype float64", "input has dtype float32"),
    stricter("BCEWithLogitsLoss-float64-pos_weight-float32-input",
             lambda: BCEL(pos_weight=np.ones(2))(f32(2), f32(2)),
             lambda: TBCEL(pos_weight=torch.ones(2, dtype=torch.float64))(t32(2), t32(2)),
             TypeError, "BCEWithLogitsLoss:", "pos_weight has dtype float64", "input has dtype float32"),
]
test_compatibility_scratch_refuses, test_compatibility_torch_agrees = refusal_tests(COMPATIBILITY)
