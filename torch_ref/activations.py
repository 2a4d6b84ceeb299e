"""Activation functions.

σ(x) = 1 / (1 + e⁻ˣ), tanh, max(0, x), softmax along ``dim``...

x: (*) -> out: (*)

twin: scratch/activations.py
"""

import torch
from torch import nn

# torch.nn's own modules; autograd
# derives every backward.
Sigmoid = nn.Sigmoid
Tanh = nn.Tanh
ReLU = nn.ReLU
LeakyReLU = nn.LeakyReLU
# scratch refuses dim=None (deprecated)
Softmax = nn.Softmax
LogSoftmax = nn.LogSoftmax


class Step(nn.Module):
    """step(x) = 1 if x ≥ 0 else 0

    x: (*) -> out: (*) of 0s and 1s
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        one = torch.ones((), dtype=x.dtype)
        return torch.heaviside(x, one)

    # heaviside has no derivative: its
    # backward raises, as scratch's does


__all__ = ["LeakyReLU", "LogSoftmax", "ReLU", "Sigmoid", "Softmax",
           "Step", "Tanh"]
