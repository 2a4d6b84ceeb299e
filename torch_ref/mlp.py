"""Small multilayer perceptrons.

XORNet    2-4-1   out = σ(W₂ ReLU(W₁x + b₁) + b₂)   MSE on XOR
MoonsNet  2-8-1   out = W₂ ReLU(W₁x + b₁) + b₂ (a logit)
MLP       784-128-64-10, logits, cross-entropy on MNIST

The data sets (``xor_data``, ``two_moons``) are the scratch twin's
NumPy arrays.

twin: scratch/mlp.py
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class XORNet(nn.Module):
    """out = σ(W₂ ReLU(W₁x + b₁) + b₂)"""

    def __init__(self, hidden=4):
        super().__init__()
        self.fc1 = nn.Linear(2, hidden)
        self.fc2 = nn.Linear(hidden, 1)

    def forward(self, x):
        x = F.relu(self.fc1(x))      # (N, hidden)
        return torch.sigmoid(self.fc2(x))  # (N, 1)

    # autograd derives the backward


class MoonsNet(nn.Module):
    """out = W₂ ReLU(W₁x + b₁) + b₂, a logit"""

    def __init__(self, hidden=8):
        super().__init__()
        self.fc1 = nn.Linear(2, hidden)
        self.fc2 = nn.Linear(hidden, 1)

    def forward(self, x):
        x = F.relu(self.fc1(x))      # (N, hidden)
        return self.fc2(x)                # (N, 1)

    # autograd derives the backward


class MLP(nn.Module):
    """logits = W₃ ReLU(W₂ ReLU(W₁x + b₁) + b₂)
             + b₃, He-normal W, zero b"""

    def __init__(self, in_features=784,
                 hidden=(128, 64), num_classes=10,
                 generator=None):
        super().__init__()
        h1, h2 = hidden
        self.fc1 = nn.Linear(in_features, h1)
        self.fc2 = nn.Linear(h1, h2)
        self.fc3 = nn.Linear(h2, num_classes)
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None):
        for fc in (self.fc1, self.fc2, self.fc3):
            nn.init.kaiming_normal_(
                fc.weight, nonlinearity="relu",
                generator=generator)
            nn.init.zeros_(fc.bias)

    def forward(self, x):
        x = F.relu(self.fc1(x))         # (N, 128)
        x = F.relu(self.fc2(x))          # (N, 64)
        return self.fc3(x)               # (N, 10)

    # autograd derives the backward


__all__ = ["MLP", "MoonsNet", "XORNet"]
