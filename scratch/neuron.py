"""A single neuron, and one step of gradient descent on it.

z = w·x + b          a = φ(z)

∂L/∂w = Σₙ ∂L/∂zₙ xₙ      ∂L/∂b = Σₙ ∂L/∂zₙ      ∂L/∂x = ∂L/∂z w

x: (*, n_inputs) -> a: (*, 1);  unbatched x: (n_inputs,) -> a: (1,)
weight w: (1, n_inputs), bias b: (1,): Linear(n_inputs, 1)'s

twin: torch_ref/neuron.py
story: docs/neuron.md (the laptop example's printed numbers)
"""

from __future__ import annotations

import numpy as np

from scratch import _checks as check
from scratch import init
from scratch.activations import LeakyReLU, ReLU, Sigmoid, Step, Tanh
from scratch.module import Module, Parameter

# calculate_gain's names and the
# perceptron's step; "linear": a = z
ACTIVATIONS = {"sigmoid": Sigmoid, "tanh": Tanh,
               "relu": ReLU, "leaky_relu": LeakyReLU,
               "step": Step, "linear": None}


def make_activation(activation):
    """φ from a name in ACTIVATIONS or a Module;
    None (and "linear") means a = z."""
    check.activation("Neuron", activation,
                     ACTIVATIONS, Module)
    if not isinstance(activation, str):
        return activation             # a Module, or None
    factory = ACTIVATIONS[activation]
    return factory() if factory else None


class Neuron(Module):
    """a = φ(w·x + b)

    x: (*, n_inputs) -> a: (*, 1)
    w, b start as Linear's: U(−1/√n_inputs, 1/√n_inputs).
    """

    def __init__(self, n_inputs: int,
                 activation="sigmoid", bias=True,
                 dtype=None, generator=None):
        super().__init__()
        self.n_inputs = check.integer(
            "Neuron", "n_inputs", n_inputs, minimum=1)
        dtype = check.dtype("Neuron", dtype)
        n = self.n_inputs
        self.weight = Parameter(np.zeros((1, n)), dtype)
        self.bias = None
        if bias:
            self.bias = Parameter(np.zeros(1), dtype)
        init.default_init_(self.weight, self.bias,
                           generator=generator)
        self.activation = make_activation(activation)

    def forward(self, x: np.ndarray) -> np.ndarray:
        # named by its arguments (repr lists the activation)
        where = f"{type(self).__name__}({self.extra_repr()})"
        check.input(where, x, dtype=self.weight.dtype)
        check.last_dim(where, x, "n_inputs", self.n_inputs)
        self.cache = x
        with np.errstate(invalid="ignore"):   # inf·0: NaN
            z = x @ self.weight.data.T              # (*, 1)
        if self.bias is not None:
            z = z + self.bias.data
        if self.activation is None:
            return z
        return self.activation(z)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        x = check.cached(self)
        g = grad_out                            # ∂L/∂a: (*, 1)
        if self.activation is not None:
            g = self.activation.backward(g)     # ∂L/∂z: (*, 1)
        xs = x.reshape(-1, self.n_inputs)       # (N, n_inputs)
        gs = g.reshape(-1, 1)                   # (N, 1)
        with np.errstate(invalid="ignore"):
            self.weight.grad += gs.T @ xs      # Σₙ ∂L/∂zₙ xₙ
        if self.bias is not None:
            self.bias.grad += gs.sum(axis=0)   # Σₙ ∂L/∂zₙ
        return g @ self.weight.data     # ∂L/∂z w: (*, n_inputs)

    def extra_repr(self) -> str:
        return (f"n_inputs={self.n_inputs}, "
                f"bias={self.bias is not None}")


def sgd_step_squared_error(neuron, x, target, lr=0.1):
    """One gradient step on L = (1/N) Σₙ (aₙ − tₙ)²;
    returns L before the step.

    ∂L/∂a = 2 (a − t) / N, then backward: ∂L/∂w, ∂L/∂b
    w ← w − η ∂L/∂w        b ← b − η ∂L/∂b
    """
    out = neuron(x)                        # (*, 1)
    target = np.asarray(target, dtype=out.dtype)
    check.one_per_output("sgd_step_squared_error",
                         target, out)
    target = target.reshape(out.shape)
    neuron.zero_grad()
    neuron.backward(2 * (out - target) / out.size)
    for param in neuron.parameters():
        param.data -= lr * param.grad  # θ − η ∂L/∂θ
    return float(np.mean((out - target) ** 2))


__all__ = ["ACTIVATIONS", "Neuron", "make_activation",
           "sgd_step_squared_error"]
