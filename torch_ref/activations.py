"""Activation functions.                        twin: scratch/activations.py

x: (*) -> out: (*)    element by element; Softmax and LogSoftmax along one dimension ``dim``.
"""

import torch
from torch import nn

# torch.nn's modules are the reference itself; autograd derives every backward.
# Re-exported so that both folders offer the same names.
Sigmoid = nn.Sigmoid          # σ(x) = 1 / (1 + e⁻ˣ)
Tanh = nn.Tanh                # tanh(x)
ReLU = nn.ReLU                # max(0, x)
LeakyReLU = nn.LeakyReLU      # x if x > 0 else negative_slope · x
Softmax = nn.Softmax          # eˣⁱ / Σⱼ eˣʲ along dim (scratch refuses dim=None)
LogSoftmax = nn.LogSoftmax    # xᵢ − log Σⱼ eˣʲ along dim (scratch refuses dim=None)


class Step(nn.Module):
    """step(x) = 1 if x ≥ 0 else 0          the perceptron's activation (Heaviside, H(0) = 1)

    x: (*) -> out: (*) of 0s and 1s
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.heaviside(x, torch.ones((), dtype=x.dtype))

    # autograd has no derivative for heaviside: backward raises, as the scratch twin does


__all__ = ["LeakyReLU", "LogSoftmax", "ReLU", "Sigmoid", "Softmax", "Step", "Tanh"]
