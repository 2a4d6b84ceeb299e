"""A single neuron, and one step of gradient descent on it.

z = w·x + b          a = φ(z)

x: (*, n_inputs) -> a: (*, 1);  unbatched x: (n_inputs,) -> a: (1,)
weight: (1, n_inputs), bias: (1,), as nn.Linear(n_inputs, 1).

twin: scratch/neuron.py
"""

from __future__ import annotations

from numbers import Integral

import torch
import torch.nn.functional as F
from torch import nn

from torch_ref import init
from torch_ref.activations import LeakyReLU, ReLU, Sigmoid, Step, Tanh

# calculate_gain's names and the
# perceptron's step; "linear": a = z
ACTIVATIONS = {"sigmoid": Sigmoid, "tanh": Tanh,
               "relu": ReLU, "leaky_relu": LeakyReLU,
               "step": Step, "linear": None}


def make_activation(activation):
    """φ from a name or an nn.Module."""
    if activation is None or isinstance(
            activation, nn.Module):
        return activation
    if not isinstance(activation, str):
        kind = type(activation).__name__
        raise TypeError(
            "Neuron: activation must be a name "
            f"or an nn.Module, got {kind}")
    if activation not in ACTIVATIONS:
        names = sorted(ACTIVATIONS)
        raise ValueError(
            "Neuron: activation must be one of "
            f"{names}, got {activation!r}")
    factory = ACTIVATIONS[activation]
    return factory() if factory else None


class Neuron(nn.Module):
    """a = φ(w·x + b)

    x: (*, n_inputs) -> a: (*, 1)
    """

    def __init__(self, n_inputs,
                 activation="sigmoid", bias=True,
                 dtype=None, generator=None):
        super().__init__()
        if isinstance(n_inputs, bool) or not isinstance(
                n_inputs, Integral) or n_inputs < 1:
            raise ValueError(
                "Neuron: n_inputs must be a positive "
                f"int, got {n_inputs!r}")
        self.n_inputs = int(n_inputs)
        n = self.n_inputs
        self.weight = nn.Parameter(
            torch.empty(1, n, dtype=dtype))
        self.bias = None
        if bias:
            self.bias = nn.Parameter(
                torch.empty(1, dtype=dtype))
        init.default_init_(self.weight, self.bias,
                           generator=generator)
        self.activation = make_activation(activation)

    def forward(self, x):
        # (*, n_inputs) -> (*, 1)
        z = F.linear(x, self.weight, self.bias)
        if self.activation is None:
            return z
        return self.activation(z)

    # autograd derives the backward

    def extra_repr(self) -> str:
        return (f"n_inputs={self.n_inputs}, "
                f"bias={self.bias is not None}")


def sgd_step_squared_error(neuron, x, target,
                           lr=0.1):
    """One torch.optim.SGD step on the mean
    squared error; returns L before the step."""
    optimizer = torch.optim.SGD(
        neuron.parameters(), lr=lr)
    out = neuron(x)
    t = torch.as_tensor(target, dtype=out.dtype)
    t = t.reshape(out.shape)
    loss = F.mse_loss(out, t)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


__all__ = ["ACTIVATIONS", "Neuron", "make_activation",
           "sgd_step_squared_error"]
