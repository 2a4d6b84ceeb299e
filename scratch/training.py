"""The training loop: forward, loss, backward, step.

θ ← θ − lr·(direction from ∂L/∂θ), once per mini-batch:

    optimizer.zero_grad()           # backward adds: clear the last step's
    out = model(x)                  # 1. forward
    loss = loss_fn(out, target)     # 2. loss
    model.backward(loss_fn.backward())   # 3. backward: ∂L/∂θ
    optimizer.step()                # 4. step

twin: torch_ref/training.py (the same four lines; there
line 3 is loss.backward(), autograd's walk of the graph)
story: docs/training.md (shared batches, the tutorials' loops)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np

from scratch.module import Module


def train_step(model: Module, loss_fn: Module, optimizer,
               x: np.ndarray, target: np.ndarray,
               penalty=None) -> tuple[float, np.ndarray]:
    """One step on one batch; returns (loss before it, out).

    ``penalty``: a regulariser R(θ) (scratch/regularization.py)
    added to the loss, its gradient to every param.grad.
    """
    optimizer.zero_grad()
    out = model(x)                                  # 1. forward
    loss = float(loss_fn(out, target))              # 2. loss
    # 3. backward; the data need no gradient (in torch, x
    # does not require grad), so the first layer skips it
    model.backward(loss_fn.backward(), need_input_grad=False)
    if penalty is not None:
        loss += float(penalty(model.parameters()))  # L + R(θ)
        penalty.backward()                          # + ∂R/∂θ
    optimizer.step()                                # 4. step
    return loss, out


def train_epoch(model: Module, loss_fn: Module, optimizer,
                batches: Iterable, penalty=None) -> list[float]:
    """One pass over ``batches``: the loss of every step."""
    model.train()
    return [train_step(model, loss_fn, optimizer, x, target,
                       penalty)[0]
            for x, target in batches]


def evaluate(model: Module, loss_fn: Module, batches: Iterable,
             predict: Callable | None = None
             ) -> tuple[float, float | None]:
    """(mean loss over the samples, accuracy); no gradient.

    ``predict`` turns outputs into labels, e.g.
    ``lambda out: out.argmax(1)``; without it, accuracy is None.
    """
    model.eval()
    total, correct, count = 0.0, 0, 0
    for x, target in batches:
        out = model(x)
        total += float(loss_fn(out, target)) * len(x)   # a mean
        if predict is not None:
            correct += int((predict(out) == target).sum())
        count += len(x)
    accuracy = correct / count if predict is not None else None
    return total / count, accuracy


def minibatches(x: np.ndarray, target: np.ndarray,
                batch_size: int, order: np.ndarray | None = None
                ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(x[idx], target[idx]) for consecutive chunks idx of
    ``order`` (0…N−1 if None); the last batch may be smaller."""
    order = np.arange(len(x)) if order is None else np.asarray(order)
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        yield x[idx], target[idx]                    # (B, …), (B, …)


__all__ = ["evaluate", "minibatches", "train_epoch", "train_step"]
