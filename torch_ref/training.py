"""The training loop: forward, loss, backward, step.

θ ← θ − lr·(direction from ∂L/∂θ), once per mini-batch.

twin: scratch/training.py (line 3 differs: here autograd
walks the graph it recorded during forward)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np
import torch
from torch import nn


def train_step(model: nn.Module, loss_fn: nn.Module, optimizer,
               x: torch.Tensor, target: torch.Tensor,
               penalty=None) -> tuple[torch.Tensor, torch.Tensor]:
    """One step; (loss, out), detached, left on the device."""
    optimizer.zero_grad()
    out = model(x)                          # 1. forward
    loss = loss_fn(out, target)             # 2. loss
    if penalty is not None:
        loss = loss + penalty(model.parameters())
    loss.backward()                         # 3. backward
    optimizer.step()                        # 4. step
    return loss.detach(), out.detach()


def train_epoch(model: nn.Module, loss_fn: nn.Module, optimizer,
                batches: Iterable, penalty=None) -> list[float]:
    """One pass over ``batches``: the loss of every step."""
    model.train()
    return [train_step(model, loss_fn, optimizer, x, target,
                       penalty)[0].item()
            for x, target in batches]


@torch.no_grad()
def evaluate(model: nn.Module, loss_fn: nn.Module,
             batches: Iterable, predict: Callable | None = None
             ) -> tuple[float, float | None]:
    """(mean loss over the samples, accuracy); no graph."""
    model.eval()
    total, correct, count = 0.0, 0, 0
    for x, target in batches:
        out = model(x)
        total += loss_fn(out, target).item() * len(x)
        if predict is not None:
            correct += int((predict(out) == target).sum())
        count += len(x)
    accuracy = correct / count if predict is not None else None
    return total / count, accuracy


def minibatches(x: torch.Tensor, target: torch.Tensor,
                batch_size: int, order: np.ndarray | None = None
                ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The batches of DataLoader(TensorDataset(x, target),
    batch_size, sampler=order), by one gather per batch."""
    if order is None:
        order = torch.arange(len(x))
    for idx in torch.as_tensor(order).split(batch_size):
        yield x[idx], target[idx]                    # (B, …), (B, …)


__all__ = ["evaluate", "minibatches", "train_epoch", "train_step"]
