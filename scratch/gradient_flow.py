"""Gradient flow: how ∂L/∂W shrinks or holds with depth.

A deep MLP:  hₗ = φ(Wₗ hₗ₋₁ + bₗ),  l = 1 … D−1;  logits = W_D h + b_D

Backward multiplies by φ'(zₗ) and Wₗᵀ once per layer:
    ∂L/∂hₗ₋₁ = Wₗᵀ (φ'(zₗ) ⊙ ∂L/∂hₗ)
    ‖∂L/∂hₗ₋₁‖ ≤ ‖Wₗ‖₂ · max φ' · ‖∂L/∂hₗ‖     with σ' ≤ 1/4

so sigmoid's gradients shrink by about 4× per layer unless the
weights grow to undo it; He-initialised ReLU holds them.

x: (N, in_features) -> logits: (N, num_classes)
twin: torch_ref/gradient_flow.py (autograd, retain_grad)
story: docs/gradient_flow.md (the tutorials' claims, measured)
"""

from __future__ import annotations

import numpy as np

from scratch import _checks as check
from scratch import init
from scratch.activations import ReLU, Sigmoid, Tanh
from scratch.linear import Linear
from scratch.module import Module
from scratch.optim import SGD
from scratch.training import train_step

ACTIVATIONS = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU}
INITS = ("default", "xavier", "he")


class DeepMLP(Module):
    """fc1, act1, fc2, act2, …, fc{depth}: depth Linear layers.

    init: "default" (torch's, U(±1/√fan_in)), "xavier"
    (xavier_uniform_, gain 1) or "he" (kaiming_normal_, ReLU),
    with zero biases for the last two.
    """

    def __init__(self, depth: int = 10, width: int = 64,
                 in_features: int = 64, num_classes: int = 10,
                 activation: str = "sigmoid", init: str = "default",
                 dtype=None, generator=None):
        super().__init__()
        check.choice("DeepMLP", "activation", activation,
                     tuple(ACTIVATIONS))
        check.choice("DeepMLP", "init", init, INITS)
        self.depth = check.integer("DeepMLP", "depth", depth, 2)
        self.activation, self.init = activation, init
        generator = check.generator("DeepMLP", generator)
        sizes = [in_features] + [width] * (depth - 1) + [num_classes]
        for l in range(1, depth + 1):
            fc = Linear(sizes[l - 1], sizes[l], dtype=dtype,
                        generator=generator)
            _initialise(fc, init, generator)
            setattr(self, f"fc{l}", fc)
            if l < depth:
                setattr(self, f"act{l}", ACTIVATIONS[activation]())

    def layers(self) -> list[Linear]:
        return [getattr(self, f"fc{l}")
                for l in range(1, self.depth + 1)]

    def forward(self, x: np.ndarray) -> np.ndarray:
        for l in range(1, self.depth):
            x = getattr(self, f"act{l}")(getattr(self, f"fc{l}")(x))
        return getattr(self, f"fc{self.depth}")(x)   # (N, classes)

    def backward(self, grad_out: np.ndarray,
                 need_input_grad: bool = True):
        """∂L/∂logits -> ∂L/∂x. On the way it measures the signal,
        signal_norms = ‖∂L/∂hₗ‖ for l = D−1 … 1 (output first)."""
        self.signal_norms, g = [], grad_out
        for l in range(self.depth, 0, -1):
            if l < self.depth:
                g = getattr(self, f"act{l}").backward(g)  # ⊙ φ'(zₗ)
            g = getattr(self, f"fc{l}").backward(         # Wₗᵀ ·
                g, need_input_grad=need_input_grad or l > 1)
            if l > 1:
                self.signal_norms.append(np.linalg.norm(g))
        return g


def _initialise(fc: Linear, how: str, generator) -> None:
    if how == "xavier":
        init.xavier_uniform_(fc.weight, generator=generator)
    elif how == "he":
        init.kaiming_normal_(fc.weight, nonlinearity="relu",
                             generator=generator)
    if how != "default":
        init.zeros_(fc.bias)


def teacher_data(generator: np.random.Generator, n: int = 256,
                 in_features: int = 64, num_classes: int = 10):
    """x ~ N(0, I) (n, in); labels from a random linear teacher,
    argmax(x T), so that there is something to learn."""
    x = generator.standard_normal((n, in_features))
    teacher = generator.standard_normal((in_features, num_classes))
    return x, (x @ teacher).argmax(axis=1)             # (n,), int64


def weight_grad_norms(model: DeepMLP) -> np.ndarray:
    """‖∂L/∂Wₗ‖ (Frobenius) for l = 1 … depth, as .grad holds it."""
    return np.array([np.linalg.norm(fc.weight.grad)
                     for fc in model.layers()])


def gradient_norms(model: DeepMLP, loss_fn, x: np.ndarray,
                   target: np.ndarray) -> np.ndarray:
    """One forward and backward: ‖∂L/∂Wₗ‖ by depth, input first."""
    model.zero_grad()
    loss_fn(model(x), target)
    model.backward(loss_fn.backward())
    return weight_grad_norms(model)


def train(model: DeepMLP, loss_fn, x: np.ndarray, target,
          steps: int, lr: float = 0.1) -> list[float]:
    """``steps`` full-batch SGD steps; the loss of each."""
    optimizer = SGD(model.parameters(), lr=lr)
    model.train()
    return [train_step(model, loss_fn, optimizer, x, target)[0]
            for _ in range(steps)]


__all__ = ["ACTIVATIONS", "INITS", "DeepMLP", "gradient_norms",
           "teacher_data", "train", "weight_grad_norms"]
