"""Loss functions, each with its gradient by hand.

L = criterion(x, target)   ℓ for reduction 'none', else 0-d:
    'sum' → Σᵢ ℓᵢ      'mean' → Σᵢ ℓᵢ / n, n elements
∂L/∂x = criterion.backward(g), g = ∂(outer)/∂L (None: 1.0)

MSELoss             ℓᵢ = (xᵢ − yᵢ)²
BCELoss             ℓᵢ = −wᵢ [yᵢ log xᵢ + (1 − yᵢ) log(1 − xᵢ)]
BCEWithLogitsLoss   ℓᵢ = wᵢ [pᵢ yᵢ sp(−xᵢ) + (1 − yᵢ) sp(xᵢ)]
                    sp(z) = softplus(z) = log(1 + eᶻ)

x, target: (*), the same shape and dtype; w, p broadcast to (*)
The class losses (NLLLoss, CrossEntropyLoss): cross_entropy.py.

twin: torch_ref/losses.py (torch.nn.MSELoss, BCELoss, ...)
story: docs/losses.md (the reductions, the tutorials' epsilon,
size_average and reduce left out)
"""

from __future__ import annotations

import numpy as np

from scratch import _checks as check
from scratch.activations import Sigmoid
from scratch.module import Module

BCE_HINT = (" (apply Sigmoid first, or use BCEWithLogitsLoss"
            " on the logits)")


class _Loss(Module):
    """What every loss shares: reduction and its gradient."""

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        check.choice(type(self).__name__, "reduction", reduction,
                     check.REDUCTIONS)
        self.reduction = reduction

    def reduce(self, loss: np.ndarray, n=None) -> np.ndarray:
        """ℓ → L; ``n`` replaces the element count of 'mean'."""
        if self.reduction == "none":
            return loss
        total = loss.sum(dtype=loss.dtype)
        if self.reduction == "sum":
            return np.asarray(total)
        n = loss.size if n is None else n
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(total / n)  # n = 0: NaN, as torch

    def grad_reduce(self, grad_out, shape, dtype, n=None):
        """∂L/∂ℓ for ℓ of ``shape``: g, g / n (mean), or gᵢ."""
        g = check.loss_grad_out(type(self).__name__, grad_out,
                                shape, self.reduction)
        g = np.asarray(g, dtype=dtype)   # no float64 into float32
        if self.reduction != "mean":
            return g
        n = int(np.prod(shape)) if n is None else n
        with np.errstate(divide="ignore", invalid="ignore"):
            return g / n

    def register_weight(self, name: str, value) -> None:
        """A buffer (in state_dict, as torch's), or None."""
        where = type(self).__name__
        value = check.loss_weight(where, name, value)
        if value is None:
            setattr(self, name, None)
        else:
            self.register_buffer(name, value)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """ℓᵢ = (xᵢ − yᵢ)²        ∂ℓᵢ/∂xᵢ = 2 (xᵢ − yᵢ)

    x: (*), target: (*) -> L: () or ℓ: (*)
    """

    def __init__(self, *, reduction: str = "mean"):
        super().__init__(reduction)

    def forward(self, x: np.ndarray, target: np.ndarray):
        check.input("MSELoss", x)
        check.float_target("MSELoss", x, target)
        diff = x - target
        self.cache = diff
        return self.reduce(diff * diff)

    def backward(self, grad_out=None) -> np.ndarray:
        diff = check.cached(self)
        g = self.grad_reduce(grad_out, diff.shape, diff.dtype)
        return 2 * diff * g             # ∂L/∂x = 2 (x − y) ∂L/∂ℓ


class BCELoss(_Loss):
    """ℓᵢ = −wᵢ [yᵢ log xᵢ + (1 − yᵢ) log(1 − xᵢ)]   logs ≥ −100

    x: (*) probabilities, target: (*), weight broadcast to (*)
    -> L: () or ℓ: (*)
    ∂ℓ/∂x = w (x − y) / max(x (1 − x), 1e-12), as torch
    """

    def __init__(self, weight=None, *, reduction: str = "mean"):
        super().__init__(reduction)
        self.register_weight("weight", weight)

    def forward(self, x: np.ndarray, target: np.ndarray):
        check.input("BCELoss", x)
        check.float_target("BCELoss", x, target)
        check.weight_dtype("BCELoss", "weight", self.weight, x)
        check.broadcasts("BCELoss", "weight", self.weight, x)
        check.probabilities("BCELoss", "input", x, BCE_HINT)
        check.probabilities("BCELoss", "target", target)
        self.cache = x, target
        with np.errstate(divide="ignore"):  # log 0: clamped
            log_x = np.maximum(np.log(x), -100)
            log_1mx = np.maximum(np.log1p(-x), -100)
        loss = -(target * log_x + (1 - target) * log_1mx)
        if self.weight is not None:
            loss = loss * self.weight
        return self.reduce(loss)

    def backward(self, grad_out=None) -> np.ndarray:
        x, y = check.cached(self)
        g = self.grad_reduce(grad_out, x.shape, x.dtype)
        # torch's 1e-12 is a float32 constant
        floor = np.asarray(np.float32(1e-12), dtype=x.dtype)
        grad_x = g * (x - y) / np.maximum(x * (1 - x), floor)
        if self.weight is not None:
            grad_x = grad_x * self.weight                # · w
        return grad_x


class BCEWithLogitsLoss(_Loss):
    """ℓᵢ = wᵢ [pᵢ yᵢ sp(−xᵢ) + (1 − yᵢ) sp(xᵢ)]   sp = softplus
       = BCELoss(σ(x), y) for p = 1, exact for any logit

    x: (*) logits, target: (*), weight and pos_weight (p)
    broadcast to (*), p usually (C,) -> L: () or ℓ: (*)
    ∂ℓ/∂x = w [(1 + (p − 1) y) σ(x) − p y]
    """

    def __init__(self, weight=None, *, reduction: str = "mean",
                 pos_weight=None):
        super().__init__(reduction)
        self.register_weight("weight", weight)
        self.register_weight("pos_weight", pos_weight)

    def forward(self, x: np.ndarray, target: np.ndarray):
        where = "BCEWithLogitsLoss"
        w, p = self.weight, self.pos_weight
        check.input(where, x)
        check.float_target(where, x, target)
        check.weight_dtype(where, "weight", w, x)
        check.broadcasts(where, "weight", w, x)
        check.weight_dtype(where, "pos_weight", p, x)
        check.broadcasts(where, "pos_weight", p, x)
        self.cache = x, target
        sp = np.log1p(np.exp(-np.abs(x)))    # log(1 + e^−|x|)
        log_sigmoid = np.minimum(x, 0) - sp  # log σ(x) ≤ 0
        with np.errstate(invalid="ignore", over="ignore"):
            if p is not None:                # x = ±inf: as torch
                log_sigmoid *= (p - 1) * target + 1
            loss = (1 - target) * x - log_sigmoid
        if w is not None:
            loss = loss * w
        return self.reduce(loss)

    def backward(self, grad_out=None) -> np.ndarray:
        x, y = check.cached(self)
        g = self.grad_reduce(grad_out, x.shape, x.dtype)
        sigma = Sigmoid()(x)        # the split on the sign
        p = self.pos_weight
        if p is None:
            grad_x = sigma - y                       # σ(x) − y
        else:
            grad_x = (1 + (p - 1) * y) * sigma - p * y
        if self.weight is not None:
            grad_x = grad_x * self.weight            # · w
        return g * grad_x


__all__ = ["BCELoss", "BCEWithLogitsLoss", "MSELoss"]
