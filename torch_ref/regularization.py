"""Regularisation: L2 (weight decay), L1, and early stopping.   twin: scratch/regularization.py

L2Penalty   R(θ) = (λ/2) Σ ‖θ‖²   what torch.optim's ``weight_decay=λ`` adds to the gradient
L1Penalty   R(θ) = λ Σ |θ|        autograd's backward of abs gives sign(θ), 0 at θ = 0
EarlyStopping and validation_split keep no tensors: the scratch twin's objects serve both.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable

import torch
from torch import nn

from scratch.regularization import EarlyStopping, validation_split
from torch_ref.training import evaluate, train_epoch


class L2Penalty:
    """R(θ) = (λ/2) Σ ‖θ‖²; add it to the loss and autograd adds λθ to each gradient."""

    def __init__(self, weight_decay: float):
        if not weight_decay >= 0:
            raise ValueError(f"L2Penalty: weight_decay must be >= 0, got {weight_decay!r}")
        self.weight_decay = float(weight_decay)

    def __call__(self, params: Iterable[torch.Tensor]) -> torch.Tensor:
        return 0.5 * self.weight_decay * sum(p.square().sum() for p in params)


class L1Penalty:
    """R(θ) = λ Σ |θ|; autograd adds λ sign(θ) to each gradient."""

    def __init__(self, l1_lambda: float):
        if not l1_lambda >= 0:
            raise ValueError(f"L1Penalty: l1_lambda must be >= 0, got {l1_lambda!r}")
        self.l1_lambda = float(l1_lambda)

    def __call__(self, params: Iterable[torch.Tensor]) -> torch.Tensor:
        return self.l1_lambda * sum(p.abs().sum() for p in params)


def fit(model: nn.Module, loss_fn: nn.Module, optimizer: torch.optim.Optimizer,
        train_batches: Callable[[int], Iterable], validation_batches: Iterable,
        early_stopping: EarlyStopping, max_epochs: int, penalty=None) -> dict[str, list[float]]:
    """Train until ``early_stopping`` says stop (or ``max_epochs``), then restore the best weights."""
    history: dict[str, list[float]] = {"train_loss": [], "val_loss": []}
    best_state = copy.deepcopy(model.state_dict())
    for epoch in range(max_epochs):
        history["train_loss"] += train_epoch(model, loss_fn, optimizer, train_batches(epoch), penalty)
        val_loss, _ = evaluate(model, loss_fn, validation_batches)
        history["val_loss"].append(val_loss)
        stop = early_stopping.step(val_loss)
        if early_stopping.improved:
            best_state = copy.deepcopy(model.state_dict())
        if stop:
            break
    model.load_state_dict(best_state)
    return history


__all__ = ["EarlyStopping", "L1Penalty", "L2Penalty", "fit", "validation_split"]
