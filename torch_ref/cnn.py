"""The MNIST CNN that train.py trains.

x: (N, 1, 28, 28)
  -> conv 5×5 -> max-pool 2 -> ReLU     (N, C₁, 12, 12)
  -> conv 5×5 -> max-pool 2 -> ReLU     (N, C₂, 4, 4)
  -> flatten -> fc -> ReLU -> fc  -> logits: (N, 10)

twin: scratch/cnn.py
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Net(nn.Module):
    """The same layers, with torch's default init."""

    def __init__(self, channels=(16, 32), hidden=128,
                 num_classes=10):
        super().__init__()
        c1, c2 = channels
        self.conv1 = nn.Conv2d(1, c1, kernel_size=5)
        self.conv2 = nn.Conv2d(c1, c2, kernel_size=5)
        self.fc1 = nn.Linear(c2 * 4 * 4, hidden)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2(x), 2))
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc2(x)

    # autograd derives the backward


__all__ = ["Net"]
