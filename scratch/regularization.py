"""Regularisation: L2 (weight decay), L1, and early stopping.   twin: torch_ref/regularization.py

L2Penalty   R(θ) = (λ/2) Σ ‖θ‖²        ∂R/∂θ = λ θ
L1Penalty   R(θ) = λ Σ |θ|             ∂R/∂θ = λ sign(θ)    (0 at θ = 0)
EarlyStopping   stop once the validation loss has not improved for ``patience`` epochs

L2 is what ``weight_decay=λ`` does in SGD and Adam: their step adds λθ to the gradient, which
is the gradient of (λ/2)‖θ‖². So SGD(weight_decay=λ) on L and plain SGD on L + (λ/2)‖θ‖² take
the same steps (with momentum too); parity_tests/test_regularization.py runs both, in both
twins. The ½ matters: a penalty λ‖θ‖² would be weight_decay = 2λ. Each step shrinks θ by the
factor (1 − lr·λ) before the data gradient acts, hence "decay". AdamW is the exception: it
shrinks θ by (1 − lr·λ) *outside* Adam's per-entry scaling (decoupled weight decay), which no
penalty added to the loss reproduces.

L1 has no gradient at θ = 0. We use the subgradient sign(θ), 0 at 0, which is what torch's
backward of ``abs`` returns, so both twins step alike even on exact zeros. Plain (sub)gradient
descent makes small weights hop across 0 rather than land on it; exact zeros need a proximal
step (soft thresholding), which this file does not attempt.

Early stopping watches the loss on a validation split that training never sees (``validation_split``):
an epoch improves when val_loss < best − min_delta; after ``patience`` epochs in a row without
improvement training stops, and ``fit`` puts back the weights of the best epoch. The tutorials
name it ("stop training when validation loss increases") and stop there; stopping at the
first increase would end most runs at the first noisy epoch, hence the patience.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np

from scratch.module import Module, Parameter
from scratch.training import evaluate, train_epoch


class L2Penalty:
    """R(θ) = (λ/2) Σ ‖θ‖²        ∂R/∂θ = λ θ        twin: torch_ref/regularization.py

    ``penalty(params)`` returns R over the given Parameters (usually ``model.parameters()``,
    which, like ``weight_decay``, includes the biases); ``penalty.backward()`` adds λθ into
    each of their ``.grad``.
    """

    def __init__(self, weight_decay: float):
        if not weight_decay >= 0:
            raise ValueError(f"L2Penalty: weight_decay must be >= 0, got {weight_decay!r}")
        self.weight_decay = float(weight_decay)

    def __call__(self, params: Iterable[Parameter]):
        self.params = list(params)
        return 0.5 * self.weight_decay * sum(np.sum(p.data * p.data) for p in self.params)

    def backward(self) -> None:
        for p in self.params:
            p.grad += self.weight_decay * p.data                  # ∂R/∂θ = λ θ


class L1Penalty:
    """R(θ) = λ Σ |θ|        ∂R/∂θ = λ sign(θ), 0 at θ = 0        twin: torch_ref/regularization.py"""

    def __init__(self, l1_lambda: float):
        if not l1_lambda >= 0:
            raise ValueError(f"L1Penalty: l1_lambda must be >= 0, got {l1_lambda!r}")
        self.l1_lambda = float(l1_lambda)

    def __call__(self, params: Iterable[Parameter]):
        self.params = list(params)
        return self.l1_lambda * sum(np.sum(np.abs(p.data)) for p in self.params)

    def backward(self) -> None:
        for p in self.params:
            p.grad += self.l1_lambda * np.sign(p.data)            # ∂R/∂θ = λ sign(θ)


def validation_split(n: int, validation_fraction: float,
                     generator: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, validation indices): a random ⌊n·fraction⌋ samples held out."""
    if not 0 < validation_fraction < 1:
        raise ValueError(f"validation_split: validation_fraction must be in (0, 1), "
                         f"got {validation_fraction!r}")
    order = generator.permutation(n)
    n_val = int(n * validation_fraction)
    return order[n_val:], order[:n_val]


class EarlyStopping:
    """Stop when the monitored loss has not improved by more than ``min_delta`` for
    ``patience`` epochs in a row. twin: the same object serves torch_ref (it sees numbers only).

    ``step(loss)`` after each epoch returns True when training should stop. An epoch improves
    when loss < best − min_delta (NaN never improves); it then becomes ``best`` at
    ``best_epoch`` (0-based) and the count of epochs without improvement restarts at 0.
    """

    def __init__(self, patience: int = 5, min_delta: float = 0.0):
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ValueError(f"EarlyStopping: patience must be an int >= 1, got {patience!r}")
        if not min_delta >= 0:
            raise ValueError(f"EarlyStopping: min_delta must be >= 0, got {min_delta!r}")
        self.patience = patience
        self.min_delta = float(min_delta)
        self.best = math.inf
        self.best_epoch = -1
        self.epoch = -1
        self.bad_epochs = 0
        self.improved = False
        self.should_stop = False

    def step(self, loss: float) -> bool:
        self.epoch += 1
        self.improved = float(loss) < self.best - self.min_delta
        if self.improved:
            self.best, self.best_epoch, self.bad_epochs = float(loss), self.epoch, 0
        else:
            self.bad_epochs += 1
        self.should_stop = self.bad_epochs >= self.patience
        return self.should_stop

    def __repr__(self) -> str:
        return f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta})"


def fit(model: Module, loss_fn: Module, optimizer, train_batches: Callable[[int], Iterable],
        validation_batches: Iterable, early_stopping: EarlyStopping, max_epochs: int,
        penalty=None) -> dict[str, list[float]]:
    """Train until ``early_stopping`` says stop (or ``max_epochs``), then restore the best weights.

    ``train_batches(epoch)`` gives that epoch's batches (so a shared permutation per epoch
    can feed both twins); ``validation_batches`` is re-iterable (a list). Returns the loss of
    every training step and the validation loss of every epoch.
    """
    history: dict[str, list[float]] = {"train_loss": [], "val_loss": []}
    best_state = model.state_dict()                       # copies
    for epoch in range(max_epochs):
        history["train_loss"] += train_epoch(model, loss_fn, optimizer, train_batches(epoch), penalty)
        val_loss, _ = evaluate(model, loss_fn, validation_batches)
        history["val_loss"].append(val_loss)
        stop = early_stopping.step(val_loss)
        if early_stopping.improved:
            best_state = model.state_dict()
        if stop:
            break
    model.load_state_dict(best_state)
    return history
