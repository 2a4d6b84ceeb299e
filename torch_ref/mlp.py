"""Small multilayer perceptrons.                              twin: scratch/mlp.py

XORNet    2-4-1    out = σ(W₂ ReLU(W₁x + b₁) + b₂)         squared error on XOR
MoonsNet  2-8-1    out = W₂ ReLU(W₁x + b₁) + b₂ (a logit)   binary cross-entropy on two moons
MLP       784-128-64-10   logits, cross-entropy on MNIST

The data sets (``xor_data``, ``two_moons``) are the scratch twin's NumPy arrays; the tutorials'
mistakes are listed there.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class XORNet(nn.Module):
    """out = σ(W₂ ReLU(W₁x + b₁) + b₂)        x: (N, 2) -> out: (N, 1)"""

    def __init__(self, hidden: int = 4):
        super().__init__()
        self.fc1 = nn.Linear(2, hidden)
        self.fc2 = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.fc1(x))                         # (N, hidden)
        return torch.sigmoid(self.fc2(x))               # (N, 1)

    # autograd derives the backward


class MoonsNet(nn.Module):
    """out = W₂ ReLU(W₁x + b₁) + b₂, a logit        x: (N, 2) -> out: (N, 1)"""

    def __init__(self, hidden: int = 8):
        super().__init__()
        self.fc1 = nn.Linear(2, hidden)
        self.fc2 = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.fc1(x))                         # (N, hidden)
        return self.fc2(x)                              # (N, 1)

    # autograd derives the backward


class MLP(nn.Module):
    """logits = W₃ ReLU(W₂ ReLU(W₁x + b₁) + b₂) + b₃        x: (N, 784) -> logits: (N, 10)

    He-normal weights (kaiming_normal_, nonlinearity 'relu'), zero biases.
    """

    def __init__(self, in_features: int = 784, hidden: tuple[int, int] = (128, 64),
                 num_classes: int = 10, generator: torch.Generator | None = None):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden[0])
        self.fc2 = nn.Linear(hidden[0], hidden[1])
        self.fc3 = nn.Linear(hidden[1], num_classes)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        for fc in (self.fc1, self.fc2, self.fc3):
            nn.init.kaiming_normal_(fc.weight, nonlinearity="relu", generator=generator)
            nn.init.zeros_(fc.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.fc1(x))                         # (N, 128)
        x = F.relu(self.fc2(x))                         # (N, 64)
        return self.fc3(x)                              # (N, 10)

    # autograd derives the backward
