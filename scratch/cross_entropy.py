"""Cross-entropy: log-softmax over the classes, then NLLLoss.

log p = LogSoftmax(dim=1)(x)        ℓᵢ = −Σ_c qᵢ,c log pᵢ,c
class index yᵢ:    qᵢ,c = (1 − ε) w[yᵢ] 1[c = yᵢ] + (ε / C) w[c]
probabilities yᵢ:  qᵢ,c = w[c] ((1 − ε) yᵢ,c + ε / C)
NLLLoss (x = log p, ε = 0):   ℓᵢ = −w[yᵢ] xᵢ,yᵢ
'mean': Σ ℓᵢ / Σᵢ w[yᵢ] for indices, Σ ℓᵢ / N for probabilities
∂L/∂xᵢ,c = gᵢ (pᵢ,c Σ_c' qᵢ,c' − qᵢ,c), the tutorials' p − y
           for one sample, no weight, ε = 0 and 'sum'

x: (N, C), (N, C, d1, …) or (C,) logits; target: (N, d1, …)
or () class indices, or x's shape of class probabilities
-> L: () or ℓ: (N, d1, …). ε = label_smoothing, w = weight
(1 without); a target equal to ignore_index counts nowhere.

twin: torch_ref/cross_entropy.py (torch.nn.CrossEntropyLoss)
story: docs/cross_entropy.md (−log(p + 1e-8), and when the
gradient is p − y)
"""

from __future__ import annotations

import numpy as np

from scratch import _checks as check
from scratch.activations import LogSoftmax
from scratch.losses import _Loss


class _ClassLoss(_Loss):
    """NLLLoss and CrossEntropyLoss: a class dimension (1, or
    0 unbatched), class weights w, and ignore_index."""

    def __init__(self, weight, ignore_index: int,
                 reduction: str):
        super().__init__(reduction)
        self.ignore_index = check.int64(
            type(self).__name__, "ignore_index", ignore_index)
        self.register_weight("weight", weight)

    def pick(self, log_p: np.ndarray, target: np.ndarray):
        """−w[y] log p[y] per sample, 0 where y is ignored,
        and what backward needs: (kept, index, w[y]).

        log_p: (N, C, d1, …), target: (N, d1, …)
        """
        kept = target != self.ignore_index
        index = np.where(kept, target, 0)[:, None]  # (N, 1, …)
        log_p_y = np.take_along_axis(log_p, index, axis=1)
        w = self.weight
        w_y = 1 if w is None else w[index[:, 0]]    # (N, …)
        w_y = np.where(kept, w_y, 0).astype(log_p.dtype)
        loss = np.where(kept, -w_y * log_p_y[:, 0], 0)
        return loss, (kept, index, w_y)             # (N, …)

    def scatter(self, g, picked, shape) -> np.ndarray:
        """g · ∂(−w[y] log p[y]): −g w[y] at the target."""
        kept, index, w_y = picked
        g = np.where(kept, g, 0)  # ignored: 0, even if L is NaN
        grad = np.zeros(shape, dtype=w_y.dtype)
        g_y = (-g * w_y)[:, None]                   # (N, 1, …)
        np.put_along_axis(grad, index, g_y, axis=1)
        return grad

    def extra_repr(self) -> str:
        return (f"ignore_index={self.ignore_index}, "
                f"reduction={self.reduction!r}")


class NLLLoss(_ClassLoss):
    """ℓᵢ = −w[yᵢ] xᵢ,yᵢ (0 where yᵢ = ignore_index)
    'mean': Σ ℓᵢ / Σ w[yᵢ], NaN if every target is ignored

    x: (N, C), (N, C, d1, …) or (C,) log-probabilities;
    target: (N, d1, …) or () -> L: () or ℓ: target's shape
    ∂L/∂xᵢ,c = −w[yᵢ] 1[c = yᵢ] ∂L/∂ℓᵢ
    """

    def __init__(self, weight=None, *,
                 ignore_index: int = -100,
                 reduction: str = "mean"):
        super().__init__(weight, ignore_index, reduction)

    def forward(self, x: np.ndarray, target: np.ndarray):
        where, w = "NLLLoss", self.weight
        check.class_input(where, x, w)
        check.class_target(where, x, target, self.ignore_index)
        x_b, target_b = batched(x, target)
        loss, picked = self.pick(x_b, target_b)     # (N, …)
        n = picked[2].sum(dtype=x.dtype)         # Σ w[y], kept
        self.cache = picked, n, x.shape
        return self.reduce(loss.reshape(target.shape), n)

    def backward(self, grad_out=None) -> np.ndarray:
        picked, n, shape = check.cached(self)
        g = self.grad_reduce(grad_out, loss_shape(shape),
                             n.dtype, n)
        grad_x = self.scatter(g, picked, batched_shape(shape))
        return grad_x.reshape(shape)   # −w[y] 1[c = y] ∂L/∂ℓ


class CrossEntropyLoss(_ClassLoss):
    """ℓᵢ = −Σ_c qᵢ,c log pᵢ,c,  log p = LogSoftmax(dim=1)(x)

    x: (N, C), (N, C, d1, …) or (C,) logits; target: class
    indices (N, d1, …) or (), or probabilities of x's shape
    -> L: () or ℓ: (N, d1, …) or ()
    ∂L/∂xᵢ,c = gᵢ (pᵢ,c Σ_c' qᵢ,c' − qᵢ,c),  gᵢ = ∂L/∂ℓᵢ
    """

    def __init__(self, weight=None, *,
                 ignore_index: int = -100,
                 reduction: str = "mean",
                 label_smoothing: float = 0.0):
        super().__init__(weight, ignore_index, reduction)
        self.label_smoothing = check.number_in(
            "CrossEntropyLoss", "label_smoothing",
            label_smoothing, 0.0, 1.0)
        self.log_softmax = LogSoftmax(dim=1)

    def forward(self, x: np.ndarray, target: np.ndarray):
        where, w = "CrossEntropyLoss", self.weight
        check.class_input(where, x, w)
        soft = is_probabilities(x, target)
        if soft:
            check.float_target(where, x, target)
            check.soft_target_ignore_index(where,
                                           self.ignore_index)
        else:
            check.class_target(where, x, target,
                               self.ignore_index)
        x_b, target = batched(x, target)      # (N, C, …)
        eps, C = self.label_smoothing, x_b.shape[1]
        log_p = self.log_softmax(x_b)         # (N, C, …)
        w = self.class_weight(x_b)            # (1, C, 1, …)
        if soft:
            q = w * ((1 - eps) * target + eps / C)
            loss = -(q * log_p).sum(axis=1)         # (N, …)
            saved, n = q, None                # n = N·d1·…
        else:
            loss, saved = self.pick(log_p, target)  # (N, …)
            if eps:            # + (ε / C) Σ_c −w[c] log p_c
                smooth = -(w * log_p).sum(axis=1)
                smooth = np.where(saved[0], smooth, 0)
                loss = (1 - eps) * loss + eps / C * smooth
            n = saved[2].sum(dtype=x.dtype)   # Σ w[y], kept
        self.cache = soft, saved, n, x.shape
        loss = loss.reshape(loss_shape(x.shape))
        return self.reduce(loss, n)

    def backward(self, grad_out=None) -> np.ndarray:
        soft, saved, n, shape = check.cached(self)
        log_p = self.log_softmax.cache        # (N, C, …)
        g = self.grad_reduce(grad_out, loss_shape(shape),
                             log_p.dtype, n)
        g = np.broadcast_to(g, loss_shape(log_p.shape))
        if soft:
            grad_log_p = -g[:, None] * saved          # −g q
        else:
            eps, C = self.label_smoothing, log_p.shape[1]
            grad_log_p = self.scatter((1 - eps) * g, saved,
                                      log_p.shape)
            if eps:                      # −g (ε / C) w[c]
                g = np.where(saved[0], g, 0)[:, None]
                w = self.class_weight(log_p)
                grad_log_p -= g * (eps / C) * w
        grad_x = self.log_softmax.backward(grad_log_p)
        return grad_x.reshape(shape)      # G − p Σ_c G

    def class_weight(self, x: np.ndarray) -> np.ndarray:
        """w[c] along the class dimension: (1, C, 1, …)."""
        if self.weight is None:
            return np.ones((), dtype=x.dtype)
        shape = (1, -1) + (1,) * (x.ndim - 2)
        return self.weight.reshape(shape)

    def extra_repr(self) -> str:
        return (f"ignore_index={self.ignore_index}, "
                f"reduction={self.reduction!r}, "
                f"label_smoothing={self.label_smoothing}")


# -- the unbatched (C,) input, as a batch of one -------------
def batched(x: np.ndarray, target: np.ndarray):
    """(C,) and () as (1, C) and (1,); batches unchanged."""
    if x.ndim == 1:
        return x[None], target[None]
    return x, target


def batched_shape(shape: tuple) -> tuple:
    return (1, *shape) if len(shape) == 1 else shape


def loss_shape(shape: tuple) -> tuple:
    """ℓ's shape: (N, d1, …) for (N, C, d1, …), () for (C,)."""
    return shape[:1] + shape[2:] if len(shape) > 1 else ()


def is_probabilities(x: np.ndarray, target) -> bool:
    """A float target of x's shape: class probabilities."""
    return (isinstance(target, np.ndarray)
            and target.dtype in check.FLOAT_DTYPES
            and target.shape == x.shape)


__all__ = ["CrossEntropyLoss", "NLLLoss"]
