"""The training loop: forward, loss, backward, step.          twin: scratch/training.py

    for x, target in batches:
        optimizer.zero_grad()                 # backward adds into .grad: clear last step's
        out = model(x)                        # 1. forward: the prediction
        loss = loss_fn(out, target)           # 2. loss: how wrong it is
        loss.backward()                       # 3. backward: autograd fills every param.grad
        optimizer.step()                      # 4. step: θ ← θ − lr·(direction from ∂L/∂θ)

Mini-batches follow the scratch twin's index permutation, so both twins see the same
batches in the same order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np
import torch
from torch import nn


def minibatches(x: torch.Tensor, target: torch.Tensor, batch_size: int,
                order: np.ndarray | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """(x[idx], target[idx]) for consecutive chunks idx of ``order`` (0…N−1 if None).

    The same batches as ``DataLoader(TensorDataset(x, target), batch_size, sampler=order)``,
    which fetches and stacks them one sample at a time (about 40 µs a sample on a CPU, more
    than a small network's whole step); for tensors already in memory one gather does it.
    """
    order = torch.arange(len(x)) if order is None else torch.as_tensor(order)
    for idx in order.split(batch_size):
        yield x[idx], target[idx]                       # (B, …), (B, …)


def train_epoch(model: nn.Module, loss_fn: nn.Module, optimizer: torch.optim.Optimizer,
                batches: Iterable, penalty=None) -> list[float]:
    """One pass over ``batches``; returns the loss of every step (before its update)."""
    model.train()
    losses = []
    for x, target in batches:
        optimizer.zero_grad()
        out = model(x)                                  # forward
        loss = loss_fn(out, target)                     # loss
        if penalty is not None:
            loss = loss + penalty(model.parameters())   # L + R(θ)
        loss.backward()                                 # backward: autograd fills param.grad
        optimizer.step()                                # step
        losses.append(loss.item())
    return losses


@torch.no_grad()
def evaluate(model: nn.Module, loss_fn: nn.Module, batches: Iterable,
             predict: Callable | None = None) -> tuple[float, float | None]:
    """(mean loss over the samples, accuracy); no graph is recorded."""
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    for x, target in batches:
        out = model(x)
        total_loss += loss_fn(out, target).item() * len(x)   # loss_fn is a mean over the batch
        if predict is not None:
            correct += int((predict(out) == target).sum())
        count += len(x)
    return total_loss / count, (correct / count if predict is not None else None)
