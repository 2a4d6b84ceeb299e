"""The MNIST CNN that train.py trains.

x: (N, 1, 28, 28)
  -> conv 5×5 -> max-pool 2 -> ReLU     (N, C₁, 12, 12)
  -> conv 5×5 -> max-pool 2 -> ReLU     (N, C₂, 4, 4)
  -> flatten -> fc -> ReLU -> fc  -> logits: (N, 10)

logits = fc2(ReLU(fc1(flatten(ReLU(pool(conv2(ReLU(pool(conv1(x))))))))))

twin: torch_ref/cnn.py
story: docs/cnn.md (why this architecture; softmax and Keras)
"""

from __future__ import annotations

import numpy as np

from scratch.activations import ReLU
from scratch.conv import Conv2d
from scratch.flatten import Flatten
from scratch.linear import Linear
from scratch.module import Module
from scratch.pooling import MaxPool2d


class Net(Module):
    """conv1 1→C₁ 5×5: 28 → 24, pool → 12
    conv2 C₁→C₂ 5×5: 12 → 8, pool → 4
    fc1 C₂·4·4 → hidden;  fc2 hidden → num_classes

    x: (N, 1, 28, 28) -> logits: (N, num_classes)
    The ReLU, pool and flatten modules hold no parameters,
    so the state_dict keys are torch's: conv1.weight, ….
    """

    def __init__(self, channels: tuple[int, int] = (16, 32),
                 hidden: int = 128, num_classes: int = 10,
                 dtype=None,
                 generator: np.random.Generator | None = None):
        super().__init__()
        c1, c2 = channels
        g = {"dtype": dtype, "generator": generator}
        self.conv1 = Conv2d(1, c1, kernel_size=5, **g)
        self.pool1 = MaxPool2d(2)
        self.relu1 = ReLU()
        self.conv2 = Conv2d(c1, c2, kernel_size=5, **g)
        self.pool2 = MaxPool2d(2)
        self.relu2 = ReLU()
        self.flatten = Flatten()
        self.fc1 = Linear(c2 * 4 * 4, hidden, **g)
        self.relu3 = ReLU()
        self.fc2 = Linear(hidden, num_classes, **g)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self.relu1(self.pool1(self.conv1(x)))  # (N, C₁, 12, 12)
        x = self.relu2(self.pool2(self.conv2(x)))  # (N, C₂, 4, 4)
        x = self.relu3(self.fc1(self.flatten(x)))  # (N, hidden)
        return self.fc2(x)                         # (N, classes)

    def backward(self, grad_out: np.ndarray,
                 need_input_grad: bool = True):
        """∂L/∂logits (N, classes) -> ∂L/∂x (N, 1, 28, 28)."""
        g = self.fc2.backward(grad_out)            # (N, hidden)
        g = self.fc1.backward(self.relu3.backward(g))
        g = self.flatten.backward(g)               # (N, C₂, 4, 4)
        g = self.pool2.backward(self.relu2.backward(g))
        g = self.conv2.backward(g)                 # (N, C₁, 12, 12)
        g = self.pool1.backward(self.relu1.backward(g))
        return self.conv1.backward(                # (N, 1, 28, 28)
            g, need_input_grad=need_input_grad)


__all__ = ["Net"]
