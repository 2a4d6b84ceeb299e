"""Small multilayer perceptrons and the tutorials' data sets.   twin: torch_ref/mlp.py

XORNet    2-4-1    out = σ(W₂ ReLU(W₁x + b₁) + b₂)         squared error on XOR (8 points)
MoonsNet  2-8-1    out = W₂ ReLU(W₁x + b₁) + b₂ (a logit)   binary cross-entropy on two moons
MLP       784-128-64-10   logits = W₃ ReLU(W₂ ReLU(W₁x + b₁) + b₂) + b₃, cross-entropy on MNIST

Each layer is a named attribute (fc1, fc2, fc3) in both twins, so ``state_dict`` keys match and
weights initialised once can be copied into the other twin. ``backward`` is ``forward`` read
in reverse. Activations are modules with their own cache, so every use gets its own instance.

Where the tutorials go wrong:

* XOR (tutorial 001) reports the squared error (1/m) Σ (a₂ − y)² but its backward starts from
  dz₂ = a₂ − y (then dW₂ = a₁ᵀ dz₂ / m). That is the gradient of the *binary cross-entropy*
  of a sigmoid output, not of the squared error, whose gradient is
  ∂L/∂z₂ = (2/m) (a₂ − y) ⊙ a₂ (1 − a₂). So it descends one loss while printing another:
  the two differ by the factor 2 a₂(1 − a₂) ≤ ½ per sample, which also changes the
  direction. parity_tests/test_mlp.py checks its update against autograd of both losses.
  Here XORNet is trained on the squared error with its true gradient.
* The MNIST network (tutorial 002) updates ``weights[i]`` and only then propagates the error
  through them (``delta = delta @ weights[i].T`` after ``weights[i] -= lr * dw``), so every
  layer below the top gets the gradient at weights that have already moved. With lr = 0 its
  formulas are right: ``(softmax − one_hot) / m`` is ∂(mean cross-entropy)/∂z, ``db = mean``
  matches it, and its ReLU mask on the post-activation (a > 0) equals the mask on the
  pre-activation (z > 0). Its "Xavier initialization" randn·√(2/fan_in) is He initialisation
  (see scratch/init.py); MLP uses it under its right name.
* The two-moons network (tutorial 000) is right except for the ε inside its logs (see
  scratch/losses.py); its dZ₂ = (ŷ − y)/N is exactly ∂(mean BCE)/∂z₂, which is why MoonsNet
  outputs the logit z₂ and is trained with BCEWithLogitsLoss.
"""

from __future__ import annotations

import numpy as np

from scratch import init
from scratch.activations import ReLU, Sigmoid
from scratch.linear import Linear
from scratch.module import Module


# -- data sets --------------------------------------------------------------------------------
def xor_data(dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Tutorial 001's XOR: the four corners and four points near them. -> x: (8, 2), y: (8, 1)"""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1],
                  [0.1, 0.1], [0.1, 0.9], [0.9, 0.1], [0.9, 0.9]], dtype=dtype)
    y = np.array([[0], [1], [1], [0], [0], [1], [1], [0]], dtype=dtype)
    return x, y


def two_moons(generator: np.random.Generator, n: int = 400,
              dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Tutorial 000's two moons (``np.random.default_rng(1)`` there). -> x: (n, 2), y: (n, 1)

    Class 0: the upper half of a ring of radius 1 ± 0.05; class 1: the lower half, shifted by
    (0.8, 0.2), so the two arcs interlock. The draws are the tutorial's, in its order.
    """
    half = n // 2
    theta0 = generator.uniform(0, np.pi, half)
    r0 = 1.0 + 0.05 * generator.standard_normal(half)
    x0 = np.c_[r0 * np.cos(theta0), r0 * np.sin(theta0)]                      # (n/2, 2)
    theta1 = generator.uniform(0, np.pi, half)
    r1 = 1.0 + 0.05 * generator.standard_normal(half)
    x1 = np.c_[r1 * np.cos(theta1), -r1 * np.sin(theta1)] + np.array([0.8, 0.2])
    x = np.vstack([x0, x1]).astype(dtype)                                     # (n, 2)
    y = np.vstack([np.zeros((half, 1)), np.ones((half, 1))]).astype(dtype)   # (n, 1)
    return x, y


# -- networks ---------------------------------------------------------------------------------
class XORNet(Module):
    """out = σ(W₂ ReLU(W₁x + b₁) + b₂)        twin: torch_ref/mlp.py

    x: (N, 2) -> out: (N, 1), a probability. Trained with MSELoss, as in tutorial 001.
    """

    def __init__(self, hidden: int = 4, dtype=None, generator: np.random.Generator | None = None):
        super().__init__()
        self.fc1 = Linear(2, hidden, dtype=dtype, generator=generator)
        self.relu = ReLU()
        self.fc2 = Linear(hidden, 1, dtype=dtype, generator=generator)
        self.sigmoid = Sigmoid()

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self.relu(self.fc1(x))                      # (N, hidden)
        return self.sigmoid(self.fc2(x))                # (N, 1)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        grad = self.fc2.backward(self.sigmoid.backward(grad_out))    # (N, hidden)
        return self.fc1.backward(self.relu.backward(grad))           # (N, 2)


class MoonsNet(Module):
    """out = W₂ ReLU(W₁x + b₁) + b₂, a logit: P(class 1) = σ(out)     twin: torch_ref/mlp.py

    x: (N, 2) -> out: (N, 1). Trained with BCEWithLogitsLoss, which applies the sigmoid
    inside the loss where it is exact (tutorial 000 applies it in the network).
    """

    def __init__(self, hidden: int = 8, dtype=None, generator: np.random.Generator | None = None):
        super().__init__()
        self.fc1 = Linear(2, hidden, dtype=dtype, generator=generator)
        self.relu = ReLU()
        self.fc2 = Linear(hidden, 1, dtype=dtype, generator=generator)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self.relu(self.fc1(x))                      # (N, hidden)
        return self.fc2(x)                              # (N, 1)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        grad = self.fc2.backward(grad_out)              # (N, hidden)
        return self.fc1.backward(self.relu.backward(grad))           # (N, 2)


class MLP(Module):
    """logits = W₃ ReLU(W₂ ReLU(W₁x + b₁) + b₂) + b₃        twin: torch_ref/mlp.py

    x: (N, 784) -> logits: (N, 10). Trained with CrossEntropyLoss on the logits (softmax and
    log in one stable step). Weights start He-normal, W ~ N(0, 2/fan_in) (kaiming_normal_,
    nonlinearity 'relu'), biases at 0: the variance of the pre-activations then stays about
    the same from layer to layer under ReLU, which halves it.
    """

    def __init__(self, in_features: int = 784, hidden: tuple[int, int] = (128, 64),
                 num_classes: int = 10, dtype=None, generator: np.random.Generator | None = None):
        super().__init__()
        self.fc1 = Linear(in_features, hidden[0], dtype=dtype)
        self.relu1 = ReLU()
        self.fc2 = Linear(hidden[0], hidden[1], dtype=dtype)
        self.relu2 = ReLU()
        self.fc3 = Linear(hidden[1], num_classes, dtype=dtype)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: np.random.Generator | None = None) -> None:
        generator = np.random.default_rng() if generator is None else generator
        for fc in (self.fc1, self.fc2, self.fc3):
            init.kaiming_normal_(fc.weight, nonlinearity="relu", generator=generator)
            init.zeros_(fc.bias)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self.relu1(self.fc1(x))                     # (N, 128)
        x = self.relu2(self.fc2(x))                     # (N, 64)
        return self.fc3(x)                              # (N, 10)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        grad = self.fc3.backward(grad_out)              # (N, 64)
        grad = self.fc2.backward(self.relu2.backward(grad))          # (N, 128)
        return self.fc1.backward(self.relu1.backward(grad))          # (N, 784)

