"""Dropout: scratch/dropout.py against torch_ref/dropout.py (torch.nn.Dropout).

NumPy and torch draw from different random streams, so the two twins can never draw the same
mask. The parity test therefore splits dropout in two:

* the *arithmetic* (which units survive → output and gradient): torch draws a mask, we read
  it back from torch's own output on a tensor of ones (out = m / (1 − p) ≠ 0 exactly where
  m = 1), re-seed torch so that it draws that same mask again on x, and give the mask to
  the scratch layer. Both sides then run their real code (torch: nn.Dropout and autograd,
  unmodified), so equal outputs and gradients prove the scaling, the masking and the
  backward equal, for every unit;
* the *distribution* of the mask: by statistics on each side separately (fraction dropped,
  E[out] = x).
"""

import numpy as np
import pytest
import torch
from torch import nn

from parity_tests.helpers import (
    DTYPES,
    NONFINITE,
    TORCH_DTYPES,
    assert_close,
    assert_parity,
    refusal,
    refusal_tests,
    stricter,
)
from scratch.dropout import Dropout
from torch_ref.dropout import Dropout as TorchDropout


class _DropoutWithMask(Dropout):
    """The scratch layer with an injected mask (assert_parity passes only x)."""

    def __init__(self, p, keep):
        super().__init__(p)
        self.keep = keep

    def forward(self, x):
        return super().forward(x, mask=self.keep)


def _torch_mask(p: float, shape, dtype, seed: int) -> np.ndarray:
    torch.manual_seed(seed)
    noise = TorchDropout(p)(torch.ones(shape, dtype=TORCH_DTYPES[np.dtype(dtype)]))
    return noise.numpy() != 0


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
@pytest.mark.parametrize("shape", [(64, 10), (2, 3, 4, 5), (1, 1), (7,), ()])
def test_dropout_parity_with_torch_mask(shape, p, dtype, rng):
    seed = 1234
    keep = _torch_mask(p, shape, dtype, seed)
    x = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1, 1], size=shape)   # never 0
    torch.manual_seed(seed)                                 # torch draws `keep` again on x
    out = assert_parity(_DropoutWithMask(p, keep), TorchDropout(p), x, dtype=dtype)["out"]
    assert ((out != 0) == keep).all()                       # torch did draw the same mask


def test_dropout_values_by_hand():
    x = np.array([[1.0, -2.0, 3.0, 4.0]])
    keep = np.array([[True, False, True, False]])
    layer = Dropout(0.75)
    out = layer(x, mask=keep)
    assert_close(out, [[4.0, 0.0, 12.0, 0.0]], "x · m / (1 − p) with 1/(1 − 0.75) = 4")
    assert_close(layer.backward(np.array([[1.0, 1.0, -0.5, 2.0]])), [[4.0, 0.0, -2.0, 0.0]],
                 "∂L/∂out · m / (1 − p)")


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics(p):
    """n = 200 000 units of value 2. The number dropped is Binomial(n, p): the fraction has
    standard deviation √(p(1 − p)/n) ≤ 0.0012; we allow 5 of them. E[out] = x, and the mean
    output is 2 · (kept fraction)/(1 − p), with standard deviation 2/(1 − p) · √(p(1 − p)/n)."""
    n = 200_000
    sd_fraction = np.sqrt(p * (1 - p) / n)
    x = np.full(n, 2.0)
    outputs = {
        "scratch": Dropout(p, generator=np.random.default_rng(7))(x),
        "torch": (torch.manual_seed(7), TorchDropout(p)(torch.from_numpy(x)))[1].numpy(),
    }
    for side, out in outputs.items():
        dropped = np.mean(out == 0)
        assert abs(dropped - p) < 5 * sd_fraction, f"{side}: dropped {dropped}, p = {p}"
        assert np.isin(out, [0.0, 2.0 / (1 - p)]).all(), f"{side}: survivors scaled by 1/(1 − p)"
        assert abs(out.mean() - 2.0) < 5 * 2 / (1 - p) * sd_fraction, f"{side}: E[out] = {out.mean()}"


def test_dropout_generator_reproducible_and_float32(rng):
    x = rng.standard_normal((50, 20)).astype(np.float32)
    a = Dropout(0.5, generator=np.random.default_rng(3))(x)
    b = Dropout(0.5, generator=np.random.default_rng(3))(x)
    c = Dropout(0.5, generator=np.random.default_rng(4))(x)
    assert a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert ((a == 0) != (c == 0)).any()


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize(("p", "mode"), [(0.0, "train"), (1.0, "train"), (0.5, "eval"), (1.0, "eval")])
def test_dropout_edge_cases_as_torch(p, mode, dtype, rng):
    """p = 0: identity; p = 1: zeros (torch returns x · 0, so ±inf and NaN give NaN); eval:
    identity. No randomness, so assert_parity compares the layers directly."""
    x = rng.standard_normal((4, 5))
    x[0, :3] = [np.inf, -np.inf, np.nan]
    scratch_layer, torch_layer = Dropout(p), TorchDropout(p)
    if mode == "eval":
        scratch_layer.eval()
        torch_layer.eval()
    out = assert_parity(scratch_layer, torch_layer, x, dtype=dtype)["out"]
    if p == 1.0 and mode == "train":
        assert not out[1:].any()
        assert np.isnan(out[0, :3]).all()
    else:
        assert_close(out, x, "identity", dtype=dtype)


def test_dropout_inplace_like_torch(rng):
    x = rng.standard_normal((3, 4))
    keep = _torch_mask(0.5, (3, 4), np.float64, 5)
    scratch_x, torch_x = x.copy(), torch.from_numpy(x.copy())
    out = Dropout(0.5, inplace=True)(scratch_x, mask=keep)
    torch.manual_seed(5)
    torch_out = TorchDropout(0.5, inplace=True)(torch_x)
    assert out is scratch_x and torch_out is torch_x
    assert_close(scratch_x, torch_x, "input overwritten")


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_refuses_p_outside_0_1_like_torch(p):
    with pytest.raises(ValueError, match=r"p \(the drop probability\) must be between 0 and 1"):
        Dropout(p)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        TorchDropout(p)


def test_dropout_refuses_nan_p():
    """torch's constructor lets NaN through (its checks are comparisons); its forward refuses."""
    with pytest.raises(ValueError, match=r"must be between 0 and 1, got nan"):
        Dropout(float("nan"))
    with pytest.raises(RuntimeError, match="dropout probability has to be between 0 and 1"):
        TorchDropout(float("nan"))(torch.ones(2))


def test_dropout_refuses_bad_mask_and_generator():
    with pytest.raises(ValueError, match=r"mask must be a boolean array of the input's shape \(2, 3\)"):
        Dropout(0.5)(np.zeros((2, 3)), mask=np.ones((3, 2), dtype=bool))
    with pytest.raises(ValueError, match="mask must be a boolean array"):
        Dropout(0.5)(np.zeros((2, 3)), mask=np.ones((2, 3)))
    with pytest.raises(TypeError, match=r"generator must be an np\.random\.Generator"):
        Dropout(0.5, generator=0)


def test_dropout_float16_draws_its_own_mask(rng):
    """A drawn mask in half: survivors scaled by 1/(1 − p) rounded to float16, as torch."""
    x = np.ones(10_000, dtype=np.float16)
    out = Dropout(0.2, generator=np.random.default_rng(0))(x)
    torch_out = TorchDropout(0.2)(torch.ones(10_000, dtype=torch.float16)).numpy()
    assert out.dtype == np.float16
    assert set(np.unique(out)) == set(np.unique(torch_out)) == {0, np.float16(1 / np.float16(0.8))}


@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0, 4)])
@pytest.mark.parametrize("inplace", [False, True])
def test_dropout_empty_input_as_torch(shape, inplace):
    layer, torch_layer = Dropout(0.5, inplace=inplace), TorchDropout(0.5, inplace=inplace)
    out = assert_parity(layer, torch_layer, np.zeros(shape))["out"]
    assert out.shape == shape
    x, tx = np.zeros(shape), torch.zeros(shape)
    assert (layer(x) is x) == (torch_layer(tx) is tx) == True       # noqa: E712


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0])
def test_dropout_eval_returns_its_input_as_torch(p, rng):
    """Eval mode returns the very input, in place or not, in both twins; train with p = 0 too."""
    for inplace in (False, True):
        x = rng.standard_normal(4)
        tx = torch.from_numpy(x.copy())
        layer = Dropout(p, inplace=inplace).eval()
        torch_layer = TorchDropout(p, inplace=inplace).eval()
        assert layer(x) is x and torch_layer(tx) is tx
    x, tx = rng.standard_normal(4), torch.zeros(4)
    assert (Dropout(0.0)(x) is x) and (TorchDropout(0.0)(tx) is tx)


@pytest.mark.parametrize("p", [0, 1, np.float32(0.5), np.float64(0.25), np.int64(1)])
def test_dropout_p_forms_as_torch(p, rng):
    """An int 0 or 1 and NumPy numbers are taken as torch takes them, and kept as given."""
    layer, torch_layer = Dropout(p), TorchDropout(p)
    assert repr(layer) == repr(torch_layer)
    if p in (0, 1):
        assert_parity(layer, torch_layer, rng.standard_normal((3, 4)))


def test_dropout_inplace_kept_as_given():
    assert repr(Dropout(0.5, inplace=1)) == repr(TorchDropout(0.5, inplace=1)) == "Dropout(p=0.5, inplace=1)"


def test_dropout_backward_before_forward_names_the_layer():
    with pytest.raises(RuntimeError, match=r"Dropout\(p=0\.5, inplace=False\)\.backward.*before forward"):
        Dropout().backward(np.zeros(3))


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_p1_nan_and_inf_propagate_as_torch(dtype):
    assert_parity(Dropout(1.0), nn.Dropout(1.0), NONFINITE, dtype=dtype)


DROPOUT = "Dropout(p=0.5, inplace=False)"
REFUSED = [
    refusal("Dropout-p-above-1", lambda: Dropout(1.5), lambda: nn.Dropout(1.5),
            ValueError, "Dropout:", "p (the drop probability) must be between 0 and 1", "got 1.5"),
    refusal("Dropout-p-negative", lambda: Dropout(-0.1), lambda: nn.Dropout(-0.1),
            ValueError, "Dropout:", "p (the drop probability) must be between 0 and 1", "got -0.1"),
    refusal("Dropout-p-str", lambda: Dropout("0.5"), lambda: nn.Dropout("0.5"),
            (ValueError, TypeError), "Dropout:", "p (the drop probability) must be between 0 and 1",
            "got '0.5'"),
    refusal("Dropout-p-nan", lambda: Dropout(float("nan")), lambda: nn.Dropout(float("nan"))(torch.ones(2)),
            ValueError, "Dropout:", "p (the drop probability) must be between 0 and 1", "got nan"),
    refusal("Dropout-int-input", lambda: Dropout(0.5)(np.zeros(4, np.int64)),
            lambda: nn.Dropout(0.5)(torch.zeros(4, dtype=torch.long)),
            TypeError, DROPOUT, "input must be float16, float32 or float64", "int64"),
    refusal("Dropout-list-input", lambda: Dropout(0.5)([1.0, 2.0]), lambda: nn.Dropout(0.5)([1.0, 2.0]),
            TypeError, DROPOUT, "input must be a NumPy array", "got list"),
]
STRICTER = [
    # torch reads True as p = 1; it is far more likely a misplaced inplace=True
    stricter("Dropout-p-bool", lambda: Dropout(True), lambda: nn.Dropout(True)(torch.ones(2)),
             ValueError, "Dropout:", "p (the drop probability) must be between 0 and 1", "got True"),
    # torch returns integer input unchanged where it draws no mask (eval, p = 0, p = 1)
    stricter("Dropout-int-input-eval", lambda: Dropout(0.5).eval()(np.zeros(4, np.int64)),
             lambda: nn.Dropout(0.5).eval()(torch.zeros(4, dtype=torch.long)),
             TypeError, DROPOUT, "input must be float16, float32 or float64", "int64"),
]
test_scratch_refuses, test_torch_agrees = refusal_tests(REFUSED + STRICTER)
