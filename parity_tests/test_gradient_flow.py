"""Gradient flow: scratch/gradient_flow.py against torch_ref/gradient_flow.py, and the
tutorials' claims about vanishing gradients, measured.

The twins agree layer by layer (float64) at initialisation and along 20 training steps; then
the claims: σ' ≤ 1/4 and where it "vanishes", tanh's "stronger gradients", the per-layer bound
that σ' ≤ 1/4 puts on the backward signal, and which activation and initialisation keep the
gradient from vanishing across ten layers.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from parity_tests.helpers import assert_close, assert_parity, copy_weights
from scratch import gradient_flow as gf
from scratch.activations import Sigmoid, Tanh
from scratch.cross_entropy import CrossEntropyLoss
from torch_ref import gradient_flow as tgf

COMBINATIONS = [(a, i) for a in gf.ACTIVATIONS for i in gf.INITS]


def twins(activation: str, init: str, seed: int = 0, depth: int = 10):
    """The torch twin initialised from ``seed`` and the scratch twin given its weights (float64)."""
    torch.manual_seed(seed)
    theirs = tgf.DeepMLP(depth=depth, activation=activation, init=init).double()
    ours = gf.DeepMLP(depth=depth, activation=activation, init=init).double()
    copy_weights(theirs, ours)
    return ours, theirs


@pytest.fixture(scope="module")
def data():
    return gf.teacher_data(np.random.default_rng(0))


@pytest.fixture(scope="module")
def measured(data) -> dict:
    """The scratch twin's weight-gradient norms by depth, at initialisation, for every combination."""
    x, y = data
    return {(a, i): gf.gradient_norms(twins(a, i)[0], CrossEntropyLoss(), x, y) for a, i in COMBINATIONS}


@pytest.mark.parametrize(("activation", "init"), COMBINATIONS)
def test_deep_mlp_parity(activation, init, data):
    ours, theirs = twins(activation, init)
    assert_parity(ours, theirs, data[0][:16], copy=False)


@pytest.mark.parametrize(("activation", "init"), COMBINATIONS)
def test_gradient_norms_agree_layer_by_layer_along_training(activation, init, data):
    """At initialisation, then after every 5 of 20 SGD steps taken by both twins."""
    x, y = data
    ours, theirs = twins(activation, init)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    for block in range(5):
        norms = gf.gradient_norms(ours, CrossEntropyLoss(), x, y)
        expected = tgf.gradient_norms(theirs, torch.nn.CrossEntropyLoss(), tx, ty)
        assert_close(norms, expected, f"‖∂L/∂W‖ by depth after {5 * block} steps")
        assert_close(np.array(ours.signal_norms), np.array(theirs.signal_norms),
                     f"‖∂L/∂h‖ by depth after {5 * block} steps")
        if block < 4:
            losses = gf.train(ours, CrossEntropyLoss(), x, y, steps=5)
            expected_losses = tgf.train(theirs, torch.nn.CrossEntropyLoss(), tx, ty, steps=5)
            assert_close(np.array(losses), np.array(expected_losses), "training losses")


def test_the_first_layer_can_skip_the_input_gradient(data):
    x, y = data
    ours, _ = twins("relu", "he")
    full = gf.gradient_norms(ours, CrossEntropyLoss(), x, y)
    loss = CrossEntropyLoss()
    ours.zero_grad()
    loss(ours(x), y)
    assert ours.backward(loss.backward(), need_input_grad=False) is None
    assert_close(gf.weight_grad_norms(ours), full, "weight gradients without ∂L/∂x")


# -- the tutorials' claims ---------------------------------------------------------------------
def _derivative(layer, x: np.ndarray) -> np.ndarray:
    layer(x)
    return layer.backward(np.ones_like(x))            # φ'(x), element by element


def test_sigmoid_derivative_is_at_most_a_quarter():
    """σ'(x) = σ(x)(1 − σ(x)) ≤ 1/4, with equality only at x = 0 (σ(0) = 1/2)."""
    x = np.linspace(-20, 20, 40001)
    slope = _derivative(Sigmoid(), x)
    assert slope.max() == 0.25 and x[slope.argmax()] == 0.0
    assert np.all(slope[x != 0] < 0.25)


def test_the_vanishing_zones_of_tutorial_001():
    """'Vanishing gradients at extremes (z < −4 or z > 4)': there σ' has fallen below a tenth
    of its peak (σ'(4) = 0.0177), and by |z| = 10 below 1/5000 of it."""
    slope = _derivative(Sigmoid(), np.array([-10.0, -4.0, 4.0, 10.0]))
    assert np.all(slope[1:3] < 0.025) and np.all(slope[1:3] > 0.017)
    assert np.all(slope[[0, 3]] < 0.25 / 5000)


def test_tanh_has_stronger_gradients_than_sigmoid_only_near_zero():
    """Tutorial 001: tanh has 'stronger gradients than sigmoid'. True near zero (4× at 0) and up
    to |x| ≈ 1.66; false in the tails, where tanh' ≈ 4e⁻²ˣ falls faster than σ' ≈ e⁻ˣ."""
    x = np.linspace(0, 6, 6001)
    stronger = _derivative(Tanh(), x) > _derivative(Sigmoid(), x)
    crossing = x[np.argmin(stronger)]                  # the first x where tanh' is no longer larger
    assert stronger[x < 1.6].all() and not stronger[x > 1.7].any()
    assert 1.6 < crossing < 1.7
    assert _derivative(Tanh(), np.zeros(1))[0] == 4 * _derivative(Sigmoid(), np.zeros(1))[0]


@pytest.mark.parametrize("init", gf.INITS)
def test_sigmoid_bounds_the_signal_per_layer(init, data):
    """‖∂L/∂hₗ₋₁‖ ≤ ‖Wₗ‖₂ · ¼ · ‖∂L/∂hₗ‖ for every layer: the bound σ' ≤ 1/4 puts on backward."""
    x, y = data
    ours, _ = twins("sigmoid", init)
    gf.gradient_norms(ours, CrossEntropyLoss(), x, y)
    signal = ours.signal_norms                          # ‖∂L/∂h_{D−1}‖, …, ‖∂L/∂h_1‖
    layers = ours.layers()
    for k in range(1, len(signal)):
        weight = layers[len(layers) - 1 - k].weight.data    # W_l between h_{l−1} and h_l
        assert signal[k] <= np.linalg.norm(weight, 2) / 4 * signal[k - 1] * (1 + 1e-12)


@pytest.mark.parametrize("init", gf.INITS)
def test_sigmoid_gradients_vanish_layer_after_layer(init, measured):
    """Each layer's ‖∂L/∂W‖ is smaller than the next one's, by 3× or more on average (3.2× with
    He init, 4.4× with Xavier, 6.7× with torch's default): from the output to the input of ten
    layers the gradient loses 4 to 7 orders of magnitude."""
    norms = measured["sigmoid", init]
    assert np.all(np.diff(norms) > 0)                  # grows from input to output
    per_layer = (norms[-1] / norms[0]) ** (1 / (len(norms) - 1))
    assert per_layer > 3
    assert norms[-1] / norms[0] > 1e4


def test_he_initialised_relu_holds_the_gradient(measured):
    """ReLU with He init: across ten layers the norms stay within a factor of 10 of each other."""
    norms = measured["relu", "he"]
    assert norms.max() / norms.min() < 10


@pytest.mark.parametrize(("activation", "init"), [("relu", "xavier"), ("tanh", "xavier"), ("tanh", "he")])
def test_other_combinations_that_hold(activation, init, measured):
    norms = measured[activation, init]
    assert norms.max() / norms.min() < 10


@pytest.mark.parametrize(("activation", "init"), [("relu", "default"), ("tanh", "default")])
def test_relu_and_tanh_vanish_with_torch_default_init(activation, init, measured):
    """'No vanishing gradient' (ReLU, tutorial 001) needs the right initialisation: with torch's
    default U(±1/√fan_in) the first layer's gradient is more than 10× smaller than the last's
    (200× for ReLU, 16× for tanh)."""
    norms = measured[activation, init]
    assert norms[0] < norms[-1] / 10
