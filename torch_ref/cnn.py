"""The MNIST CNN that train.py trains.                      twin: scratch/cnn.py

x: (N, 1, 28, 28) -> conv 5×5 -> max-pool 2 -> ReLU -> conv 5×5 -> max-pool 2 -> ReLU
  -> flatten -> fc -> ReLU -> fc -> logits: (N, 10)

The architecture and its reasons are in scratch/cnn.py.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Net(nn.Module):
    """logits = fc2(ReLU(fc1(flatten(ReLU(pool(conv2(ReLU(pool(conv1(x))))))))))

    x: (N, 1, 28, 28) -> logits: (N, num_classes)        twin: scratch/cnn.py

    conv1 1→C₁ 5×5: 28 → 24, pool → 12;  conv2 C₁→C₂ 5×5: 12 → 8, pool → 4;
    fc1 C₂·4·4 → hidden;  fc2 hidden → num_classes.  torch's default init everywhere.
    """

    def __init__(self, channels: tuple[int, int] = (16, 32), hidden: int = 128, num_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels[0], kernel_size=5)
        self.conv2 = nn.Conv2d(channels[0], channels[1], kernel_size=5)
        self.fc1 = nn.Linear(channels[1] * 4 * 4, hidden)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(F.max_pool2d(self.conv1(x), 2))          # (N, C₁, 12, 12)
        x = F.relu(F.max_pool2d(self.conv2(x), 2))          # (N, C₂, 4, 4)
        x = F.relu(self.fc1(torch.flatten(x, 1)))           # (N, hidden)
        return self.fc2(x)                                  # (N, num_classes)

    # autograd derives the backward
