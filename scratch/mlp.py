"""Small multilayer perceptrons and the tutorials' data sets.

XORNet    2-4-1   out = σ(W₂ ReLU(W₁x + b₁) + b₂)   MSE on XOR
MoonsNet  2-8-1   out = W₂ ReLU(W₁x + b₁) + b₂ (a logit)
                  binary cross-entropy on two moons
MLP       784-128-64-10
          logits = W₃ ReLU(W₂ ReLU(W₁x + b₁) + b₂) + b₃
          cross-entropy on MNIST

Each layer is a named attribute (fc1, fc2, fc3) in both twins, so
state_dict keys match; backward is forward read in reverse.

twin: torch_ref/mlp.py
story: docs/mlp.md (XOR's gradient, tutorial 002's backward order)
"""

from __future__ import annotations

import numpy as np

from scratch import init
from scratch.activations import ReLU, Sigmoid
from scratch.linear import Linear
from scratch.module import Module


# -- data sets ------------------------------------------------
def xor_data(dtype=np.float64):
    """Tutorial 001's XOR: the four corners and four points
    near them. -> x: (8, 2), y: (8, 1)"""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1],
                  [0.1, 0.1], [0.1, 0.9], [0.9, 0.1],
                  [0.9, 0.9]], dtype=dtype)
    y = np.array([[0], [1], [1], [0], [0], [1], [1], [0]],
                 dtype=dtype)
    return x, y


def two_moons(generator: np.random.Generator, n: int = 400,
              dtype=np.float64):
    """Tutorial 000's two moons -> x: (n, 2), y: (n, 1)

    Class 0: the upper half of a ring of radius 1 ± 0.05;
    class 1: the lower half, shifted by (0.8, 0.2).
    """
    half = n // 2
    theta0 = generator.uniform(0, np.pi, half)
    r0 = 1.0 + 0.05 * generator.standard_normal(half)
    x0 = np.c_[r0 * np.cos(theta0), r0 * np.sin(theta0)]
    theta1 = generator.uniform(0, np.pi, half)
    r1 = 1.0 + 0.05 * generator.standard_normal(half)
    x1 = np.c_[r1 * np.cos(theta1), -r1 * np.sin(theta1)]
    x1 = x1 + np.array([0.8, 0.2])                 # (n/2, 2)
    x = np.vstack([x0, x1]).astype(dtype)            # (n, 2)
    y = np.vstack([np.zeros((half, 1)),
                   np.ones((half, 1))]).astype(dtype)  # (n, 1)
    return x, y


# -- networks -------------------------------------------------
class XORNet(Module):
    """out = σ(W₂ ReLU(W₁x + b₁) + b₂)

    x: (N, 2) -> out: (N, 1), a probability (MSELoss).
    """

    def __init__(self, hidden: int = 4, dtype=None,
                 generator=None):
        super().__init__()
        self.fc1 = Linear(2, hidden, dtype=dtype,
                          generator=generator)
        self.relu = ReLU()
        self.fc2 = Linear(hidden, 1, dtype=dtype,
                          generator=generator)
        self.sigmoid = Sigmoid()

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self.relu(self.fc1(x))               # (N, hidden)
        return self.sigmoid(self.fc2(x))              # (N, 1)

    def backward(self, grad_out, need_input_grad=True):
        g = self.sigmoid.backward(grad_out)
        g = self.relu.backward(self.fc2.backward(g))
        return self.fc1.backward(g, need_input_grad)  # (N, 2)


class MoonsNet(Module):
    """out = W₂ ReLU(W₁x + b₁) + b₂, a logit: P = σ(out)

    x: (N, 2) -> out: (N, 1) (BCEWithLogitsLoss).
    """

    def __init__(self, hidden: int = 8, dtype=None,
                 generator=None):
        super().__init__()
        self.fc1 = Linear(2, hidden, dtype=dtype,
                          generator=generator)
        self.relu = ReLU()
        self.fc2 = Linear(hidden, 1, dtype=dtype,
                          generator=generator)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self.relu(self.fc1(x))               # (N, hidden)
        return self.fc2(x)                            # (N, 1)

    def backward(self, grad_out, need_input_grad=True):
        g = self.relu.backward(self.fc2.backward(grad_out))
        return self.fc1.backward(g, need_input_grad)  # (N, 2)


class MLP(Module):
    """logits = W₃ ReLU(W₂ ReLU(W₁x + b₁) + b₂) + b₃

    x: (N, 784) -> logits: (N, 10) (CrossEntropyLoss).
    He-normal W ~ N(0, 2/fan_in), b = 0.
    """

    def __init__(self, in_features: int = 784,
                 hidden: tuple[int, int] = (128, 64),
                 num_classes: int = 10, dtype=None,
                 generator=None):
        super().__init__()
        h1, h2 = hidden
        self.fc1 = Linear(in_features, h1, dtype=dtype)
        self.relu1 = ReLU()
        self.fc2 = Linear(h1, h2, dtype=dtype)
        self.relu2 = ReLU()
        self.fc3 = Linear(h2, num_classes, dtype=dtype)
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None) -> None:
        for fc in (self.fc1, self.fc2, self.fc3):
            init.kaiming_normal_(fc.weight, nonlinearity="relu",
                                 generator=generator)
            init.zeros_(fc.bias)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self.relu1(self.fc1(x))                 # (N, 128)
        x = self.relu2(self.fc2(x))                  # (N, 64)
        return self.fc3(x)                           # (N, 10)

    def backward(self, grad_out, need_input_grad=True):
        g = self.relu2.backward(self.fc3.backward(grad_out))
        g = self.relu1.backward(self.fc2.backward(g))
        return self.fc1.backward(g, need_input_grad)  # (N, 784)


__all__ = ["MLP", "MoonsNet", "XORNet", "two_moons", "xor_data"]
