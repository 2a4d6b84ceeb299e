"""Rosenblatt's perceptron: a step neuron and a learning rule without gradients.

twin: torch_ref/perceptron.py

ŷ = step(w·x + b),   step(z) = 1 if z ≥ 0 else 0

Learning, one sample at a time (Rosenblatt 1958):
    w ← w + η (t − ŷ) x        b ← b + η (t − ŷ)        t, ŷ ∈ {0, 1}
A correct prediction changes nothing; a mistake moves the boundary towards the right side of
x. On linearly separable data (AND, OR) a pass with no mistake comes after finitely many
updates (the perceptron convergence theorem); on XOR it never comes, since no line separates
{(0,1), (1,0)} from {(0,0), (1,1)}.

Where the tutorial goes wrong: its weights come from ``np.random.randn`` with no seed, so no
two runs agree; its ``activation`` tests ``1 if x >= 0 else 0`` on a Python scalar, so
``predict`` works for one sample only (a batch raises "truth value of an array is
ambiguous"). Here the initial weights come from a ``generator`` and forward takes a batch.
Its ``train(inputs, target)`` is ``train_step`` here: on a Module, ``train()`` switches
training mode, as in torch.
"""

from __future__ import annotations

import numpy as np

from scratch.module import check_input
from scratch.neuron import Neuron


class Perceptron(Neuron):
    """ŷ = step(w·x + b), trained by w ← w + η (t − ŷ) x, b ← b + η (t − ŷ)

    x: (*, n_inputs) -> ŷ: (*, 1) of 0s and 1s          twin: torch_ref/perceptron.py

    A Neuron with the step activation; ``backward`` raises, since the rule needs no gradient.
    ``lr`` is η. Weights start as Neuron's: w, b ~ U(−1/√n_inputs, 1/√n_inputs).
    """

    def __init__(self, n_inputs: int, lr: float = 0.1, dtype=None,
                 generator: np.random.Generator | None = None):
        super().__init__(n_inputs, activation="step", dtype=dtype, generator=generator)
        self.lr = float(lr)

    def train_step(self, x: np.ndarray, target) -> float:
        """One sample x: (n_inputs,) with target t ∈ {0, 1}; returns the error t − ŷ ∈ {−1, 0, 1}."""
        where = f"Perceptron({self.extra_repr()})"
        check_input(where, x, ndim=1, shape_hint="(n_inputs,): one sample")
        if target not in (0, 1):
            raise ValueError(f"{where}: target must be 0 or 1, got {target!r}")
        error = (target - self(x)).item()                      # t − ŷ
        self.weight.data += self.lr * error * x                 # w ← w + η (t − ŷ) x
        self.bias.data += self.lr * error                       # b ← b + η (t − ŷ)
        return error

    def fit(self, X: np.ndarray, y, epochs: int = 100) -> list[dict]:
        """Passes over (X, y) in order until one makes no mistake, at most ``epochs``.

        X: (N, n_inputs), y: (N,) of 0s and 1s. Returns one record per pass: the number of
        mistakes made during it and the weight and bias after it. The last record has 0
        mistakes exactly when training converged (then every sample is classified right).
        """
        history = []
        for _ in range(epochs):
            mistakes = sum(self.train_step(x, t) != 0 for x, t in zip(X, y, strict=True))
            history.append({"mistakes": mistakes, "weight": self.weight.data.copy(),
                            "bias": self.bias.data.copy()})
            if mistakes == 0:
                break
        return history

    def extra_repr(self) -> str:
        return f"n_inputs={self.n_inputs}, lr={self.lr}"


__all__ = ["Perceptron"]
