"""Regularisation: L2 (weight decay), L1, and early stopping.

L2Penalty   R(θ) = (λ/2) Σ ‖θ‖²   what torch.optim's weight_decay=λ adds
L1Penalty   R(θ) = λ Σ |θ|        autograd's abs gives sign(θ), 0 at 0
EarlyStopping and validation_split keep no tensors: the scratch
twin's serve both.

twin: scratch/regularization.py
"""

from __future__ import annotations

import copy

from scratch.regularization import EarlyStopping, validation_split
from torch_ref.training import evaluate, train_epoch


class L2Penalty:
    """R(θ) = (λ/2) Σ ‖θ‖²; autograd adds
    λθ to each gradient."""

    def __init__(self, weight_decay):
        if not weight_decay >= 0:
            raise ValueError(
                "L2Penalty: weight_decay must be "
                f">= 0, got {weight_decay!r}")
        self.weight_decay = float(weight_decay)

    def __call__(self, params):
        squares = sum(p.square().sum()
                      for p in params)
        return 0.5 * self.weight_decay * squares

    # autograd derives the backward


class L1Penalty:
    """R(θ) = λ Σ |θ|; autograd adds
    λ sign(θ) to each gradient."""

    def __init__(self, l1_lambda):
        if not l1_lambda >= 0:
            raise ValueError(
                "L1Penalty: l1_lambda must be "
                f">= 0, got {l1_lambda!r}")
        self.l1_lambda = float(l1_lambda)

    def __call__(self, params):
        total = sum(p.abs().sum() for p in params)
        return self.l1_lambda * total

    # autograd derives the backward


def fit(model, loss_fn, optimizer, train_batches,
        validation_batches, early_stopping,
        max_epochs, penalty=None):
    """Train until ``early_stopping`` says
    stop, then restore the best weights."""
    history = {"train_loss": [], "val_loss": []}
    state = model.state_dict
    best_state = copy.deepcopy(state())
    for epoch in range(max_epochs):
        history["train_loss"] += train_epoch(
            model, loss_fn, optimizer,
            train_batches(epoch), penalty)
        val_loss, _ = evaluate(
            model, loss_fn, validation_batches)
        history["val_loss"].append(val_loss)
        stop = early_stopping.step(val_loss)
        if early_stopping.improved:
            best_state = copy.deepcopy(state())
        if stop:
            break
    model.load_state_dict(best_state)
    return history


__all__ = ["EarlyStopping", "L1Penalty", "L2Penalty", "fit",
           "validation_split"]
