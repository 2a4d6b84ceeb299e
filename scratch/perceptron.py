"""Rosenblatt's perceptron: a step neuron and a learning rule without gradients.

ŷ = step(w·x + b),   step(z) = 1 if z ≥ 0 else 0

Learning, one sample at a time (Rosenblatt 1958):
    w ← w + η (t − ŷ) x        b ← b + η (t − ŷ)        t, ŷ ∈ {0, 1}

x: (*, n_inputs) -> ŷ: (*, 1) of 0s and 1s

twin: torch_ref/perceptron.py
story: docs/perceptron.md (convergence, XOR, the tutorial's seeds)
"""

from __future__ import annotations

import numpy as np

from scratch import _checks as check
from scratch.neuron import Neuron


class Perceptron(Neuron):
    """ŷ = step(w·x + b)
    trained by w ← w + η (t − ŷ) x,  b ← b + η (t − ŷ)

    x: (*, n_inputs) -> ŷ: (*, 1) of 0s and 1s
    """

    def __init__(self, n_inputs: int, lr: float = 0.1,
                 dtype=None, generator=None):
        super().__init__(n_inputs, activation="step",
                         dtype=dtype, generator=generator)
        self.lr = float(lr)

    def train_step(self, x: np.ndarray, target) -> float:
        """One sample x: (n_inputs,), target t ∈ {0, 1};
        returns the error t − ŷ ∈ {−1, 0, 1}."""
        where = f"Perceptron({self.extra_repr()})"
        check.input(where, x, ndim=1,
                    layout="(n_inputs,): one sample")
        check.choice(where, "target", target, (0, 1))
        error = (target - self(x)).item()       # t − ŷ
        self.weight.data += self.lr * error * x  # η (t − ŷ) x
        self.bias.data += self.lr * error        # η (t − ŷ)
        return error

    def fit(self, X: np.ndarray, y, epochs: int = 100):
        """Passes over (X, y) in order until one makes no
        mistake, at most ``epochs``: one record per pass.

        X: (N, n_inputs), y: (N,) of 0s and 1s.
        """
        history = []
        for _ in range(epochs):
            mistakes = 0
            for x, t in zip(X, y, strict=True):
                mistakes += self.train_step(x, t) != 0
            history.append({
                "mistakes": mistakes,
                "weight": self.weight.data.copy(),
                "bias": self.bias.data.copy()})
            if mistakes == 0:
                break
        return history

    def extra_repr(self) -> str:
        return f"n_inputs={self.n_inputs}, lr={self.lr}"


__all__ = ["Perceptron"]
