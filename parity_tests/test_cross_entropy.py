"""Cross-entropy: scratch/cross_entropy.py against torch_ref/cross_entropy.py (torch.nn.NLLLoss,
torch.nn.CrossEntropyLoss)."""

import warnings

import numpy as np
import pytest
import torch

from parity_tests.helpers import (
    BIG,
    CLASS_SHAPES,
    NONFINITE_ROWS,
    REDUCTIONS,
    TIERS,
    as_tensor,
    assert_dtype_kept,
    assert_finite,
    assert_numerical_grad,
    assert_parity,
    class_case,
    extreme_rows,
    f32,
    f64,
    i64,
    refusal,
    refusal_tests,
    stricter,
    t32,
    tl,
)
from parity_tests.helpers import DTYPES as BOTH_DTYPES
from scratch import cross_entropy as S
from torch_ref import cross_entropy as T


# -- CrossEntropyLoss ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", TIERS)
@pytest.mark.parametrize("shape", CLASS_SHAPES)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.15])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [None, -100, 2])   # None: no target is ignored
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_parity(reduction, ignore_index, weighted, label_smoothing, shape, dtype, rng):
    x, target, weight = class_case(rng, shape, ignore_index)
    kwargs = {"reduction": reduction, "label_smoothing": label_smoothing}
    if ignore_index is not None:
        kwargs["ignore_index"] = ignore_index
    weight = weight if weighted else None
    result = assert_parity(S.CrossEntropyLoss(weight, **kwargs),
                           T.CrossEntropyLoss(as_tensor(weight), **kwargs), x, target, dtype=dtype)
    assert_dtype_kept(result, dtype)


@pytest.mark.parametrize("dtype", TIERS)
@pytest.mark.parametrize("shape", CLASS_SHAPES)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probability_targets_parity(reduction, weighted, label_smoothing, shape, dtype, rng):
    """Float targets of the input's shape are class probabilities, as in torch."""
    x, _, weight = class_case(rng, shape, None)
    class_dim = 0 if len(shape) == 1 else 1
    p = rng.random(shape)
    p /= p.sum(axis=class_dim, keepdims=True)
    weight = weight if weighted else None
    kwargs = {"reduction": reduction, "label_smoothing": label_smoothing}
    result = assert_parity(S.CrossEntropyLoss(weight, **kwargs),
                           T.CrossEntropyLoss(as_tensor(weight), **kwargs), x, p, dtype=dtype)
    assert_dtype_kept(result, dtype)


@pytest.mark.parametrize("dtype", TIERS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_extreme_logits(reduction, dtype, rng):
    x = rng.uniform(-1e4, 1e4, (6, 5))
    x[0] = [1e4, -1e4, 0.0, 1e4, -1e4]          # a tie at the top, and the target far below it
    x[1] = [-1e4, -1e4, -1e4, -1e4, -1e4]
    target = np.array([1, 3, 0, 4, 2, 1])
    kwargs = {"reduction": reduction, "label_smoothing": 0.1}
    result = assert_parity(S.CrossEntropyLoss(**kwargs), T.CrossEntropyLoss(**kwargs), x, target, dtype=dtype)
    assert np.isfinite(result["out"]).all()


def test_cross_entropy_is_exact_where_the_tutorial_caps_at_18(rng):
    """logits (1e4, 0, −1e4), target 2: L = logsumexp − x₂ = 1e4 + log(1 + e⁻¹ᵉ⁴ + e⁻²ᵉ⁴) + 1e4
    = 2e4 exactly in float64. The tutorials' −log(softmax(x)[2] + 1e-8) gives −log 1e-8 ≈ 18.42."""
    x = np.array([[1e4, 0.0, -1e4]])
    loss = S.CrossEntropyLoss()(x, np.array([2]))
    assert loss == 2e4
    p = np.exp(x - x.max()) / np.exp(x - x.max()).sum()
    assert np.isclose(-np.log(p[0, 2] + 1e-8), -np.log(1e-8))


def test_cross_entropy_weighted_mean_with_label_smoothing_by_hand():
    """Zero logits over C = 3 classes: log p = −log 3 everywhere. weight (1, 2, 3),
    targets (0, 0, ignored), ε = 0.3:
      NLL part:     Σ w[y] log 3 / Σ w[y] = (1 + 1) log 3 / 2 = log 3
      uniform part: Σ_kept Σ_c w[c] log 3 / Σ w[y] = 2 · 6 log 3 / 2 = 6 log 3
      L = (1 − ε) log 3 + (ε / C) · 6 log 3 = (1 + ε) log 3
    The uniform part uses the weight of *every* class and the denominator Σ w[y] of NLLLoss."""
    x = np.zeros((3, 3))
    target = np.array([0, 0, -100])
    weight = np.array([1.0, 2.0, 3.0])
    loss = S.CrossEntropyLoss(weight, label_smoothing=0.3)(x, target)
    np.testing.assert_allclose(loss, 1.3 * np.log(3), rtol=1e-15)
    torch_loss = T.CrossEntropyLoss(torch.tensor(weight), label_smoothing=0.3)(
        torch.tensor(x), torch.tensor(target))
    np.testing.assert_allclose(torch_loss.item(), 1.3 * np.log(3), rtol=1e-15)


@pytest.mark.parametrize(("reduction", "scale"), [("sum", 1.0), ("mean", 1 / 4)])
def test_cross_entropy_gradient_is_p_minus_y_only_when_unweighted(reduction, scale, rng):
    """∂L/∂x = (p − onehot(y)) for 'sum', (p − onehot(y)) / N for 'mean'."""
    x = rng.standard_normal((4, 5))
    target = np.array([0, 4, 2, 2])
    loss = S.CrossEntropyLoss(reduction=reduction)
    loss(x, target)
    p = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(loss.backward(), scale * (p - np.eye(5)[target]), rtol=1e-12, atol=1e-15)


def test_cross_entropy_all_targets_ignored_gives_nan_and_zero_gradient():
    """Σ w[y] = 0: torch returns NaN for the mean and a zero input gradient; so do we."""
    x = np.arange(6.0).reshape(2, 3)
    target = np.array([-100, -100])
    for smoothing in (0.0, 0.1):
        assert_parity(S.CrossEntropyLoss(label_smoothing=smoothing),
                      T.CrossEntropyLoss(label_smoothing=smoothing), x, target)
        loss = S.CrossEntropyLoss(label_smoothing=smoothing)
        assert np.isnan(loss(x, target))
        assert not loss.backward().any()


@pytest.mark.parametrize("label_smoothing", [0.0, 0.25])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 2), (3,)])
def test_cross_entropy_numerical_gradient(shape, reduction, label_smoothing, rng):
    x, target, weight = class_case(rng, shape, -100 if len(shape) > 1 else None)
    loss = S.CrossEntropyLoss(weight, reduction=reduction, label_smoothing=label_smoothing)
    assert_numerical_grad(loss, x, target)


def test_cross_entropy_probability_targets_numerical_gradient(rng):
    x, _, weight = class_case(rng, (4, 3), None)
    p = rng.dirichlet(np.ones(3), size=4)
    assert_numerical_grad(S.CrossEntropyLoss(weight, label_smoothing=0.1), x, p)


def test_label_smoothing_outside_0_1_refused():
    """torch documents [0, 1] but checks only the upper end: −0.1 passes there and sharpens the
    target instead of smoothing it. We refuse both ends, when the loss is built."""
    for smoothing in (-0.1, 1.5):
        with pytest.raises(ValueError, match=r"label_smoothing must be a number in \[0, 1\]"):
            S.CrossEntropyLoss(label_smoothing=smoothing)
    x, target = torch.randn(2, 3), torch.tensor([0, 1])
    with pytest.raises(RuntimeError, match=r"label_smoothing must be between 0\.0 and 1\.0"):
        T.CrossEntropyLoss(label_smoothing=1.5)(x, target)
    T.CrossEntropyLoss(label_smoothing=-0.1)(x, target)          # no error in torch


def test_cross_entropy_0d_input_refused_like_torch():
    with pytest.raises(ValueError, match="0-d"):
        S.CrossEntropyLoss()(np.array(1.0), np.array(0))
    with pytest.raises(RuntimeError):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            T.CrossEntropyLoss()(torch.tensor(1.0), torch.tensor(0))


# -- refusals, one row per bad input (from test_reliability) ------------------------------------
CE, NLL = S.CrossEntropyLoss, S.NLLLoss
TCE, TNLL = T.CrossEntropyLoss, T.NLLLoss
REFUSED = [
    refusal("CrossEntropyLoss-class-out-of-range", lambda: CE()(f32(2, 3), i64(0, 3)),
            lambda: TCE()(t32(2, 3), tl(0, 3)), ValueError,
            "CrossEntropyLoss:", "target holds class index 3, out of range", "the input has 3 classes",
            "targets must be in [0, 2]"),
    refusal("CrossEntropyLoss-negative-class", lambda: CE()(f32(2, 3), i64(0, -1)),
            lambda: TCE()(t32(2, 3), tl(0, -1)), ValueError,
            "CrossEntropyLoss:", "class index -1, out of range"),
    refusal("CrossEntropyLoss-float-class-target",
            lambda: CE()(f32(2, 3), np.array([0.0, 1.0], np.float32)),
            lambda: TCE()(t32(2, 3), torch.tensor([0.0, 1.0])), TypeError,
            "CrossEntropyLoss:", "target must hold class indices as int64 (or uint8)", "got dtype float32"),
    refusal("CrossEntropyLoss-int32-target", lambda: CE()(f32(2, 3), np.array([0, 1], np.int32)),
            lambda: TCE()(t32(2, 3), torch.tensor([0, 1], dtype=torch.int32)), TypeError,
            "CrossEntropyLoss:", "class indices as int64", "got dtype int32"),
    refusal("CrossEntropyLoss-target-N-by-1", lambda: CE()(f32(2, 3), i64(0, 1)[:, None]),
            lambda: TCE()(t32(2, 3), tl(0, 1)[:, None]), ValueError,
            "CrossEntropyLoss:", "for input of shape (2, 3)", "target must have shape (N, d1, …) = (2,)",
            "got (2, 1)"),
    refusal("CrossEntropyLoss-batch-mismatch", lambda: CE()(f32(2, 3), i64(0, 1, 2)),
            lambda: TCE()(t32(2, 3), tl(0, 1, 2)), ValueError,
            "CrossEntropyLoss:", "for input of shape (2, 3)", "target must have shape", "got (3,)"),
    refusal("CrossEntropyLoss-weight-size",
            lambda: CE(weight=np.ones(4, np.float32))(f32(2, 3), i64(0, 1)),
            lambda: TCE(weight=torch.ones(4))(t32(2, 3), tl(0, 1)), ValueError,
            "CrossEntropyLoss:", "weight must have one entry per class", "shape (3,)", "got (4,)"),
    refusal("CrossEntropyLoss-label_smoothing-above-1", lambda: CE(label_smoothing=1.5),
            lambda: TCE(label_smoothing=1.5)(t32(2, 3), tl(0, 1)), ValueError,
            "CrossEntropyLoss:", "label_smoothing must be a number in [0, 1]", "got 1.5"),
    refusal("CrossEntropyLoss-0d-input", lambda: CE()(f32(), np.array(0)),
            lambda: TCE()(t32(), torch.tensor(0)), ValueError,
            "CrossEntropyLoss:", "input must be (C,), (N, C) or (N, C, d1, …)", "got a 0-d array"),
    refusal("CrossEntropyLoss-int-logits", lambda: CE()(np.zeros((2, 3), np.int64), i64(0, 1)),
            lambda: TCE()(torch.zeros(2, 3, dtype=torch.long), tl(0, 1)), TypeError,
            "CrossEntropyLoss:", "input must be float32 or float64", "got dtype int64"),
    refusal("CrossEntropyLoss-ignore_index-float", lambda: CE(ignore_index=1.5),
            lambda: TCE(ignore_index=1.5)(t32(2, 3), tl(0, 1)), TypeError,
            "CrossEntropyLoss:", "ignore_index must be an int", "got 1.5"),
    # torch accepts these (promoting, or sharpening the target); scratch refuses on purpose
    stricter("CrossEntropyLoss-float64-probabilities-float32-logits",
             lambda: CE()(f32(2, 3), f64(2, 3)),
             lambda: TCE()(t32(2, 3), torch.zeros(2, 3, dtype=torch.float64)), TypeError,
             "CrossEntropyLoss:", "target has dtype float64", "input has dtype float32"),
    stricter("CrossEntropyLoss-negative-label_smoothing", lambda: CE(label_smoothing=-0.1),
             lambda: TCE(label_smoothing=-0.1)(t32(2, 3), tl(0, 1)), ValueError,
             "CrossEntropyLoss:", "label_smoothing must be a number in [0, 1]", "got -0.1"),
]
test_scratch_refuses, test_torch_agrees = refusal_tests(REFUSED)


# -- numerics: extreme and non-finite logits (from test_reliability) ----------------------------
@pytest.mark.parametrize("dtype", BOTH_DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_extreme_finite(reduction, dtype):
    target = i64(0, 1, 2, 0, 1)      # every loss finite: ≤ 2e4, or big + log 2 for row 3's class 2
    result = assert_parity(CE(reduction=reduction), TCE(reduction=reduction),
                           extreme_rows(dtype), target, dtype=dtype)
    assert_finite(result)
    assert np.isfinite(result["out"]).all()


# scores whose spread exceeds the dtype's range: x − max(x) overflows to −inf, where e^(x − max)
# is 0 anyway; torch gives −inf and 0 there without complaint.
@pytest.mark.parametrize("dtype", BOTH_DTYPES)
def test_cross_entropy_scores_spanning_the_range(dtype):
    big = BIG[dtype]
    x = np.array([[big, -big, 0], [-big, big, 1]], dtype=dtype)
    result = assert_parity(CE(reduction="none"), TCE(reduction="none"),
                           x, i64(0, 2), dtype=dtype)          # losses 0 and big − 1: finite
    assert_finite(result)


@pytest.mark.parametrize("dtype", BOTH_DTYPES)
@pytest.mark.parametrize(("scratch", "reference"), [(CE, TCE), (NLL, TNLL)],
                         ids=["CrossEntropyLoss", "NLLLoss"])
def test_nan_and_inf_propagate_as_torch(scratch, reference, dtype):
    assert_parity(scratch(reduction="none"), reference(reduction="none"),
                  NONFINITE_ROWS, i64(0, 1, 0, 2, 1, 1), dtype=dtype)     # NaN positions compared too


# -- torch.nn compatibility: argument forms, targets torch takes, what it refuses ----------------
@pytest.mark.parametrize("label_smoothing", [np.float32(0.25), 1], ids=["numpy-float32", "int-1"])
def test_label_smoothing_as_numpy_float_or_int_like_torch(label_smoothing, rng):
    x, target, _ = class_case(rng, (5, 4), None)
    assert_parity(CE(label_smoothing=label_smoothing), TCE(label_smoothing=label_smoothing), x, target)


def test_negative_ignore_index_is_unused_with_probability_targets_like_torch(rng):
    """torch refuses ignore_index ≥ 0 with class probabilities and lets a negative one pass, unused."""
    x, p = rng.standard_normal((3, 4)), rng.dirichlet(np.ones(4), size=3)
    assert_parity(CE(ignore_index=-1), TCE(ignore_index=-1), x, p)


COMPATIBILITY = [
    refusal("CrossEntropyLoss-ignore_index-with-probabilities",
            lambda: CE(ignore_index=1)(f32(2, 3), f32(2, 3)),
            lambda: TCE(ignore_index=1)(t32(2, 3), t32(2, 3)), ValueError,
            "CrossEntropyLoss:", "ignore_index=1 is not supported with class-probability targets"),
    refusal("CrossEntropyLoss-ignore_index-0-with-probabilities",
            lambda: CE(ignore_index=0)(f32(2, 3), f32(2, 3)),
            lambda: TCE(ignore_index=0)(t32(2, 3), t32(2, 3)), ValueError,
            "CrossEntropyLoss:", "ignore_index=0 is not supported", "ignore_index >= 0"),
    refusal("CrossEntropyLoss-ignore_index-beyond-int64", lambda: CE(ignore_index=2**63),
            lambda: TCE(ignore_index=2**63)(t32(2, 3), tl(0, 1)), ValueError,
            "CrossEntropyLoss:", "ignore_index must fit in int64", "got 9223372036854775808"),
    refusal("CrossEntropyLoss-reduction-None", lambda: CE(reduction=None),
            lambda: TCE(reduction=None)(t32(2, 3), tl(0, 1)), ValueError,
            "CrossEntropyLoss:", "reduction must be 'none', 'mean' or 'sum'", "got None"),
    # torch reads True as 1.0 and NaN as no smoothing at all; both are refused here
    stricter("CrossEntropyLoss-label_smoothing-bool", lambda: CE(label_smoothing=True),
             lambda: TCE(label_smoothing=True)(t32(2, 3), tl(0, 1)), ValueError,
             "CrossEntropyLoss:", "label_smoothing must be a number in [0, 1]", "got True"),
    stricter("CrossEntropyLoss-label_smoothing-nan", lambda: CE(label_smoothing=float("nan")),
             lambda: TCE(label_smoothing=float("nan"))(t32(2, 3), tl(0, 1)), ValueError,
             "CrossEntropyLoss:", "label_smoothing must be a number in [0, 1]", "got nan"),
    # zero classes: torch returns 0 or NaN (every class-index target must then be ignored)
    stricter("CrossEntropyLoss-no-classes", lambda: CE()(f32(2, 0), f32(2, 0)),
             lambda: TCE()(t32(2, 0), t32(2, 0)), ValueError,
             "CrossEntropyLoss:", "input has no classes (C = 0)", "shape (2, 0)"),
]
test_compatibility_scratch_refuses, test_compatibility_torch_agrees = refusal_tests(COMPATIBILITY)
