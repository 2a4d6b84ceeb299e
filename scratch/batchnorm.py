"""Batch normalisation: standardise each channel over the batch, then scale and shift.

For each channel, over its M = N·L (or N·H·W) values in the batch:

    μ = (1/M) Σ x          σ² = (1/M) Σ (x − μ)²      (biased)
    x̂ = (x − μ) / √(σ² + ε)          out = γ · x̂ + β

Training also updates the running estimates (σ² made unbiased):

    running_mean ← (1 − momentum) · running_mean + momentum · μ
    running_var  ← (1 − momentum) · running_var
                   + momentum · σ² · M / (M − 1)

Evaluation normalises with running_mean and running_var instead.

BatchNorm1d: x: (N, C) or (N, C, L) -> out: the same shape
BatchNorm2d: x: (N, C, H, W)        -> out: the same shape

twin: torch_ref/batchnorm.py (torch.nn.BatchNorm1d, BatchNorm2d)
story: docs/batchnorm.md (running statistics, empty batches)
"""

from __future__ import annotations

import numpy as np

from scratch import _checks as check
from scratch.module import Module, Parameter


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share: all but the ranks."""

    _ndims: tuple[int, ...] = ()
    _layout = ""

    def __init__(self, num_features: int, eps: float = 1e-5,
                 momentum: float | None = 0.1,
                 affine: bool = True,
                 track_running_stats: bool = True,
                 dtype=None, *, bias: bool = True):
        super().__init__()
        name = type(self).__name__
        C = check.integer(name, "num_features", num_features, 1)
        self.num_features = C
        self.eps = check.non_negative(name, "eps", eps)
        self.momentum = check.number_or_none(
            name, "momentum", momentum)
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        dtype = check.dtype(name, dtype)
        # absent parameters and buffers are None, as torch
        # registers them: not in state_dict either
        self.weight = self.bias = None
        if affine:
            self.weight = Parameter(np.ones(C), dtype)   # γ: (C,)
        if affine and bias:
            self.bias = Parameter(np.zeros(C), dtype)    # β: (C,)
        self.running_mean = self.running_var = None
        self.num_batches_tracked = None
        if self.track_running_stats:
            self.register_buffer(
                "running_mean", np.zeros(C, dtype))       # (C,)
            self.register_buffer(
                "running_var", np.ones(C, dtype))         # (C,)
            self.register_buffer(
                "num_batches_tracked", np.array(0, np.int64))

    def forward(self, x: np.ndarray) -> np.ndarray:
        check.input(self, x, dtype=self._dtype())
        check.rank(self, x, self._ndims, self._layout)
        C = self.num_features
        check.channels(self, x, "num_features", C, dim=1)
        M = x.size // C                   # values per channel
        batch_stats = self.training or self.running_mean is None
        check.batch_eps(self, self.eps, batch_stats)
        check.batch_values(self, x, M, batch_stats)
        mean, var = self._statistics(x, M, batch_stats)
        shape = (1, -1) + (1,) * (x.ndim - 2)  # (C,) against x
        eps = x.dtype.type(self.eps)
        with np.errstate(invalid="ignore"):   # NaN in: NaN out
            invstd = 1 / np.sqrt(var.reshape(shape) + eps)
            x_hat = (x - mean.reshape(shape)) * invstd
        self.cache = (x_hat, invstd, batch_stats and M > 0)
        out = x_hat
        if self.weight is not None:
            out = out * self.weight.data.reshape(shape)   # γ x̂
        if self.bias is not None:
            out = out + self.bias.data.reshape(shape)     # + β
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        x_hat, invstd, batch_stats = check.cached(self)
        axes = (0, *range(2, x_hat.ndim))    # all but channels
        shape = (1, -1) + (1,) * (x_hat.ndim - 2)
        g = grad_out
        if self.bias is not None:
            self.bias.grad += g.sum(axis=axes)       # Σ ∂L/∂out
        if self.weight is not None:
            # ∂L/∂γ = Σ ∂L/∂out · x̂,   ∂L/∂x̂ = γ ∂L/∂out
            self.weight.grad += (g * x_hat).sum(axis=axes)
            g = g * self.weight.data.reshape(shape)
        if not batch_stats:         # μ, σ² are constants here
            return g * invstd               # ∂L/∂x̂ / √(σ² + ε)
        # μ and σ² depend on every x of the channel, so each
        # ∂L/∂x feels the others (g = ∂L/∂x̂):
        # ∂L/∂x = (g − mean(g) − x̂ · mean(g x̂)) / √(σ² + ε)
        with np.errstate(invalid="ignore"):
            mean_g = g.mean(axis=axes).reshape(shape)
            mean_gx = (g * x_hat).mean(axis=axes).reshape(shape)
            grad_x = g - mean_g - x_hat * mean_gx
            return grad_x * invstd

    def _statistics(self, x, M: int, batch_stats: bool):
        """(μ, σ²) to normalise with: the batch's, or the
        running ones; training also updates the running ones."""
        if not batch_stats:
            return self.running_mean, self.running_var
        track = self.training and self.track_running_stats
        if track:                         # stays an int64 array
            self.num_batches_tracked = self.num_batches_tracked + 1
        if M == 0:        # an empty batch: nothing to average;
            C = x.shape[1]      # the running stats stay, as torch
            return np.zeros(C, x.dtype), np.ones(C, x.dtype)
        axes = (0, *range(2, x.ndim))
        with np.errstate(invalid="ignore"):   # NaN in: NaN stats
            mean = x.mean(axis=axes)                   # μ: (C,)
            var = x.var(axis=axes)             # σ², biased: (C,)
            if track:
                self._update_running_stats(mean, var, M)
        return mean, var

    def _update_running_stats(self, mean, var, M: int) -> None:
        if self.momentum is None:          # cumulative average
            factor = 1 / float(self.num_batches_tracked)
        else:
            factor = float(self.momentum)
        dtype = self.running_mean.dtype.type
        unbiased = var * dtype(M / (M - 1))   # Bessel's correction
        self.running_mean = (dtype(factor) * mean
                             + dtype(1 - factor) * self.running_mean)
        self.running_var = (dtype(factor) * unbiased
                            + dtype(1 - factor) * self.running_var)

    def _dtype(self):
        """The input's dtype: the parameters' or the buffers'
        (any float without either)."""
        if self.weight is not None:
            return self.weight.dtype
        if self.running_mean is not None:
            return self.running_mean.dtype
        return None

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, "
                f"momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """out = γ · (x − μ) / √(σ² + ε) + β, per channel over N, L

    x: (N, C) or (N, C, L) -> out: the same shape

    ∂L/∂x = (∂L/∂x̂ − mean(∂L/∂x̂) − x̂ · mean(∂L/∂x̂ · x̂))
            / √(σ² + ε)                    (batch statistics)
    """

    _ndims = (2, 3)
    _layout = "2-D (N, C) or 3-D (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """out = γ · (x − μ) / √(σ² + ε) + β, per channel over N, H, W

    x: (N, C, H, W) -> out: (N, C, H, W)

    ∂L/∂x = (∂L/∂x̂ − mean(∂L/∂x̂) − x̂ · mean(∂L/∂x̂ · x̂))
            / √(σ² + ε)                    (batch statistics)
    """

    _ndims = (4,)
    _layout = "4-D (N, C, H, W)"


__all__ = ["BatchNorm1d", "BatchNorm2d"]
