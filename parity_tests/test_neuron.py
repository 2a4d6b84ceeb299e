"""Neuron and one SGD step on it: scratch/neuron.py against torch_ref/neuron.py."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from parity_tests.helpers import (
    DTYPES,
    NONFINITE_ROWS,
    assert_close,
    assert_numerical_grad,
    assert_parity,
    f32,
    refusal,
    refusal_tests,
    t32,
)
from scratch.activations import LeakyReLU
from scratch.neuron import Neuron, sgd_step_squared_error
from torch_ref.neuron import Neuron as TorchNeuron
from torch_ref.neuron import sgd_step_squared_error as torch_sgd_step_squared_error

SMOOTH = ["sigmoid", "tanh", "relu", "leaky_relu", "linear"]


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def twins(activation, weight, bias):
    """Both neurons in float64 with the given weights (a list of n_inputs numbers, a float)."""
    state = {"weight": np.array([weight], dtype=np.float64), "bias": np.array([bias])}
    neuron = Neuron(len(weight), activation).double()
    neuron.load_state_dict(state)
    torch_neuron = TorchNeuron(len(weight), activation, dtype=torch.float64)
    torch_neuron.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    return neuron, torch_neuron


# -- parity ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", SMOOTH)
@pytest.mark.parametrize(("n_inputs", "bias", "shape"), [
    (4, True, (5, 4)),
    (4, False, (5, 4)),
    (1, True, (1, 1)),              # batch of 1, one input
    (7, True, (7,)),                # unbatched: (n_inputs,) -> (1,)
    (3, True, (2, 5, 3)),           # leading dimensions, as Linear allows
    (3, True, (0, 3)),              # an empty batch, as torch
])
def test_neuron_parity(n_inputs, bias, shape, activation, dtype, rng):
    torch.manual_seed(0)
    x = rng.standard_normal(shape)
    out = assert_parity(Neuron(n_inputs, activation, bias=bias),
                        TorchNeuron(n_inputs, activation, bias=bias), x, dtype=dtype)["out"]
    assert out.shape == (*shape[:-1], 1)
    assert out.dtype == dtype


def test_neuron_parity_with_an_activation_module(rng):
    torch.manual_seed(0)
    assert_parity(Neuron(3, LeakyReLU(0.2)), TorchNeuron(3, nn.LeakyReLU(0.2)),
                  rng.standard_normal((6, 3)))


def test_neuron_extreme_inputs(rng):
    """z ~ ±1e4: sigmoid saturates to 0/1 without an overflow warning (which would fail here)."""
    torch.manual_seed(0)
    x = rng.standard_normal((6, 3)) * 1e4
    assert_parity(Neuron(3, "sigmoid"), TorchNeuron(3, "sigmoid"), x)
    assert_parity(Neuron(3, "sigmoid"), TorchNeuron(3, "sigmoid"), x, dtype=np.float32)


@pytest.mark.parametrize("activation", SMOOTH)
@pytest.mark.parametrize("bias", [True, False])
def test_neuron_numerical_gradient(activation, bias, rng):
    neuron = Neuron(4, activation, bias=bias, generator=rng)
    assert_numerical_grad(neuron, rng.standard_normal((5, 4)))


def test_neuron_state_dict_is_a_linear_with_one_output():
    """The keys and shapes of nn.Linear(n, 1): weights travel between the three."""
    expected = {k: tuple(v.shape) for k, v in nn.Linear(5, 1).state_dict().items()}
    assert {k: v.shape for k, v in Neuron(5).state_dict().items()} == expected
    assert {k: tuple(v.shape) for k, v in TorchNeuron(5).state_dict().items()} == expected


def test_neuron_default_init_bounds(rng):
    """torch's Linear default: w, b ~ U(−1/√n, 1/√n); float32 unless told otherwise."""
    neuron = Neuron(400, generator=rng)
    assert neuron.weight.dtype == np.float32
    bound = np.float32(1 / math.sqrt(400))
    assert np.abs(neuron.weight.data).max() <= bound
    assert np.abs(neuron.weight.data).max() > 0.9 * bound   # P(all 400 below 0.9·bound) = 0.9⁴⁰⁰ ≈ 5e-19
    assert np.abs(neuron.bias.data).max() <= bound


# -- the tutorials' worked examples -------------------------------------------------------
# (price, performance), then z = −0.5·price + 1.2·performance + 0.3 worked by hand
LAPTOP_CUSTOMERS = [
    ("High-end seeker", [0.8, 0.9], -0.5 * 0.8 + 1.2 * 0.9 + 0.3),       # 0.98
    ("Budget buyer", [0.3, 0.5], -0.5 * 0.3 + 1.2 * 0.5 + 0.3),          # 0.75
    ("Expensive low-spec", [0.9, 0.3], -0.5 * 0.9 + 1.2 * 0.3 + 0.3),    # 0.21
]
# What tutorial 001 prints under "Expected Output": (z, purchase probability, will buy)
LAPTOP_TUTORIAL_PRINTED = [(0.980, 0.727, True), (0.600, 0.646, True), (-0.090, 0.478, False)]


def test_laptop_purchase_example():
    """Tutorial 001: w = [−0.5, 1.2], b = 0.3, a = σ(z), three customers.

    Both twins give z = 0.98, 0.75, 0.21 and σ(z) = 72.7%, 67.9%, 55.2%: all three buy.
    The tutorial's printed output is right for the first customer only. It prints
    z = 0.600 (64.6% = σ(0.6)) for the budget buyer and z = −0.090 (47.8% = σ(−0.09),
    "won't buy") for the expensive low-spec one: numbers its own code does not produce, and
    for the third customer the wrong decision.
    """
    x = np.array([inputs for _, inputs, _ in LAPTOP_CUSTOMERS])
    z_by_hand = np.array([[z] for _, _, z in LAPTOP_CUSTOMERS])
    np.testing.assert_allclose(z_by_hand[:, 0], [0.98, 0.75, 0.21], rtol=1e-15)
    p_by_hand = np.array([[sigmoid(z)] for _, _, z in LAPTOP_CUSTOMERS])

    for activation, expected in (("linear", z_by_hand), ("sigmoid", p_by_hand)):
        neuron, torch_neuron = twins(activation, [-0.5, 1.2], 0.3)
        assert_close(neuron(x), expected, f"scratch laptop {activation}")
        assert_close(torch_neuron(torch.from_numpy(x)), expected, f"torch laptop {activation}")

    assert np.round(p_by_hand[:, 0], 3).tolist() == [0.727, 0.679, 0.552]
    decisions = (p_by_hand[:, 0] > 0.5).tolist()
    assert decisions == [True, True, True]
    for i, (z_printed, p_printed, buys_printed) in enumerate(LAPTOP_TUTORIAL_PRINTED):
        tutorial_right = round(z_by_hand[i, 0], 3) == z_printed
        assert tutorial_right == (i == 0), LAPTOP_CUSTOMERS[i][0]
        assert (round(p_by_hand[i, 0], 3) == p_printed) == (i == 0)
        # the printed probabilities are σ of the printed, wrong, sums
        assert round(sigmoid(z_printed), 3) == p_printed
        assert (decisions[i] == buys_printed) == (i != 2)


def test_tutorial_003_single_neuron():
    """x = [0.5, 0.3, 0.1], w = [0.4, 0.2, 0.6], b = 0.1: z = 0.2 + 0.06 + 0.06 + 0.1 = 0.42."""
    x = np.array([0.5, 0.3, 0.1])
    z = 0.4 * 0.5 + 0.2 * 0.3 + 0.6 * 0.1 + 0.1
    assert math.isclose(z, 0.42, rel_tol=1e-15)
    neuron, torch_neuron = twins("sigmoid", [0.4, 0.2, 0.6], 0.1)
    expected = np.array([sigmoid(z)])                       # 0.6034832…, unbatched: shape (1,)
    assert_close(neuron(x), expected, "scratch 003 neuron")
    assert_close(torch_neuron(torch.from_numpy(x)), expected, "torch 003 neuron")


def test_tutorial_003_weight_update():
    """Tutorial 003's ``update_weights``: a = σ(w·x + b), L = (a − t)², t = 0.4, η = 0.1, one step.

    By hand: z = 0.42, a = σ(0.42) = 0.603483, ∂L/∂z = 2 (a − t) · a (1 − a) = 0.0973835,
    w ← w − η ∂L/∂z · x, b ← b − η ∂L/∂z. The tutorial prints
    w = [0.39513082 0.19707849 0.59902616], b = 0.09026164910025532: these hold.
    """
    x = np.array([0.5, 0.3, 0.1])
    w = np.array([0.4, 0.2, 0.6])
    a = sigmoid(0.42)
    delta = 2 * (a - 0.4) * a * (1 - a)
    assert math.isclose(delta, 0.0973835, rel_tol=1e-6)
    w_by_hand = w - 0.1 * delta * x
    b_by_hand = 0.1 - 0.1 * delta
    loss_by_hand = (a - 0.4) ** 2

    neuron, torch_neuron = twins("sigmoid", [0.4, 0.2, 0.6], 0.1)
    loss = sgd_step_squared_error(neuron, x, 0.4, lr=0.1)
    torch_loss = torch_sgd_step_squared_error(torch_neuron, torch.from_numpy(x), 0.4, lr=0.1)
    for name, weight, bias, value in (("scratch", neuron.weight.data, neuron.bias.data, loss),
                                      ("torch", torch_neuron.weight, torch_neuron.bias, torch_loss)):
        assert_close(weight, w_by_hand[None, :], f"{name} updated weight")
        assert_close(bias, [b_by_hand], f"{name} updated bias")
        assert math.isclose(value, loss_by_hand, rel_tol=1e-12), name
    # the tutorial's printout: the weights to its 8 printed decimals, the bias in full
    np.testing.assert_allclose(w_by_hand, [0.39513082, 0.19707849, 0.59902616], rtol=0, atol=5e-9)
    assert math.isclose(b_by_hand, 0.09026164910025532, rel_tol=1e-15)


def test_tutorial_update_weights_aliases_its_input():
    """The tutorial's ``w -= ...`` changes the caller's w (new_w *is* w), while ``b -= ...``
    leaves the caller's b alone. Ours changes the neuron's parameters and nothing else."""
    def tutorial_update_weights(x, y_true, w, b, learning_rate=0.1):     # verbatim, tutorial 003
        y_pred = 1 / (1 + np.exp(-(np.dot(x, w) + b)))
        d_error = 2 * (y_pred - y_true)
        w -= learning_rate * d_error * x * y_pred * (1 - y_pred)
        b -= learning_rate * d_error * y_pred * (1 - y_pred)
        return w, b

    x, w, b = np.array([0.5, 0.3, 0.1]), np.array([0.4, 0.2, 0.6]), 0.1
    new_w, new_b = tutorial_update_weights(x, 0.4, w, b)
    assert new_w is w and b == 0.1 and new_b != b

    weight = np.array([[0.4, 0.2, 0.6]])
    neuron = Neuron(3).double()
    neuron.load_state_dict({"weight": weight, "bias": np.array([0.1])})
    x_before = x.copy()
    sgd_step_squared_error(neuron, x, 0.4)
    assert np.array_equal(weight, [[0.4, 0.2, 0.6]]) and np.array_equal(x, x_before)
    assert_close(neuron.weight.data, new_w[None, :], "scratch step vs the tutorial's")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", SMOOTH)
def test_sgd_step_parity_on_a_batch(activation, dtype, rng):
    """L = mean over the batch of (a − t)², three steps, against autograd + torch.optim.SGD."""
    torch_dtype = {np.float64: torch.float64, np.float32: torch.float32}[dtype]
    torch_neuron = TorchNeuron(4, activation, dtype=torch_dtype,
                               generator=torch.Generator().manual_seed(0))
    neuron = Neuron(4, activation, dtype=dtype)
    neuron.load_state_dict(torch_neuron.state_dict())
    x = rng.standard_normal((5, 4)).astype(dtype)
    target = rng.uniform(size=(5, 1)).astype(dtype)
    for step in range(3):
        loss = sgd_step_squared_error(neuron, x, target, lr=0.5)
        torch_loss = torch_sgd_step_squared_error(torch_neuron, torch.from_numpy(x),
                                                  torch.from_numpy(target), lr=0.5)
        assert_close(loss, torch_loss, f"loss at step {step}", dtype=dtype)
        for name, param in neuron.named_parameters():
            assert param.dtype == dtype
            assert_close(param.data, getattr(torch_neuron, name), f"{name} after step {step}",
                         dtype=dtype)


# -- refusals, each also refused by torch -------------------------------------------------
def test_neuron_rejects_wrong_width():
    with pytest.raises(ValueError, match=r"n_inputs=3.*got shape \(2, 4\)"):
        Neuron(3)(np.zeros((2, 4), dtype=np.float32))
    with pytest.raises(RuntimeError):
        TorchNeuron(3)(torch.zeros(2, 4))


def test_neuron_rejects_dtype_mismatch():
    with pytest.raises(TypeError, match=r"float64.*float32"):
        Neuron(3)(np.zeros((2, 3)))
    with pytest.raises(RuntimeError):
        TorchNeuron(3)(torch.zeros(2, 3, dtype=torch.float64))


@pytest.mark.parametrize(("activation", "error"), [("softplus", ValueError), (3, TypeError)])
def test_neuron_rejects_unknown_activation(activation, error):
    with pytest.raises(error, match="Neuron: activation"):
        Neuron(3, activation)
    with pytest.raises(error, match="Neuron: activation"):
        TorchNeuron(3, activation)


@pytest.mark.parametrize("n_inputs", [0, -1, 2.0, True])
def test_neuron_rejects_bad_n_inputs(n_inputs):
    with pytest.raises(ValueError, match="n_inputs must be a positive int"):
        Neuron(n_inputs)
    with pytest.raises(ValueError, match="n_inputs must be a positive int"):
        TorchNeuron(n_inputs)


def test_step_neuron_has_no_backward(rng):
    """Forward parity for the perceptron's step; neither twin backpropagates through it."""
    torch.manual_seed(0)
    x = rng.standard_normal((6, 3))
    neuron, torch_neuron = Neuron(3, "step").double(), TorchNeuron(3, "step", dtype=torch.float64)
    neuron.load_state_dict(torch_neuron.state_dict())
    out = neuron(x)
    assert_close(out, torch_neuron(torch.from_numpy(x)), "step neuron forward")
    assert set(np.unique(out)) <= {0.0, 1.0}
    with pytest.raises(RuntimeError, match="no useful gradient"):
        neuron.backward(np.ones_like(out))
    with pytest.raises(RuntimeError):
        torch_neuron(torch.from_numpy(x)).sum().backward()


def test_sgd_step_rejects_a_target_of_the_wrong_size():
    with pytest.raises(ValueError, match="one value per output"):
        sgd_step_squared_error(Neuron(3), np.zeros((4, 3), dtype=np.float32), np.zeros(3))
    with pytest.raises(RuntimeError):
        torch_sgd_step_squared_error(TorchNeuron(3), torch.zeros(4, 3), torch.zeros(3))


def test_neuron_numpy_int_n_inputs_as_torch(rng):
    neuron = Neuron(np.int64(3))
    assert neuron.n_inputs == 3 and type(neuron.n_inputs) is int
    torch.manual_seed(0)
    assert_parity(neuron, TorchNeuron(np.int64(3)), rng.standard_normal((4, 3)))


def test_neuron_backward_before_forward_names_the_layer():
    with pytest.raises(RuntimeError, match=r"(?s)Neuron\(.*n_inputs=3, bias=True.*before forward"):
        Neuron(3).backward(np.zeros((2, 1), dtype=np.float32))


@pytest.mark.parametrize("dtype", DTYPES)
def test_neuron_nan_and_inf_propagate_as_torch(dtype):
    torch.manual_seed(0)
    assert_parity(Neuron(3), TorchNeuron(3), NONFINITE_ROWS, dtype=dtype)


NEURON = "Neuron(n_inputs=3, bias=True)"
REFUSED = [
    refusal("Neuron-wrong-width", lambda: Neuron(3)(f32(2, 4)), lambda: TorchNeuron(3)(t32(2, 4)),
            ValueError, NEURON, "input must have shape (*, n_inputs=3)", "got shape (2, 4)"),
    refusal("Neuron-0d-input", lambda: Neuron(3)(f32()), lambda: TorchNeuron(3)(t32()),
            ValueError, NEURON, "input must have shape (*, n_inputs=3)", "got shape ()"),
    refusal("Neuron-int-input", lambda: Neuron(3)(np.zeros((2, 3), np.int64)),
            lambda: TorchNeuron(3)(torch.zeros(2, 3, dtype=torch.long)),
            TypeError, NEURON, "input must be float32 or float64", "got dtype int64"),
    refusal("Neuron-n_inputs-0", lambda: Neuron(0), lambda: TorchNeuron(0),
            ValueError, "Neuron:", "n_inputs must be a positive int", "got 0"),
    refusal("Neuron-unknown-activation", lambda: Neuron(3, activation="softsign"),
            lambda: TorchNeuron(3, activation="softsign"),
            ValueError, "Neuron:", "activation must be one of [", "got 'softsign'"),
    refusal("Neuron-activation-int", lambda: Neuron(3, activation=3),
            lambda: TorchNeuron(3, activation=3),
            TypeError, "Neuron:", "activation must be a name or a scratch Module", "got int"),
    refusal("Neuron-int-dtype", lambda: Neuron(3, dtype=np.int32),
            lambda: TorchNeuron(3, dtype=torch.int32),
            TypeError, "Neuron:", "dtype must be float32 or float64", "got int32"),
]
test_scratch_refuses, test_torch_agrees = refusal_tests(REFUSED)
