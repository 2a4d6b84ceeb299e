"""The training loop: forward, loss, backward, step.          twin: torch_ref/training.py

    for x, target in batches:
        optimizer.zero_grad()                 # backward adds into .grad: clear last step's
        out = model(x)                        # 1. forward: the prediction
        loss = loss_fn(out, target)           # 2. loss: how wrong it is
        model.backward(loss_fn.backward())    # 3. backward: ∂L/∂θ for every parameter
        optimizer.step()                      # 4. step: θ ← θ − lr·(direction from ∂L/∂θ)

The torch twin has the same four lines; only line 3 differs: ``loss.backward()`` lets
autograd walk the graph it recorded during forward, where here the loss hands ∂L/∂out to
``model.backward``, which runs the layers' backwards in reverse order.

Mini-batches: one epoch visits the samples in the order of an index permutation ``order``
(``generator.permutation(N)`` from one seeded ``np.random.Generator``); the torch twin feeds
the same permutation to its DataLoader, so both twins see the same batches. A full-batch run
is one batch holding everything.

Where the tutorials go wrong: their networks fold the update into ``backward(X, y, output,
learning_rate)``, so the gradient cannot be checked, clipped, accumulated or handed to
another optimizer; one tutorial even updates a layer's weights before propagating the error
through them (see scratch/mlp.py). Here backward only computes gradients and the optimizer
only steps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np

from scratch.module import Module


def minibatches(x: np.ndarray, target: np.ndarray, batch_size: int,
                order: np.ndarray | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(x[idx], target[idx]) for consecutive chunks idx of ``order`` (0…N−1 if None).

    The last batch is smaller when batch_size does not divide N, as torch's DataLoader's.
    """
    order = np.arange(len(x)) if order is None else np.asarray(order)
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        yield x[idx], target[idx]                       # (B, …), (B, …)


def train_epoch(model: Module, loss_fn: Module, optimizer, batches: Iterable,
                penalty=None) -> list[float]:
    """One pass over ``batches``; returns the loss of every step (before its update).

    ``penalty``: an optional regulariser R(θ) (scratch/regularization.py); the step then
    minimises L + R and the returned losses include R.
    """
    model.train()
    losses = []
    for x, target in batches:
        optimizer.zero_grad()
        out = model(x)                                  # forward
        loss = loss_fn(out, target)                     # loss
        model.backward(loss_fn.backward())              # backward: ∂L/∂θ into every param.grad
        if penalty is not None:
            loss = loss + penalty(model.parameters())   # L + R(θ)
            penalty.backward()                          # ∂R/∂θ added into every param.grad
        optimizer.step()                                # step
        losses.append(float(loss))
    return losses


def evaluate(model: Module, loss_fn: Module, batches: Iterable,
             predict: Callable | None = None) -> tuple[float, float | None]:
    """(mean loss over the samples, accuracy) without touching any gradient.

    ``predict`` turns outputs into labels: ``lambda out: out.argmax(1)`` for class scores,
    ``lambda out: out > 0`` for one logit, ``lambda out: out > 0.5`` for a probability (the
    same lambda serves the torch twin). Without it the accuracy is None.
    """
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    for x, target in batches:
        out = model(x)
        total_loss += float(loss_fn(out, target)) * len(x)   # loss_fn is a mean over the batch
        if predict is not None:
            correct += int((predict(out) == target).sum())
        count += len(x)
    return total_loss / count, (correct / count if predict is not None else None)
