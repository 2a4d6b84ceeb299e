"""Rosenblatt's perceptron: a step neuron and a learning rule without gradients.

twin: scratch/perceptron.py

ŷ = step(w·x + b)        w ← w + η (t − ŷ) x        b ← b + η (t − ŷ)

torch has no perceptron module: this is the torch twin Neuron with the step activation and
the rule applied to its tensors under torch.no_grad.
"""

from __future__ import annotations

import torch

from torch_ref.neuron import Neuron


class Perceptron(Neuron):
    """ŷ = step(w·x + b), trained by w ← w + η (t − ŷ) x, b ← b + η (t − ŷ)

    x: (*, n_inputs) -> ŷ: (*, 1) of 0s and 1s          twin: scratch/perceptron.py
    """

    def __init__(self, n_inputs: int, lr: float = 0.1, dtype: torch.dtype | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(n_inputs, activation="step", dtype=dtype, generator=generator)
        self.lr = float(lr)
        self.requires_grad_(False)          # learned by a rule, not by autograd

    @torch.no_grad()
    def train_step(self, x: torch.Tensor, target) -> float:
        """One sample x: (n_inputs,) with target t ∈ {0, 1}; returns the error t − ŷ ∈ {−1, 0, 1}."""
        where = f"Perceptron({self.extra_repr()})"
        if x.dim() != 1:
            raise ValueError(
                f"{where}: input must be 1-D (n_inputs,): one sample, got shape {tuple(x.shape)}"
            )
        if target not in (0, 1):
            raise ValueError(f"{where}: target must be 0 or 1, got {target!r}")
        error = (target - self(x)).item()
        self.weight += self.lr * error * x
        self.bias += self.lr * error
        return error

    def fit(self, X: torch.Tensor, y, epochs: int = 100) -> list[dict]:
        """Passes over (X, y) in order until one makes no mistake, at most ``epochs``."""
        history = []
        for _ in range(epochs):
            mistakes = sum(self.train_step(x, t) != 0 for x, t in zip(X, y, strict=True))
            history.append({"mistakes": mistakes, "weight": self.weight.detach().clone(),
                            "bias": self.bias.detach().clone()})
            if mistakes == 0:
                break
        return history

    def extra_repr(self) -> str:
        return f"n_inputs={self.n_inputs}, lr={self.lr}"


__all__ = ["Perceptron"]
