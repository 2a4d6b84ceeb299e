"""Rosenblatt's perceptron: a step neuron and a learning rule without gradients.

ŷ = step(w·x + b)        w ← w + η (t − ŷ) x        b ← b + η (t − ŷ)

torch has no perceptron module: this is the torch twin Neuron with the step activation and
the rule applied to its tensors under torch.no_grad.

twin: scratch/perceptron.py
"""

from __future__ import annotations

import torch

from torch_ref.neuron import Neuron


class Perceptron(Neuron):
    """ŷ = step(w·x + b)"""

    def __init__(self, n_inputs, lr=0.1,
                 dtype=None, generator=None):
        super().__init__(n_inputs, activation="step",
                         dtype=dtype,
                         generator=generator)
        self.lr = float(lr)
        # learned by a rule, not by autograd
        self.requires_grad_(False)

    @torch.no_grad()
    def train_step(self, x, target) -> float:
        """One sample; returns t − ŷ."""
        where = f"Perceptron({self.extra_repr()})"
        if x.dim() != 1:
            raise ValueError(
                f"{where}: input must be 1-D "
                "(n_inputs,): one sample, got "
                f"shape {tuple(x.shape)}")
        if target not in (0, 1):
            raise ValueError(
                f"{where}: target must be 0 or 1, "
                f"got {target!r}")
        error = (target - self(x)).item()
        self.weight += self.lr * error * x
        self.bias += self.lr * error
        return error

    def fit(self, X, y, epochs=100):
        """Passes over (X, y) until one makes
        no mistake, at most ``epochs``."""
        history = []
        for _ in range(epochs):
            mistakes = 0
            for x, t in zip(X, y, strict=True):
                mistakes += self.train_step(x, t) != 0
            history.append({
                "mistakes": mistakes,
                "weight": self.weight.detach().clone(),
                "bias": self.bias.detach().clone()})
            if mistakes == 0:
                break
        return history

    def extra_repr(self) -> str:
        return f"n_inputs={self.n_inputs}, lr={self.lr}"


__all__ = ["Perceptron"]
