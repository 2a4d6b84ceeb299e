"""NLLLoss, and the class-index targets both class losses take: scratch/cross_entropy.py against
torch_ref/cross_entropy.py (torch.nn.NLLLoss, torch.nn.CrossEntropyLoss)."""

import numpy as np
import pytest
import torch

from parity_tests.helpers import (
    CLASS_SHAPES,
    REDUCTIONS,
    TIERS,
    as_tensor,
    assert_dtype_kept,
    assert_numerical_grad,
    assert_parity,
    class_case,
    f32,
    i64,
    refusal,
    refusal_tests,
    stricter,
    t32,
    tl,
)
from scratch import cross_entropy as S
from torch_ref import cross_entropy as T

CE, NLL, TCE, TNLL = S.CrossEntropyLoss, S.NLLLoss, T.CrossEntropyLoss, T.NLLLoss


# -- NLLLoss ------------------------------------------------------------------------------------
# -- NLLLoss ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", TIERS)
@pytest.mark.parametrize("shape", CLASS_SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [None, -100, 1])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_parity(reduction, ignore_index, weighted, shape, dtype, rng):
    x, target, weight = class_case(rng, shape, ignore_index)
    kwargs = {"reduction": reduction}
    if ignore_index is not None:
        kwargs["ignore_index"] = ignore_index
    weight = weight if weighted else None
    result = assert_parity(S.NLLLoss(weight, **kwargs), T.NLLLoss(as_tensor(weight), **kwargs), x, target,
                           dtype=dtype)
    assert_dtype_kept(result, dtype)


def test_nll_weighted_mean_by_hand():
    """L = Σ w[yᵢ] (−xᵢ,yᵢ) / Σ w[yᵢ] over the kept targets: (1·1 + 3·2) / (1 + 3) = 7/4."""
    x = -np.array([[1.0, 5.0, 9.0], [9.0, 9.0, 2.0], [7.0, 7.0, 7.0]])
    loss = S.NLLLoss(np.array([1.0, 2.0, 3.0]))
    assert loss(x, np.array([0, 2, -100])) == 7 / 4
    # ∂L/∂xᵢ,c = −w[yᵢ] 1[c = yᵢ] / Σ w[y]
    np.testing.assert_array_equal(loss.backward(), [[-0.25, 0, 0], [0, 0, -0.75], [0, 0, 0]])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_numerical_gradient(reduction, rng):
    x, target, weight = class_case(rng, (2, 3, 2), -100)
    assert_numerical_grad(S.NLLLoss(weight, reduction=reduction), x, target)


# -- class-index targets, in both class losses --------------------------------------------------
@pytest.mark.parametrize("cls", ["CrossEntropyLoss", "NLLLoss"])
def test_uint8_class_targets_accepted_like_torch(cls, rng):
    x = rng.standard_normal((4, 3))
    target = np.array([0, 2, 1, 1], dtype=np.uint8)
    assert_parity(getattr(S, cls)(ignore_index=1), getattr(T, cls)(ignore_index=1), x, target)


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


# -- torch.nn compatibility: the argument forms and targets torch takes --------------------------
IGNORE_FORMS = [("CrossEntropyLoss", np.int64(2)), ("NLLLoss", np.int64(2)), ("CrossEntropyLoss", 2**62),
                ("NLLLoss", -(2**63))]


@pytest.mark.parametrize(("cls", "ignore_index"), IGNORE_FORMS)
def test_ignore_index_as_numpy_or_large_int_like_torch(cls, ignore_index, rng):
    x, target, _ = class_case(rng, (5, 4), 2)
    scratch = getattr(S, cls)(ignore_index=ignore_index)
    assert isinstance(scratch.ignore_index, int)
    assert_parity(scratch, getattr(T, cls)(ignore_index=ignore_index), x, target)


@pytest.mark.parametrize(("target", "ignore_index"), [(np.array([0, 2, 1, 1], np.uint8), -100),
                                                      (np.array([0, 255, 1, 255], np.uint8), 255)])
def test_uint8_targets_with_the_default_or_255_ignore_index_like_torch(target, ignore_index, rng):
    x = rng.standard_normal((4, 3))
    assert_parity(CE(ignore_index=ignore_index), TCE(ignore_index=ignore_index), x, target)


# -- refusals, one row per bad input (from test_reliability, and torch.nn compatibility) --------
REFUSED = [
    refusal("NLLLoss-class-out-of-range", lambda: NLL()(f32(2, 3), i64(0, 3)),
            lambda: TNLL()(t32(2, 3), tl(0, 3)), ValueError,
            "NLLLoss:", "target holds class index 3, out of range", "the input has 3 classes"),
    refusal("NLLLoss-float-target", lambda: NLL()(f32(2, 3), np.array([0.0, 1.0], np.float32)),
            lambda: TNLL()(t32(2, 3), torch.tensor([0.0, 1.0])), TypeError,
            "NLLLoss:", "target must hold class indices as int64 (or uint8)", "got dtype float32"),
    refusal("NLLLoss-ignore_index-bool", lambda: NLL(ignore_index=True),
            lambda: TNLL(ignore_index=True)(t32(2, 3), tl(0, 1)), TypeError,
            "NLLLoss:", "ignore_index must be an int", "got True"),
    # zero classes: torch returns 0 or NaN (every class-index target must then be ignored)
    stricter("NLLLoss-no-classes", lambda: NLL()(f32(2, 0), i64(-100, -100)),
             lambda: TNLL()(t32(2, 0), tl(-100, -100)), ValueError,
             "NLLLoss:", "input has no classes (C = 0)"),
]
test_scratch_refuses, test_torch_agrees = refusal_tests(REFUSED)
