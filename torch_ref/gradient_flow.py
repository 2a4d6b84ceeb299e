"""Gradient flow: how ∂L/∂W shrinks or holds with depth.

A deep MLP:  hₗ = φ(Wₗ hₗ₋₁ + bₗ),  l = 1 … D−1;  logits = W_D h + b_D
autograd's backward multiplies by φ'(zₗ) and Wₗᵀ per layer;
retain_grad() keeps each ∂L/∂hₗ to measure it.

twin: scratch/gradient_flow.py
"""

from __future__ import annotations

import torch
from torch import nn

from torch_ref.training import train_step

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
               "relu": nn.ReLU}
INITS = ("default", "xavier", "he")


class DeepMLP(nn.Module):
    """fc1, act1, fc2, act2, …, fc{depth}: depth Linear layers."""

    def __init__(self, depth=10, width=64, in_features=64,
                 num_classes=10, activation="sigmoid",
                 init="default"):
        super().__init__()
        self.depth, self.activation = depth, activation
        self.init = init
        sizes = [in_features] + [width] * (depth - 1)
        sizes.append(num_classes)
        for l in range(1, depth + 1):
            fc = nn.Linear(sizes[l - 1], sizes[l])
            _initialise(fc, init)
            setattr(self, f"fc{l}", fc)
            if l < depth:
                setattr(self, f"act{l}", ACTIVATIONS[activation]())

    def layers(self) -> list[nn.Linear]:
        return [getattr(self, f"fc{l}")
                for l in range(1, self.depth + 1)]

    def forward(self, x):
        self.hidden = []              # hₗ, to read ∂L/∂hₗ after
        for l in range(1, self.depth):
            x = getattr(self, f"act{l}")(getattr(self, f"fc{l}")(x))
            if x.requires_grad:
                x.retain_grad()
            self.hidden.append(x)
        return getattr(self, f"fc{self.depth}")(x)

    # autograd derives the backward

    @property
    def signal_norms(self) -> list[float]:
        """‖∂L/∂hₗ‖ for l = D−1 … 1, after loss.backward()."""
        return [h.grad.norm().item() for h in reversed(self.hidden)]


def _initialise(fc: nn.Linear, how: str) -> None:
    if how == "xavier":
        nn.init.xavier_uniform_(fc.weight)
    elif how == "he":
        nn.init.kaiming_normal_(fc.weight, nonlinearity="relu")
    if how != "default":
        nn.init.zeros_(fc.bias)


def weight_grad_norms(model: DeepMLP) -> torch.Tensor:
    return torch.stack([fc.weight.grad.norm()
                        for fc in model.layers()])


def gradient_norms(model, loss_fn, x, target) -> torch.Tensor:
    """One forward and backward: ‖∂L/∂Wₗ‖ by depth."""
    model.zero_grad()
    loss_fn(model(x), target).backward()
    return weight_grad_norms(model)


def train(model, loss_fn, x, target, steps, lr=0.1):
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    model.train()
    steps = [train_step(model, loss_fn, optimizer, x, target)
             for _ in range(steps)]
    return [loss.item() for loss, _ in steps]


__all__ = ["ACTIVATIONS", "INITS", "DeepMLP", "gradient_norms",
           "train", "weight_grad_norms"]
