"""Losses: scratch/losses.py against torch_ref/losses.py (torch.nn losses)."""

import warnings

import numpy as np
import pytest
import torch

from parity_tests.helpers import assert_close, assert_numerical_grad, assert_parity
from scratch import losses as S
from torch_ref import losses as T

DTYPES = [np.float64, np.float32]
REDUCTIONS = ["none", "mean", "sum"]
# input shapes of the class losses: (N, C), (N, C, d1, d2), unbatched (C,), batch of 1
CLASS_SHAPES = [(5, 4), (2, 4, 3, 2), (4,), (1, 3)]



def _tensor(array):
    return None if array is None else torch.tensor(array)


def _assert_dtype(result, dtype):
    """float32 in, float32 out: no float64 temporaries leaked into the result."""
    assert result["out"].dtype == dtype
    assert result["grads"][0].dtype == dtype


def _class_case(rng, shape, ignore):
    """Logits, class-index targets (some set to ``ignore``, if given) and per-class weights."""
    n_classes = shape[0] if len(shape) == 1 else shape[1]
    target_shape = () if len(shape) == 1 else shape[:1] + shape[2:]
    target = rng.integers(0, n_classes, target_shape)
    if ignore is not None:
        # at least one ignored and one kept target wherever there are two
        mask = rng.random(target_shape) < 0.4
        mask.flat[0] = True
        if mask.size > 1:
            mask.flat[-1] = False
        target = np.where(mask, ignore, target)
    return 3 * rng.standard_normal(shape), target, rng.uniform(0.5, 2.0, n_classes)


# -- CrossEntropyLoss ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", CLASS_SHAPES)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.15])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [None, -100, 2])   # None: no target is ignored
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_parity(reduction, ignore_index, weighted, label_smoothing, shape, dtype, rng):
    x, target, weight = _class_case(rng, shape, ignore_index)
    kwargs = {"reduction": reduction, "label_smoothing": label_smoothing}
    if ignore_index is not None:
        kwargs["ignore_index"] = ignore_index
    weight = weight if weighted else None
    result = assert_parity(S.CrossEntropyLoss(weight, **kwargs),
                           T.CrossEntropyLoss(_tensor(weight), **kwargs), x, target, dtype=dtype)
    _assert_dtype(result, dtype)


@pytest.mark.parametrize("cls", ["CrossEntropyLoss", "NLLLoss"])
def test_uint8_class_targets_accepted_like_torch(cls, rng):
    x = rng.standard_normal((4, 3))
    target = np.array([0, 2, 1, 1], dtype=np.uint8)
    assert_parity(getattr(S, cls)(ignore_index=1), getattr(T, cls)(ignore_index=1), x, target)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", CLASS_SHAPES)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probability_targets_parity(reduction, weighted, label_smoothing, shape, dtype, rng):
    """Float targets of the input's shape are class probabilities, as in torch."""
    x, _, weight = _class_case(rng, shape, None)
    class_dim = 0 if len(shape) == 1 else 1
    p = rng.random(shape)
    p /= p.sum(axis=class_dim, keepdims=True)
    weight = weight if weighted else None
    kwargs = {"reduction": reduction, "label_smoothing": label_smoothing}
    result = assert_parity(S.CrossEntropyLoss(weight, **kwargs),
                           T.CrossEntropyLoss(_tensor(weight), **kwargs), x, p, dtype=dtype)
    _assert_dtype(result, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
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
    x, target, weight = _class_case(rng, shape, -100 if len(shape) > 1 else None)
    loss = S.CrossEntropyLoss(weight, reduction=reduction, label_smoothing=label_smoothing)
    assert_numerical_grad(loss, x, target)


def test_cross_entropy_probability_targets_numerical_gradient(rng):
    x, _, weight = _class_case(rng, (4, 3), None)
    p = rng.dirichlet(np.ones(3), size=4)
    assert_numerical_grad(S.CrossEntropyLoss(weight, label_smoothing=0.1), x, p)


# -- NLLLoss ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", CLASS_SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [None, -100, 1])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_parity(reduction, ignore_index, weighted, shape, dtype, rng):
    x, target, weight = _class_case(rng, shape, ignore_index)
    kwargs = {"reduction": reduction}
    if ignore_index is not None:
        kwargs["ignore_index"] = ignore_index
    weight = weight if weighted else None
    result = assert_parity(S.NLLLoss(weight, **kwargs), T.NLLLoss(_tensor(weight), **kwargs), x, target,
                           dtype=dtype)
    _assert_dtype(result, dtype)


def test_nll_weighted_mean_by_hand():
    """L = Σ w[yᵢ] (−xᵢ,yᵢ) / Σ w[yᵢ] over the kept targets: (1·1 + 3·2) / (1 + 3) = 7/4."""
    x = -np.array([[1.0, 5.0, 9.0], [9.0, 9.0, 2.0], [7.0, 7.0, 7.0]])
    loss = S.NLLLoss(np.array([1.0, 2.0, 3.0]))
    assert loss(x, np.array([0, 2, -100])) == 7 / 4
    # ∂L/∂xᵢ,c = −w[yᵢ] 1[c = yᵢ] / Σ w[y]
    np.testing.assert_array_equal(loss.backward(), [[-0.25, 0, 0], [0, 0, -0.75], [0, 0, 0]])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_numerical_gradient(reduction, rng):
    x, target, weight = _class_case(rng, (2, 3, 2), -100)
    assert_numerical_grad(S.NLLLoss(weight, reduction=reduction), x, target)


# -- MSELoss ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (1,), (5,), (4, 3), (2, 3, 4, 5)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_parity(reduction, shape, dtype, rng):
    result = assert_parity(S.MSELoss(reduction=reduction), T.MSELoss(reduction=reduction),
                           rng.standard_normal(shape), rng.standard_normal(shape), dtype=dtype)
    _assert_dtype(result, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_mse_extreme_inputs(dtype, rng):
    x = rng.uniform(-1e4, 1e4, (4, 3))
    assert_parity(S.MSELoss(), T.MSELoss(), x, -x, dtype=dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_numerical_gradient(reduction, rng):
    assert_numerical_grad(S.MSELoss(reduction=reduction), rng.standard_normal((3, 4)),
                          rng.standard_normal((3, 4)))


# -- BCELoss ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1,), (6,), (4, 3), (2, 3, 4)])
@pytest.mark.parametrize("weight", [None, "full", "per-column"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_parity(reduction, weight, shape, dtype, rng):
    weight = {None: None, "full": rng.uniform(0.5, 2, shape),
              "per-column": rng.uniform(0.5, 2, shape[-1:])}[weight]
    x = rng.uniform(0.01, 0.99, shape)
    y = rng.random(shape)                     # soft targets are allowed, as in torch
    result = assert_parity(S.BCELoss(weight, reduction=reduction),
                           T.BCELoss(_tensor(weight), reduction=reduction), x, y, dtype=dtype)
    _assert_dtype(result, dtype)


BOUNDARY_X = np.array([0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1e-45, 1e-30, 0.5])
BOUNDARY_Y = np.array([0.0, 1.0, 0.0, 1.0, 0.3, 0.6, 1.0, 1.0, 0.2])


@pytest.mark.parametrize("dtype", DTYPES)
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
@pytest.mark.parametrize("dtype", DTYPES)
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
                           T.BCEWithLogitsLoss(_tensor(weight), pos_weight=_tensor(pos_weight), **kwargs),
                           3 * rng.standard_normal(shape), rng.random(shape), dtype=dtype)
    _assert_dtype(result, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pos_weight", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_extreme_logits(reduction, pos_weight, dtype, rng):
    x = np.array([[1e4, -1e4, 1e4, -1e4, 50.0, -50.0], [-1e4, 1e4, 0.0, 3.0, -1e4, 1e4]])
    y = np.array([[1.0, 0.0, 0.0, 1.0, 0.5, 0.5], [0.0, 1.0, 1.0, 0.0, 0.2, 0.9]])
    pos_weight = np.linspace(0.5, 3, 6) if pos_weight else None
    result = assert_parity(S.BCEWithLogitsLoss(reduction=reduction, pos_weight=pos_weight),
                           T.BCEWithLogitsLoss(reduction=reduction, pos_weight=_tensor(pos_weight)),
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


# -- what every loss returns --------------------------------------------------------------------
LOSSES = [
    ("MSELoss", S.MSELoss, lambda rng: (rng.standard_normal(3), rng.standard_normal(3))),
    ("BCELoss", S.BCELoss, lambda rng: (rng.uniform(0.1, 0.9, 3), rng.random(3))),
    ("BCEWithLogitsLoss", S.BCEWithLogitsLoss, lambda rng: (rng.standard_normal(3), rng.random(3))),
    ("CrossEntropyLoss", S.CrossEntropyLoss, lambda rng: (rng.standard_normal((3, 4)), np.array([0, 3, 1]))),
    ("NLLLoss", S.NLLLoss, lambda rng: (rng.standard_normal((3, 4)), np.array([0, 3, 1]))),
]
LOSS_IDS = [name for name, _, _ in LOSSES]


@pytest.mark.parametrize("dtype", DTYPES)
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
    torch_loss = getattr(T, name)(reduction="none")(
        torch.tensor(x, requires_grad=True), torch.tensor(target))
    with pytest.raises(RuntimeError, match="scalar outputs"):
        torch_loss.backward()


@pytest.mark.parametrize(("name", "cls", "make"), LOSSES, ids=LOSS_IDS)
def test_invalid_reduction_refused_like_torch(name, cls, make, rng):
    with pytest.raises(ValueError, match=r"reduction must be 'none', 'mean' or 'sum', got 'avg'"):
        cls(reduction="avg")
    x, target = make(rng)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        getattr(T, name)(reduction="avg")(torch.tensor(x), torch.tensor(target))


def test_deprecated_positional_arguments_are_refused():
    """torch.nn.MSELoss('sum') binds 'sum' to the deprecated size_average; here it is an error."""
    with pytest.raises(TypeError):
        S.MSELoss("sum")
    with pytest.raises(TypeError):
        S.CrossEntropyLoss(None, None, -100)


# -- refusals: bad targets ----------------------------------------------------------------------
@pytest.mark.parametrize("cls", ["CrossEntropyLoss", "NLLLoss"])
@pytest.mark.parametrize("bad", [4, -1, 7])
def test_class_index_out_of_range_refused_like_torch(cls, bad, rng):
    x = rng.standard_normal((3, 4))
    target = np.array([0, bad, 2])
    with pytest.raises(ValueError, match=rf"class index {bad}, out of range.*\[0, 3\].*ignore_index=-100"):
        getattr(S, cls)()(x, target)
    with pytest.raises(IndexError, match=f"Target {bad} is out of bounds"):
        getattr(T, cls)()(torch.tensor(x), torch.tensor(target))


@pytest.mark.parametrize("cls", ["CrossEntropyLoss", "NLLLoss"])
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.bool_])
def test_class_targets_must_be_int64_like_torch(cls, dtype, rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    target = np.array([0, 1, 1]).astype(dtype)
    with pytest.raises(TypeError, match=rf"class indices as int64.*got dtype {np.dtype(dtype)}"):
        getattr(S, cls)()(x, target)
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte"):
        getattr(T, cls)()(torch.tensor(x), torch.tensor(target))


@pytest.mark.parametrize("cls", ["CrossEntropyLoss", "NLLLoss"])
@pytest.mark.parametrize(("shape", "target_shape"), [((3, 4), (2,)), ((2, 4, 3), (2, 4)), ((2, 4, 3), (2,))])
def test_class_target_shape_mismatch_refused_like_torch(cls, shape, target_shape, rng):
    x = rng.standard_normal(shape)
    target = np.zeros(target_shape, dtype=np.int64)
    with pytest.raises(ValueError, match=r"target must have shape \(N, d1, …\)"):
        getattr(S, cls)()(x, target)
    with pytest.raises((ValueError, RuntimeError)):
        getattr(T, cls)()(torch.tensor(x), torch.tensor(target))


@pytest.mark.parametrize("cls", ["CrossEntropyLoss", "NLLLoss"])
def test_class_weight_of_wrong_size_or_dtype_refused_like_torch(cls, rng):
    x = rng.standard_normal((3, 4))
    target = np.array([0, 1, 2])
    with pytest.raises(ValueError, match=r"one entry per class, shape \(4,\), got \(3,\)"):
        getattr(S, cls)(np.ones(3))(x, target)
    with pytest.raises(RuntimeError, match="weight tensor should be defined"):
        getattr(T, cls)(torch.ones(3, dtype=torch.float64))(torch.tensor(x), torch.tensor(target))
    with pytest.raises(TypeError, match="weight has dtype float32 but input has dtype float64"):
        getattr(S, cls)(np.ones(4, dtype=np.float32))(x, target)
    with pytest.raises(RuntimeError, match="expected scalar type Double but found Float"):
        getattr(T, cls)(torch.ones(4))(torch.tensor(x), torch.tensor(target))


@pytest.mark.parametrize("name", ["MSELoss", "BCELoss", "BCEWithLogitsLoss"])
def test_float_target_shape_mismatch_refused(name, rng):
    """(N, 1) against (N,): torch's BCE losses refuse; MSELoss only warns and broadcasts to an
    (N, N) loss, a silent bug that we refuse."""
    x = rng.uniform(0.1, 0.9, (4, 1))
    y = rng.random(4)
    with pytest.raises(ValueError, match=r"target must have the input's shape \(4, 1\), got \(4,\)"):
        getattr(S, name)()(x, y)
    if name == "MSELoss":
        with pytest.warns(UserWarning, match="different to the input size"):
            T.MSELoss()(torch.tensor(x), torch.tensor(y))
    else:
        with pytest.raises(ValueError, match="size"):
            getattr(T, name)()(torch.tensor(x), torch.tensor(y))


def test_bce_target_dtype_mismatch_refused_like_torch(rng):
    x = rng.uniform(0.1, 0.9, 3).astype(np.float32)
    y = rng.random(3)
    with pytest.raises(TypeError, match="target has dtype float64 but input has dtype float32"):
        S.BCELoss()(x, y)
    with pytest.raises(RuntimeError, match="Found dtype Double but expected Float"):
        T.BCELoss()(torch.tensor(x), torch.tensor(y))


@pytest.mark.parametrize("name", ["MSELoss", "BCEWithLogitsLoss"])
def test_target_dtype_mismatch_refused_where_torch_promotes(name, rng):
    """A deliberate difference: torch promotes a float32 input with a float64 target to float64
    silently (the float64 leak this project avoids); we ask for a conversion."""
    x = rng.standard_normal(3).astype(np.float32)
    y = rng.random(3)
    with pytest.raises(TypeError, match="target has dtype float64 but input has dtype float32"):
        getattr(S, name)()(x, y)
    assert getattr(T, name)()(torch.tensor(x), torch.tensor(y)).dtype == torch.float64


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
        getattr(S, name)()(x, target)
    with pytest.raises((RuntimeError, NotImplementedError)):
        getattr(T, name)()(torch.tensor(x), torch.tensor(target))


def test_mse_integer_input_refused_where_torch_promotes():
    """A deliberate difference: torch computes MSE of integer tensors; scratch layers take
    float32/float64 only."""
    x, y = np.array([1, 0, 1]), np.array([1.0, 0.0, 0.0], dtype=np.float32)
    with pytest.raises(TypeError, match="MSELoss: input must be float32 or float64"):
        S.MSELoss()(x, y)
    T.MSELoss()(torch.tensor(x), torch.tensor(y))


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


def test_weights_are_buffers_with_torch_keys():
    torch_keys = set(T.CrossEntropyLoss(torch.ones(3)).state_dict())
    assert set(S.CrossEntropyLoss(np.ones(3)).state_dict()) == torch_keys == {"weight"}
    assert not S.CrossEntropyLoss().state_dict()
    both = S.BCEWithLogitsLoss(np.ones(3), pos_weight=np.ones(3))
    assert set(both.state_dict()) == {"weight", "pos_weight"}
    assert S.BCELoss([1.0, 2.0]).weight.dtype == np.float32          # as torch.tensor([1., 2.])
    assert_close(S.NLLLoss(torch.ones(2)).weight, torch.ones(2), "weight from a torch tensor")
