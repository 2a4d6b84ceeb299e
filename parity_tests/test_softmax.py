"""Softmax and LogSoftmax: scratch/activations.py against torch_ref/activations.py
(torch.nn.Softmax, torch.nn.LogSoftmax), along one dimension."""

import numpy as np
import pytest
import torch

from parity_tests.helpers import (
    BIG,
    TIERS,
    assert_close,
    assert_finite,
    assert_parity,
    extreme_rows,
    f32,
    refusal,
    refusal_tests,
    stricter,
    t32,
)
from parity_tests.helpers import DTYPES as BOTH_DTYPES
from scratch import activations as S
from torch_ref import activations as T

ALONG_DIM = [
    ("Softmax", S.Softmax, T.Softmax),
    ("LogSoftmax", S.LogSoftmax, T.LogSoftmax),
]
SOFTMAXES = pytest.mark.parametrize(("scratch", "reference"), [(S.Softmax, T.Softmax),
                                                               (S.LogSoftmax, T.LogSoftmax)],
                                    ids=["Softmax", "LogSoftmax"])


@pytest.mark.parametrize("dtype", TIERS)
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -2, -3])
@pytest.mark.parametrize(("name", "scratch", "torch_cls"), ALONG_DIM, ids=[n for n, _, _ in ALONG_DIM])
def test_softmax_dims_on_3d(name, scratch, torch_cls, dim, dtype, rng):
    assert_parity(scratch(dim), torch_cls(dim), 2 * rng.standard_normal((3, 4, 5)), dtype=dtype)


@pytest.mark.parametrize("dim", [0, -1])
@pytest.mark.parametrize(("name", "scratch", "torch_cls"), ALONG_DIM, ids=[n for n, _, _ in ALONG_DIM])
def test_softmax_zero_dim_input(name, scratch, torch_cls, dim):
    """A 0-d input is a single class: softmax 1, log-softmax 0, as torch."""
    assert_parity(scratch(dim), torch_cls(dim), np.array(2.5))


def test_softmax_gradient_is_not_zero_under_a_random_upstream_gradient(rng):
    """Under g = ones (what out.sum().backward() feeds) the softmax input gradient is exactly
    g⊙s − s Σ g⊙s = s − s = 0, so a backward returning zeros would pass such a test. Under a
    random g it is not zero, and it matches torch."""
    x = rng.standard_normal((3, 5))
    softmax = S.Softmax(1)
    softmax(x)
    np.testing.assert_allclose(softmax.backward(np.ones((3, 5))), 0.0, atol=1e-15)
    g = rng.standard_normal((3, 5))
    grad = softmax.backward(g)
    assert np.abs(grad).max() > 1e-2
    xt = torch.tensor(x, requires_grad=True)
    T.Softmax(1)(xt).backward(torch.tensor(g))
    assert_close(grad, xt.grad, "Softmax input gradient under a random upstream gradient")


def test_softmax_rows_are_independent(rng):
    """The tutorials' exp(z − max(z)) / sum over the whole array mixes the rows of a batch;
    Softmax(dim=1) normalises each row on its own."""
    x = rng.standard_normal((4, 3))
    out = S.Softmax(1)(x)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-15)
    tutorial = np.exp(x - np.max(x)) / np.exp(x - np.max(x)).sum()
    assert not np.allclose(tutorial.sum(axis=1), 1.0)
    np.testing.assert_allclose(S.Softmax(1)(x[:1]), out[:1], rtol=1e-15)


@pytest.mark.parametrize("cls", [S.Softmax, S.LogSoftmax])
def test_softmax_dim_none_is_refused(cls):
    with pytest.raises(ValueError, match=r"dim=None is not supported.*deprecated"):
        cls()
    with pytest.raises(TypeError, match="dim must be an int"):
        cls(1.0)


@pytest.mark.parametrize(("scratch", "torch_cls"), [(S.Softmax, T.Softmax), (S.LogSoftmax, T.LogSoftmax)])
def test_softmax_dim_out_of_range_refused_like_torch(scratch, torch_cls):
    with pytest.raises(ValueError, match=r"dim must be in \[-2, 1\].*got dim=2"):
        scratch(2)(np.zeros((2, 3)))
    with pytest.raises(IndexError):
        torch_cls(2)(torch.zeros(2, 3))


# -- refusals, one row per bad input (from test_reliability) ------------------------------------
F_OR_D, INT = "must be float16, float32 or float64", "got dtype int64"
REFUSED = [
    refusal("Softmax-int-input", lambda: S.Softmax(1)(np.zeros((2, 3), dtype=np.int64)),
            lambda: T.Softmax(1)(torch.zeros(2, 3, dtype=torch.long)),
            TypeError, "Softmax(dim=1):", "input " + F_OR_D, INT),
    refusal("LogSoftmax-int-input", lambda: S.LogSoftmax(1)(np.zeros((2, 3), dtype=np.int64)),
            lambda: T.LogSoftmax(1)(torch.zeros(2, 3, dtype=torch.long)),
            TypeError, "LogSoftmax(dim=1):", "input " + F_OR_D, INT),
    refusal("Softmax-dim-out-of-range", lambda: S.Softmax(2)(f32(2, 3)), lambda: T.Softmax(2)(t32(2, 3)),
            ValueError, "Softmax(dim=2):", "dim must be in [-2, 1]", "for a 2-D input of shape (2, 3)",
            "got dim=2"),
    refusal("LogSoftmax-dim-out-of-range", lambda: S.LogSoftmax(-3)(f32(2, 3)),
            lambda: T.LogSoftmax(-3)(t32(2, 3)),
            ValueError, "LogSoftmax(dim=-3):", "dim must be in [-2, 1]", "got dim=-3"),
    refusal("Softmax-dim-float", lambda: S.Softmax(1.5), lambda: T.Softmax(1.5)(t32(2, 3)),
            TypeError, "Softmax:", "dim must be an int", "got float"),
    # torch's implicit softmax dimension is deprecated and picks the batch dim of 3-D input
    stricter("Softmax-dim-None", lambda: S.Softmax(), lambda: T.Softmax()(t32(2, 3)),
             ValueError, "Softmax:", "dim=None is not supported", "pass the dimension to normalise"),
]
test_scratch_refuses, test_torch_agrees = refusal_tests(REFUSED)


# -- numerics: extreme and non-finite scores (from test_reliability) ---------------------------
@pytest.mark.parametrize("dtype", BOTH_DTYPES)
@SOFTMAXES
def test_softmax_extreme_finite(scratch, reference, dtype):
    assert_finite(assert_parity(scratch(dim=1), reference(dim=1), extreme_rows(dtype), dtype=dtype))


# scores whose spread exceeds the dtype's range: x − max(x) overflows to −inf, where e^(x − max)
# is 0 anyway; torch gives −inf and 0 there without complaint.
@pytest.mark.parametrize("dtype", BOTH_DTYPES)
@SOFTMAXES
def test_softmax_scores_spanning_the_range(scratch, reference, dtype):
    big = BIG[dtype]
    x = np.array([[big, -big, 0], [-big, big, 1]], dtype=dtype)
    assert_finite(assert_parity(scratch(dim=1), reference(dim=1), x, dtype=dtype))


# -- torch.nn compatibility: empty dimensions, float16, the argument forms torch takes ----------
EMPTY = [((0,), 0), ((0, 3), 0), ((0, 3), 1), ((3, 0), 0), ((3, 0), 1), ((2, 0, 4), 1), ((2, 0, 4), -1)]


@pytest.mark.parametrize("dtype", TIERS)
@pytest.mark.parametrize(("shape", "dim"), EMPTY, ids=[f"{s}-dim{d}" for s, d in EMPTY])
@SOFTMAXES
def test_softmax_over_an_empty_dimension_is_empty_as_torch(scratch, reference, shape, dim, dtype):
    """torch returns an empty result, forward and backward; NumPy's max of nothing would raise."""
    result = assert_parity(scratch(dim), reference(dim), np.zeros(shape), dtype=dtype)
    assert result["out"].shape == shape and result["grads"][0].shape == shape


HALF_CASES = [((7,), 0), ((4, 3), 0), ((4, 3), 1), ((2, 3, 5), 0), ((2, 3, 5), 1), ((2, 3, 5), 2),
              ((8, 20, 16), 0), ((8, 20, 16), 1), ((8, 20, 16), 2)]
HALF_IDS = [f"{shape}-dim{dim}" for shape, dim in HALF_CASES]


@pytest.mark.parametrize(("shape", "dim"), HALF_CASES, ids=HALF_IDS)
def test_log_softmax_float16_as_torch(shape, dim, rng):
    """torch computes float16 in float32; over the last dimension its kernel also rounds Σ e^(x − m)
    and log Σ to float16 before subtracting (for a score near the maximum that changes the result
    by far more than one unit in the last place), and scratch does the same there."""
    result = assert_parity(S.LogSoftmax(dim), T.LogSoftmax(dim), 10 * rng.standard_normal(shape),
                           dtype=np.float16)
    assert result["out"].dtype == np.float16 and result["grads"][0].dtype == np.float16


@pytest.mark.parametrize(("shape", "dim"), HALF_CASES, ids=HALF_IDS)
def test_softmax_float16_as_torch(shape, dim, rng):
    """Forward at the float16 tier. torch's kernel over a dimension that is not the last takes a
    float32 path or, for the positions left over from its vector width and thread split, a path that
    rounds e^(x − m) to float16 first: the two differ by one unit in the last place, so the backward
    here starts from torch's own saved output s. Its g − Σ g s is a float32 sum that cancels where
    g ≈ Σ g s, leaving float32's rounding of the sum, 2⁻²³·|Σ g s| ≈ 5e-7 for |g| ≤ 4: atol 1e-6."""
    x = (10 * rng.standard_normal(shape)).astype(np.float16)
    g = rng.standard_normal(shape).astype(np.float16)
    xt = torch.from_numpy(x.copy()).requires_grad_()
    out = T.Softmax(dim)(xt)
    out.backward(torch.from_numpy(g))
    softmax = S.Softmax(dim)
    assert_close(softmax(x), out, "Softmax float16 forward", dtype=np.float16)
    softmax.cache = out.detach().numpy()                 # torch's s, as the backward reads it
    grad = softmax.backward(g)
    assert grad.dtype == np.float16
    assert_close(grad, xt.grad, "Softmax float16 backward", dtype=np.float16, atol=1e-6)


@SOFTMAXES
def test_softmax_float16_nonfinite_as_torch(scratch, reference):
    x = np.array([[np.nan, 0, 1], [np.inf, 0, 1], [-np.inf, 0, 1], [65504, -65504, 0], [-1e4, 1e4, 0]])
    result = assert_parity(scratch(1), reference(1), x, dtype=np.float16)   # NaN positions compared too
    assert result["out"].dtype == np.float16


COMPATIBILITY = [
    refusal("Softmax-dim-numpy-int", lambda: S.Softmax(np.int64(1)), lambda: T.Softmax(np.int64(1)),
            TypeError, "Softmax:", "dim must be an int", "got int64"),
    refusal("LogSoftmax-dim-bool", lambda: S.LogSoftmax(True), lambda: T.LogSoftmax(True),
            TypeError, "LogSoftmax:", "dim must be an int", "got bool"),
]
test_compatibility_scratch_refuses, test_compatibility_torch_agrees = refusal_tests(COMPATIBILITY)
