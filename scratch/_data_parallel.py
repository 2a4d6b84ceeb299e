"""training.train_step on every core: the batch cut into one share per
thread, each share's forward and backward on its own thread, the shares'
parameter gradients added before the optimizer's step.

    outₖ = copyₖ(x[shareₖ])              k = 1 … K, side by side
    L = loss_fn([out₁; …; out_K], target)        the whole batch, once
    g = ∂L/∂out = [g₁; …; g_K]
    copyₖ.backward(gₖ)                   side by side
    param.grad = Σₖ copyₖ's param.grad;  optimizer.step()

Data parallelism inside one step (what torch's DistributedDataParallel
does across processes). copy₁ is the model itself; the others share
every weight array with it and keep their own gradients and caches. The
loss is computed once, on the whole batch's logits, so a mean divides by
the whole batch and ∂L/∂out is what the one-thread step gets; only the
order of the sums over the batch changes (in float64, the last bits).
The thread count is fixed by the caller, not by the load, so the same
seed gives the same numbers; another count adds the batch up in other
shares and changes the last bits, as torch's thread count does.

No twin: torch splits the work inside each operator instead. Layers
with buffers or randomness (BatchNorm, Dropout) are refused: each copy
would keep its own statistics and its own random stream.

Why: splitting each layer over the cores (scratch/_threads.py) pays a
sleeping thread's wake-up in every layer, 0.1–0.3 ms on a 2-core VM;
this pays two per step. NumPy's products and copies let go of the GIL,
so the shares run side by side, while OpenBLAS and the convolutions'
own split stay at one thread (docs/benchmarks.md).
"""

from __future__ import annotations

import copy
import os
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np
from threadpoolctl import ThreadpoolController

from scratch import _checks as check
from scratch import _threads
from scratch.module import Module
from scratch.training import train_step


class DataParallel:
    """``step(model, loss_fn, optimizer, x, target)``: train_step's
    arguments (no ``penalty``) and result. x: (N, …) a batch, target:
    (N,) or (N, classes) -> (loss before the step, out (N, classes)),
    for a model whose backward adds into param.grad. ``threads`` ≥ 1
    shares of at least 8 images (_threads.shares); one share is
    train_step itself."""

    def __init__(self, threads: int):
        self.threads = check.integer("DataParallel", "threads", threads, minimum=1)
        self._model, self._copies = None, []
        self._pool, self._pid = None, os.getpid()
        self._blas = ThreadpoolController()

    def _copies_of(self, model: Module, k: int) -> list[Module]:
        """model and k − 1 copies of it that share its weights."""
        if self._model is not model:
            for name, layer in model.named_modules():
                if layer._buffers or type(layer).__name__ == "Dropout":
                    raise ValueError(f"DataParallel: {name or 'the model'} "
                                     f"({type(layer).__name__}) keeps buffers or draws random "
                                     "numbers, which copies of it cannot share; train it with "
                                     "training.train_step")
            self._model, self._copies = model, []
        while len(self._copies) < k - 1:
            # the weights are rebound below and what forward cached is not needed: copy neither
            memo = {id(m.cache): None for m in model.modules() if m.cache is not None}
            memo.update({id(p.data): None for p in model.parameters()})
            self._copies.append(copy.deepcopy(model, memo))
        for other in self._copies[:k - 1]:
            other.train(model.training)
            for mine, theirs in zip(model.parameters(), other.parameters(), strict=True):
                theirs.data = mine.data          # shared, never copied
        return [model, *self._copies[:k - 1]]

    def _side_by_side(self, work: list) -> list:
        """Each callable in ``work`` on its own thread, the first on this one;
        every one has finished when this returns or raises."""
        if self._pool is None or self._pid != os.getpid():    # a forked child has no threads
            self._pool, self._pid = ThreadPoolExecutor(self.threads - 1, "scratch-share"), os.getpid()
        others = [self._pool.submit(w) for w in work[1:]]
        try:
            first = work[0]()
        finally:
            wait(others)
        return [first, *(f.result() for f in others)]

    def step(self, model: Module, loss_fn: Module, optimizer,
             x: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
        shares = _threads.shares(len(x), self.threads)
        if len(shares) == 1:
            return train_step(model, loss_fn, optimizer, x, target)
        models = self._copies_of(model, len(shares))
        optimizer.zero_grad()
        for other in models[1:]:
            other.zero_grad()
        with self._blas.limit(limits=1, user_api="blas"), _threads.fixed(1):
            out = np.concatenate(self._side_by_side(
                [lambda m=m, s=s: m.forward(x[s]) for m, s in zip(models, shares, strict=True)]))
            loss = float(loss_fn(out, target))
            g = loss_fn.backward()                      # (N, classes)
            self._side_by_side(
                [lambda m=m, s=s: m.backward(g[s], need_input_grad=False)
                 for m, s in zip(models, shares, strict=True)])
        for other in models[1:]:
            for mine, theirs in zip(model.parameters(), other.parameters(), strict=True):
                mine.grad += theirs.grad
        optimizer.step()
        return loss, out


__all__ = ["DataParallel"]
