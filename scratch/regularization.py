"""Regularisation: L2 (weight decay), L1, and early stopping.

L2Penalty   R(θ) = (λ/2) Σ ‖θ‖²      ∂R/∂θ = λ θ
L1Penalty   R(θ) = λ Σ |θ|           ∂R/∂θ = λ sign(θ)  (0 at 0)
EarlyStopping   stop once the validation loss has not improved
                for ``patience`` epochs

SGD(weight_decay=λ) on L = plain SGD on L + (λ/2)‖θ‖² (not AdamW).

twin: torch_ref/regularization.py
story: docs/regularization.md (weight decay is L2, early stopping)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np

from scratch import _checks as check
from scratch.module import Module
from scratch.training import evaluate, train_epoch


class L2Penalty:
    """R(θ) = (λ/2) Σ ‖θ‖²        ∂R/∂θ = λ θ

    ``penalty(params)`` returns R; ``penalty.backward()``
    adds λθ into each ``param.grad``.
    """

    def __init__(self, weight_decay: float):
        check.at_least("L2Penalty", "weight_decay",
                       weight_decay)
        self.weight_decay = float(weight_decay)

    def __call__(self, params):
        self.params = list(params)
        squares = sum(np.sum(p.data * p.data)
                      for p in self.params)
        return 0.5 * self.weight_decay * squares

    def backward(self) -> None:
        for p in self.params:
            p.grad += self.weight_decay * p.data    # λ θ


class L1Penalty:
    """R(θ) = λ Σ |θ|     ∂R/∂θ = λ sign(θ), 0 at θ = 0"""

    def __init__(self, l1_lambda: float):
        check.at_least("L1Penalty", "l1_lambda", l1_lambda)
        self.l1_lambda = float(l1_lambda)

    def __call__(self, params):
        self.params = list(params)
        total = sum(np.sum(np.abs(p.data))
                    for p in self.params)
        return self.l1_lambda * total

    def backward(self) -> None:
        for p in self.params:
            p.grad += self.l1_lambda * np.sign(p.data)


def validation_split(n: int, validation_fraction: float,
                     generator: np.random.Generator):
    """(train indices, validation indices): a random
    ⌊n·fraction⌋ samples held out."""
    check.inside("validation_split", "validation_fraction",
                 validation_fraction, 0, 1)
    order = generator.permutation(n)
    n_val = int(n * validation_fraction)
    return order[n_val:], order[:n_val]


class EarlyStopping:
    """Stop when the loss has not improved by more than
    ``min_delta`` for ``patience`` epochs in a row.

    ``step(loss)`` after each epoch: True means stop.
    Improved: loss < best − min_delta (NaN never is).
    """

    def __init__(self, patience: int = 5, min_delta=0.0):
        self.patience = check.integer(
            "EarlyStopping", "patience", patience, 1)
        check.at_least("EarlyStopping", "min_delta",
                       min_delta)
        self.min_delta = float(min_delta)
        self.best = math.inf
        self.best_epoch = -1
        self.epoch = -1
        self.bad_epochs = 0
        self.improved = False
        self.should_stop = False

    def step(self, loss: float) -> bool:
        self.epoch += 1
        bar = self.best - self.min_delta
        self.improved = float(loss) < bar
        if self.improved:
            self.best, self.best_epoch = float(loss), self.epoch
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
        self.should_stop = self.bad_epochs >= self.patience
        return self.should_stop

    def __repr__(self) -> str:
        return (f"EarlyStopping(patience={self.patience}, "
                f"min_delta={self.min_delta})")


def fit(model: Module, loss_fn: Module, optimizer,
        train_batches: Callable[[int], Iterable],
        validation_batches: Iterable,
        early_stopping: EarlyStopping, max_epochs: int,
        penalty=None) -> dict[str, list[float]]:
    """Train until ``early_stopping`` says stop (or
    ``max_epochs``), then restore the best weights.

    ``train_batches(epoch)``: that epoch's batches.
    Returns every step's loss, every epoch's val_loss.
    """
    history = {"train_loss": [], "val_loss": []}
    best_state = model.state_dict()        # copies
    for epoch in range(max_epochs):
        history["train_loss"] += train_epoch(
            model, loss_fn, optimizer,
            train_batches(epoch), penalty)
        val_loss, _ = evaluate(model, loss_fn,
                               validation_batches)
        history["val_loss"].append(val_loss)
        stop = early_stopping.step(val_loss)
        if early_stopping.improved:
            best_state = model.state_dict()
        if stop:
            break
    model.load_state_dict(best_state)
    return history


__all__ = ["EarlyStopping", "L1Penalty", "L2Penalty", "fit",
           "validation_split"]
