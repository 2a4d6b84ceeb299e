"""Batch normalisation: standardise each channel over the batch, then scale and shift.

twin: torch_ref/batchnorm.py (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)

BatchNorm1d: x: (N, C) or (N, C, L) -> out: the same shape
BatchNorm2d: x: (N, C, H, W)       -> out: the same shape

For each channel c, over the M = N·L (or N·H·W) values it holds in the batch:

    μ = (1/M) Σ x          σ² = (1/M) Σ (x − μ)²        (biased: divides by M)
    x̂ = (x − μ) / √(σ² + ε)          out = γ · x̂ + β      (γ = weight, β = bias)

Training normalises with the batch's μ, σ² and updates the running estimates

    running_mean ← (1 − momentum) · running_mean + momentum · μ
    running_var  ← (1 − momentum) · running_var  + momentum · σ² · M / (M − 1)   (unbiased)

(momentum=None: the cumulative average, momentum = 1 / num_batches_tracked). Evaluation
normalises with running_mean and running_var instead, so one sample's output does not depend
on the rest of its batch. Without running statistics (track_running_stats=False) the batch's
statistics are used in both modes.
"""

from __future__ import annotations

import numbers

import numpy as np

from scratch.module import Module, Parameter, check_input, resolve_dtype


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share; they differ only in the accepted ranks."""

    _ndims: tuple[int, ...] = ()
    _layout = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, dtype=None, *,
                 bias: bool = True):
        super().__init__()
        name = type(self).__name__
        if isinstance(num_features, bool) or not isinstance(num_features, (int, np.integer)) \
                or num_features < 1:
            raise ValueError(f"{name}: num_features must be a positive int, got {num_features!r}")
        if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or eps < 0:
            raise ValueError(f"{name}: eps must be a non-negative number, got {eps!r}")
        if momentum is not None and (isinstance(momentum, bool)
                                     or not isinstance(momentum, numbers.Real)):
            raise ValueError(f"{name}: momentum must be a number or None, got {momentum!r}")
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = momentum
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        dtype = resolve_dtype(dtype, name)
        C = self.num_features
        # torch registers absent parameters/buffers as None: they are not in state_dict either.
        self.weight = Parameter(np.ones(C), dtype=dtype) if affine else None         # γ: (C,)
        self.bias = Parameter(np.zeros(C), dtype=dtype) if affine and bias else None  # β: (C,)
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(C, dtype=dtype))          # (C,)
            self.register_buffer("running_var", np.ones(C, dtype=dtype))            # (C,)
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))  # ()
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_input(repr(self), x, dtype=self._dtype())
        if x.ndim not in self._ndims:
            raise ValueError(f"{self!r}: input must be {self._layout}, got {x.ndim}-D with shape "
                             f"{x.shape}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{self!r}: input must have num_features={self.num_features} channels "
                             f"in dimension 1, got shape {x.shape}")
        axes = (0, *range(2, x.ndim))                       # every axis but the channel's
        M = x.size // x.shape[1]                            # values per channel
        if M == 0:
            raise ValueError(f"{self!r}: input must not be empty, got shape {x.shape}")
        batch_stats = self.training or self.running_mean is None
        if batch_stats and not self.eps > 0:                # a constant channel would give 0 / 0
            raise ValueError(f"{self!r}: eps must be positive when normalising with batch "
                             f"statistics, got {self.eps}")
        if batch_stats and M == 1:                          # σ² would be 0 and x̂ = 0: torch refuses
            raise ValueError(f"{self!r}: expected more than 1 value per channel when training, "
                             f"got input size {x.shape}")
        shape = (1, -1) + (1,) * (x.ndim - 2)               # broadcasts (C,) against x
        with np.errstate(invalid="ignore"):   # NaN/inf in x: NaN statistics, as torch
            if batch_stats:
                mean = x.mean(axis=axes)                                         # μ: (C,)
                var = x.var(axis=axes)                                           # σ², biased: (C,)
                if self.training and self.track_running_stats:
                    self._update_running_stats(mean, var, M)
            else:
                mean, var = self.running_mean, self.running_var
            invstd = 1 / np.sqrt(var + x.dtype.type(self.eps))                   # 1/√(σ² + ε): (C,)
            x_hat = (x - mean.reshape(shape)) * invstd.reshape(shape)           # x̂: x's shape
        self.x_hat, self.invstd, self.batch_stats, self.axes = x_hat, invstd, batch_stats, axes
        out = x_hat
        if self.weight is not None:
            out = out * self.weight.data.reshape(shape)
        if self.bias is not None:
            out = out + self.bias.data.reshape(shape)
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:          # ∂L/∂out: x's shape
        x_hat, invstd, axes = self.x_hat, self.invstd, self.axes
        shape = (1, -1) + (1,) * (grad_out.ndim - 2)
        if self.bias is not None:
            self.bias.grad += grad_out.sum(axis=axes)                      # ∂L/∂β = Σ ∂L/∂out
        grad_x_hat = grad_out
        if self.weight is not None:
            self.weight.grad += (grad_out * x_hat).sum(axis=axes)          # ∂L/∂γ = Σ ∂L/∂out · x̂
            grad_x_hat = grad_out * self.weight.data.reshape(shape)       # ∂L/∂x̂ = γ ∂L/∂out
        if not self.batch_stats:                                        # μ, σ² are constants here
            return grad_x_hat * invstd.reshape(shape)                   # ∂L/∂x = ∂L/∂x̂ / √(σ² + ε)
        # μ and σ² depend on every x of the channel; through them each ∂L/∂x feels the others:
        # ∂L/∂x = (1 / √(σ² + ε)) · (∂L/∂x̂ − mean(∂L/∂x̂) − x̂ · mean(∂L/∂x̂ · x̂))
        with np.errstate(invalid="ignore"):
            mean_grad = grad_x_hat.mean(axis=axes).reshape(shape)
            mean_grad_x_hat = (grad_x_hat * x_hat).mean(axis=axes).reshape(shape)
            return (grad_x_hat - mean_grad - x_hat * mean_grad_x_hat) * invstd.reshape(shape)

    def _update_running_stats(self, mean: np.ndarray, var: np.ndarray, M: int) -> None:
        self.num_batches_tracked = self.num_batches_tracked + 1            # stays an int64 array
        if self.momentum is None:                                          # cumulative average
            factor = 1 / float(self.num_batches_tracked)
        else:
            factor = float(self.momentum)
        dtype = self.running_mean.dtype.type
        unbiased = var * dtype(M / (M - 1))                               # Bessel's correction
        self.running_mean = dtype(factor) * mean + dtype(1 - factor) * self.running_mean
        self.running_var = dtype(factor) * unbiased + dtype(1 - factor) * self.running_var

    def _dtype(self):
        """The dtype the input must have: the parameters' or buffers' (any float without either)."""
        if self.weight is not None:
            return self.weight.dtype
        if self.running_mean is not None:
            return self.running_mean.dtype
        return None

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """out = γ · (x − μ) / √(σ² + ε) + β, statistics per channel over N (and L)

    x: (N, C) or (N, C, L) -> out: the same shape      twin: torch_ref/batchnorm.py (torch.nn.BatchNorm1d)

    ∂L/∂x = (1 / √(σ² + ε)) · (∂L/∂x̂ − mean(∂L/∂x̂) − x̂ · mean(∂L/∂x̂ · x̂))   (batch statistics)
    """

    _ndims = (2, 3)
    _layout = "2-D (N, C) or 3-D (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """out = γ · (x − μ) / √(σ² + ε) + β, statistics per channel over N, H and W

    x: (N, C, H, W) -> out: (N, C, H, W)               twin: torch_ref/batchnorm.py (torch.nn.BatchNorm2d)

    ∂L/∂x = (1 / √(σ² + ε)) · (∂L/∂x̂ − mean(∂L/∂x̂) − x̂ · mean(∂L/∂x̂ · x̂))   (batch statistics)
    """

    _ndims = (4,)
    _layout = "4-D (N, C, H, W)"


__all__ = ["BatchNorm1d", "BatchNorm2d"]
