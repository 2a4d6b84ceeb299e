"""A single neuron, and one step of gradient descent on it.     twin: scratch/neuron.py

z = w·x + b          a = φ(z)

x: (*, n_inputs) -> a: (*, 1); an unbatched x: (n_inputs,) -> a: (1,)
weight: (1, n_inputs), bias: (1,), as nn.Linear(n_inputs, 1).
"""

from __future__ import annotations

from numbers import Integral

import torch
import torch.nn.functional as F
from torch import nn

from torch_ref import init
from torch_ref.activations import LeakyReLU, ReLU, Sigmoid, Step, Tanh

# The names of torch.nn.init.calculate_gain, plus the perceptron's step; "linear" is a = z.
ACTIVATIONS = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU, "leaky_relu": LeakyReLU,
               "step": Step, "linear": None}


def make_activation(activation: str | nn.Module | None) -> nn.Module | None:
    """φ from a name in ACTIVATIONS or an nn.Module; None (and "linear") means a = z."""
    if activation is None or isinstance(activation, nn.Module):
        return activation
    if not isinstance(activation, str):
        raise TypeError(
            f"Neuron: activation must be a name or an nn.Module, got {type(activation).__name__}"
        )
    if activation not in ACTIVATIONS:
        raise ValueError(f"Neuron: activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    factory = ACTIVATIONS[activation]
    return None if factory is None else factory()


class Neuron(nn.Module):
    """a = φ(w·x + b)                              twin: scratch/neuron.py

    x: (*, n_inputs) -> a: (*, 1)          unbatched x: (n_inputs,) -> a: (1,)
    """

    def __init__(self, n_inputs: int, activation: str | nn.Module | None = "sigmoid",
                 bias: bool = True, dtype: torch.dtype | None = None,
                 generator: torch.Generator | None = None):
        super().__init__()
        if isinstance(n_inputs, bool) or not isinstance(n_inputs, Integral) or n_inputs < 1:
            raise ValueError(f"Neuron: n_inputs must be a positive int, got {n_inputs!r}")
        self.n_inputs = int(n_inputs)
        self.weight = nn.Parameter(torch.empty(1, self.n_inputs, dtype=dtype))
        self.bias = nn.Parameter(torch.empty(1, dtype=dtype)) if bias else None
        init.default_init_(self.weight, self.bias, generator=generator)
        self.activation = make_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = F.linear(x, self.weight, self.bias)                       # (*, 1)
        return z if self.activation is None else self.activation(z)

    # autograd derives the backward

    def extra_repr(self) -> str:
        return f"n_inputs={self.n_inputs}, bias={self.bias is not None}"


def sgd_step_squared_error(neuron: Neuron, x: torch.Tensor, target, lr: float = 0.1) -> float:
    """One step of torch.optim.SGD on L = (1/N) Σₙ (aₙ − tₙ)²; returns L before the step."""
    optimizer = torch.optim.SGD(neuron.parameters(), lr=lr)
    out = neuron(x)
    loss = F.mse_loss(out, torch.as_tensor(target, dtype=out.dtype).reshape(out.shape))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


__all__ = ["ACTIVATIONS", "Neuron", "make_activation", "sgd_step_squared_error"]
