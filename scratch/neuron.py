"""A single neuron, and one step of gradient descent on it.     twin: torch_ref/neuron.py

z = w·x + b          a = φ(z)

x: (*, n_inputs) -> a: (*, 1); an unbatched x: (n_inputs,) -> a: (1,)

The neuron is a Linear layer with one output followed by an activation, and keeps Linear's
parameter names and shapes (weight: (1, n_inputs), bias: (1,)), so its state_dict loads into
``Linear(n_inputs, 1)`` and into the torch twin alike.

Where the tutorials go wrong:

* The laptop-purchase example prints z = 0.600 (64.6%) for the budget buyer and z = −0.090
  (47.8%, "won't buy") for the expensive low-spec customer. With w = [−0.5, 1.2], b = 0.3 the
  sums are −0.5·0.3 + 1.2·0.5 + 0.3 = 0.75 (σ = 67.9%) and −0.5·0.9 + 1.2·0.3 + 0.3 = 0.21
  (σ = 55.2%, "will buy"): the printed output was not produced by the code above it. Only the
  first customer (z = 0.98, 72.7%) is right. parity_tests/test_neuron.py checks all three.
* ``update_weights`` (the single-neuron update) does ``w -= ...`` on the caller's array, so the
  ``w`` it was given and the ``new_w`` it returns are the same object, while ``b -= ...``
  rebinds a local float and leaves the caller's ``b`` unchanged. Its printed numbers are right.
  ``sgd_step_squared_error`` here updates the neuron's own parameters, as ``optimizer.step()``
  does, and says so.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np

from scratch import init
from scratch.activations import LeakyReLU, ReLU, Sigmoid, Step, Tanh
from scratch.module import Module, Parameter, check_input, resolve_dtype

# The names of torch.nn.init.calculate_gain, plus the perceptron's step; "linear" is a = z.
ACTIVATIONS = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU, "leaky_relu": LeakyReLU,
               "step": Step, "linear": None}


def make_activation(activation: str | Module | None) -> Module | None:
    """φ from a name in ACTIVATIONS or a scratch Module; None (and "linear") means a = z."""
    if activation is None or isinstance(activation, Module):
        return activation
    if not isinstance(activation, str):
        raise TypeError(
            f"Neuron: activation must be a name or a scratch Module, got {type(activation).__name__}"
        )
    if activation not in ACTIVATIONS:
        raise ValueError(f"Neuron: activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    factory = ACTIVATIONS[activation]
    return None if factory is None else factory()


class Neuron(Module):
    """a = φ(w·x + b)                              twin: torch_ref/neuron.py

    x: (*, n_inputs) -> a: (*, 1)          unbatched x: (n_inputs,) -> a: (1,)
    weight w: (1, n_inputs), bias b: (1,) — Linear(n_inputs, 1)'s names and shapes.

    ``activation``: "sigmoid", "tanh", "relu", "leaky_relu", "step", "linear" (a = z), or a
    Module. Weights start as torch's Linear's do: w, b ~ U(−1/√n_inputs, 1/√n_inputs).
    """

    def __init__(self, n_inputs: int, activation: str | Module | None = "sigmoid",
                 bias: bool = True, dtype=None, generator: np.random.Generator | None = None):
        super().__init__()
        if isinstance(n_inputs, bool) or not isinstance(n_inputs, Integral) or n_inputs < 1:
            raise ValueError(f"Neuron: n_inputs must be a positive int, got {n_inputs!r}")
        self.n_inputs = int(n_inputs)
        dtype = resolve_dtype(dtype, "Neuron")
        self.weight = Parameter(np.zeros((1, self.n_inputs)), dtype=dtype)
        self.bias = Parameter(np.zeros(1), dtype=dtype) if bias else None
        init.default_init_(self.weight, self.bias, generator=generator)
        self.activation = make_activation(activation)

    def forward(self, x: np.ndarray) -> np.ndarray:
        where = f"{type(self).__name__}({self.extra_repr()})"
        check_input(where, x, dtype=self.weight.dtype)
        if x.ndim == 0 or x.shape[-1] != self.n_inputs:
            raise ValueError(
                f"{where}: input must have shape (*, n_inputs={self.n_inputs}), got shape {x.shape}"
            )
        self.x = x
        with np.errstate(invalid="ignore"):          # inf·0 in the product: NaN, as torch
            z = x @ self.weight.data.T                                # (*, 1)
        if self.bias is not None:
            z = z + self.bias.data
        return z if self.activation is None else self.activation(z)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:           # ∂L/∂a: (*, 1)
        grad_z = grad_out if self.activation is None else self.activation.backward(grad_out)
        x = self.x.reshape(-1, self.n_inputs)                         # (N, n_inputs)
        g = grad_z.reshape(-1, 1)                                     # (N, 1)
        with np.errstate(invalid="ignore"):
            self.weight.grad += g.T @ x                               # ∂L/∂w = Σₙ ∂L/∂zₙ xₙ (1, n_inputs)
        if self.bias is not None:
            self.bias.grad += g.sum(axis=0)                           # ∂L/∂b = Σₙ ∂L/∂zₙ      (1,)
        return grad_z @ self.weight.data                              # ∂L/∂x = ∂L/∂z w        (*, n_inputs)

    def extra_repr(self) -> str:
        return f"n_inputs={self.n_inputs}, bias={self.bias is not None}"


def sgd_step_squared_error(neuron: Neuron, x: np.ndarray, target, lr: float = 0.1) -> float:
    """One step of plain gradient descent on the squared error; returns L before the step.

    L = (1/N) Σₙ (aₙ − tₙ)²            (for one sample: (a − t)², the tutorial's error)
    ∂L/∂a = 2 (a − t) / N              then neuron.backward gives ∂L/∂w and ∂L/∂b
    w ← w − η ∂L/∂w        b ← b − η ∂L/∂b

    For a sigmoid neuron and one sample this is the tutorial's ``update_weights``:
    ∂L/∂w = 2 (a − t) · a (1 − a) · x. ``target`` holds one value per output (a scalar for an
    unbatched x). The neuron's parameters change in place; the caller's arrays do not.
    """
    out = neuron(x)                                                   # (*, 1)
    target = np.asarray(target, dtype=out.dtype)
    if target.size != out.size:
        raise ValueError(
            f"sgd_step_squared_error: target must hold one value per output, {out.size} "
            f"(output shape {out.shape}), got shape {target.shape}"
        )
    target = target.reshape(out.shape)
    neuron.zero_grad()
    neuron.backward(2 * (out - target) / out.size)                    # ∂L/∂a = 2 (a − t) / N
    for param in neuron.parameters():
        param.data -= lr * param.grad                                 # θ ← θ − η ∂L/∂θ
    return float(np.mean((out - target) ** 2))


__all__ = ["ACTIVATIONS", "Neuron", "make_activation", "sgd_step_squared_error"]
