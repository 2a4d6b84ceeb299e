"""Perceptron: scratch/perceptron.py against torch_ref/perceptron.py.

Why the weight sequences can be compared with exact equality, not a tolerance
-----------------------------------------------------------------------------
Every update adds η·(t − ŷ)·x with t − ŷ ∈ {−1, 0, 1}. Both twins evaluate the same IEEE-754
products and sums, element by element, on the same operands, and IEEE-754 rounds each of those
operations to one defined result, so the weights stay bit-for-bit equal as long as every
decision ŷ agrees. A decision reads z = w·x + b, whose summation order may differ (NumPy's
matmul vs torch's addmm), so z may differ in its last bit; that flips ŷ only if z lies within
a few ulps of 0.

* With dyadic numbers (zero start, η = 1/4, x ∈ {0, 1}) every z is a small multiple of 1/4,
  exact in any order, so exact ties z = 0 (which the zero start produces at once) are decided
  identically: equality is guaranteed, and the run equals the hand-traced one.
* With a random start and η = 0.1 no z comes near 0 for the seeds used (the smallest |z| a
  decision meets is 3e−3, some 10¹³ ulps away), so the sequences are equal too; the seeds are
  fixed, so this is settled once and for all, not flaky.

η = 0.1 from zero is where rounding shows: 0.1 + 0.1 − 0.3 ≠ 0 in binary, and on AND the run
stops at w = [0.2, 0.1], b = −0.2000…04 with z(1, 0) = −2.8e−17, a point exact arithmetic
would call a tie and a mistake. See ``test_rounding_decides_ties_with_a_decimal_rate``.
"""

import numpy as np
import pytest
import torch

from parity_tests.helpers import assert_close
from scratch.perceptron import Perceptron
from torch_ref.perceptron import Perceptron as TorchPerceptron

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
TARGETS = {"AND": np.array([0, 0, 0, 1]), "OR": np.array([0, 1, 1, 1]), "XOR": np.array([0, 1, 1, 0])}


def twins(lr, start=None, seed=0):
    """Both perceptrons in float64 from the same weights: ``start`` = (w, b), else drawn by
    torch from ``seed`` and copied into the scratch twin."""
    torch_p = TorchPerceptron(2, lr=lr, dtype=torch.float64,
                              generator=torch.Generator().manual_seed(seed))
    if start is not None:
        torch_p.load_state_dict({"weight": torch.tensor([start[0]], dtype=torch.float64),
                                 "bias": torch.tensor([start[1]], dtype=torch.float64)})
    p = Perceptron(2, lr=lr).double()
    p.load_state_dict(torch_p.state_dict())
    return p, torch_p


def fit_both(p, torch_p, targets, epochs=100):
    history = p.fit(X, targets, epochs=epochs)
    torch_history = torch_p.fit(torch.from_numpy(X), torch.from_numpy(targets), epochs=epochs)
    assert [h["mistakes"] for h in history] == [h["mistakes"] for h in torch_history]
    for epoch, (h, th) in enumerate(zip(history, torch_history, strict=True)):
        # exact: see the module docstring
        assert np.array_equal(h["weight"], th["weight"].numpy()), f"weight after epoch {epoch}"
        assert np.array_equal(h["bias"], th["bias"].numpy()), f"bias after epoch {epoch}"
    return history


def accuracy(model, x, targets) -> float:
    return float((np.asarray(model(x))[:, 0] == targets).mean())


@pytest.mark.parametrize(("gate", "mistakes", "weight", "bias"), [
    # traced by hand with η = 1 from w = 0, b = 0 (ties z = 0 give ŷ = 1); η = 1/4 scales w, b
    ("AND", [2, 3, 3, 2, 1, 0], [2, 1], -3),
    ("OR", [2, 2, 1, 0], [1, 1], -1),
])
def test_perceptron_learns_gate_exactly_as_traced_by_hand(gate, mistakes, weight, bias):
    p, torch_p = twins(lr=0.25, start=([0.0, 0.0], 0.0))
    history = fit_both(p, torch_p, TARGETS[gate])
    assert [h["mistakes"] for h in history] == mistakes
    assert np.array_equal(p.weight.data, 0.25 * np.array([weight]))
    assert np.array_equal(p.bias.data, [0.25 * bias])
    assert accuracy(p, X, TARGETS[gate]) == 1.0
    assert accuracy(torch_p, torch.from_numpy(X), TARGETS[gate]) == 1.0


@pytest.mark.parametrize("gate", ["AND", "OR"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_perceptron_parity_from_a_random_start(gate, seed):
    p, torch_p = twins(lr=0.1, seed=seed)
    history = fit_both(p, torch_p, TARGETS[gate])
    assert len(history) > 5, "the start already fits: nothing was learned"
    assert history[-1]["mistakes"] == 0, f"{gate} did not converge in 100 epochs"
    assert accuracy(p, X, TARGETS[gate]) == 1.0
    assert accuracy(torch_p, torch.from_numpy(X), TARGETS[gate]) == 1.0


def test_perceptron_train_step_sequence_is_identical():
    """Step by step, not only per epoch: the error and the weights after every update."""
    p, torch_p = twins(lr=0.1, seed=3)
    rng = np.random.default_rng(0)
    order = rng.integers(0, 4, size=40)
    for step, i in enumerate(order):
        t = int(TARGETS["AND"][i])
        error = p.train_step(X[i], t)
        assert error == torch_p.train_step(torch.from_numpy(X[i]), t), f"error at step {step}"
        assert error in (-1.0, 0.0, 1.0)
        assert np.array_equal(p.weight.data, torch_p.weight.numpy()), f"weight at step {step}"
        assert np.array_equal(p.bias.data, torch_p.bias.numpy()), f"bias at step {step}"


def test_perceptron_cannot_learn_xor():
    """No line separates XOR, so no epoch can pass without a mistake (a mistake-free epoch
    would leave weights that classify all four points), and at most 3 of 4 are ever right."""
    p, torch_p = twins(lr=0.1, seed=1)
    history = fit_both(p, torch_p, TARGETS["XOR"], epochs=50)
    assert len(history) == 50
    assert min(h["mistakes"] for h in history) >= 1
    assert accuracy(p, X, TARGETS["XOR"]) <= 0.75
    assert accuracy(torch_p, torch.from_numpy(X), TARGETS["XOR"]) <= 0.75


def test_rounding_decides_ties_with_a_decimal_rate():
    """From zero, AND with η = 0.1: exact arithmetic repeats the η = 1/4 run scaled (6 epochs);
    in binary 0.1 is inexact, the sum at (1, 0) is −2.8e−17 instead of a tie at 0, and the run
    stops after 4 epochs. Both twins agree, because both round the same way."""
    p, torch_p = twins(lr=0.1, start=([0.0, 0.0], 0.0))
    history = fit_both(p, torch_p, TARGETS["AND"])
    assert [h["mistakes"] for h in history] == [2, 3, 3, 0]
    z = X @ p.weight.data.T + p.bias.data
    assert -1e-16 < z[2, 0] < 0


def test_perceptron_predicts_a_batch_in_float32(rng):
    """The tutorial's ``activation`` takes one scalar; ours a batch, in the layer's dtype."""
    torch_p = TorchPerceptron(3, generator=torch.Generator().manual_seed(0))
    p = Perceptron(3)
    p.load_state_dict(torch_p.state_dict())
    x = rng.standard_normal((8, 3)).astype(np.float32)
    out = p(x)
    assert out.dtype == np.float32 and out.shape == (8, 1)
    assert_close(out, torch_p(torch.from_numpy(x)), "perceptron batch", dtype=np.float32)


def test_perceptron_float32_training_stays_float32():
    p = Perceptron(2, generator=np.random.default_rng(0))
    p.fit(X.astype(np.float32), TARGETS["OR"])
    assert p.weight.dtype == np.float32 and p.bias.dtype == np.float32
    assert accuracy(p, X.astype(np.float32), TARGETS["OR"]) == 1.0


def test_perceptron_initial_weights_follow_the_generator():
    """The tutorial draws from the unseeded global np.random; the same generator seed here
    gives the same start."""
    a = Perceptron(2, generator=np.random.default_rng(7)).state_dict()
    b = Perceptron(2, generator=np.random.default_rng(7)).state_dict()
    c = Perceptron(2, generator=np.random.default_rng(8)).state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["weight"], c["weight"])


def test_perceptron_refuses_a_batch_or_a_bad_target():
    p, torch_p = twins(lr=0.1)
    with pytest.raises(ValueError, match=r"must be 1-D"):
        p.train_step(X, 1)
    with pytest.raises(ValueError, match=r"must be 1-D"):
        torch_p.train_step(torch.from_numpy(X), 1)
    with pytest.raises(ValueError, match="target must be 0 or 1"):
        p.train_step(X[0], 2)
    with pytest.raises(ValueError, match="target must be 0 or 1"):
        torch_p.train_step(torch.from_numpy(X[0]), 2)


def test_perceptron_has_no_backward():
    p, torch_p = twins(lr=0.1)
    out = p(X)
    with pytest.raises(RuntimeError, match="no useful gradient"):
        p.backward(np.ones_like(out))
    with pytest.raises(RuntimeError):
        torch_p(torch.from_numpy(X)).sum().backward()
