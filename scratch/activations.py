"""Activation functions, each with its derivative by hand.

out = f(x) element by element (Softmax and LogSoftmax: along
``dim``), so backward multiplies ∂L/∂out by the local
derivative, never by a full Jacobian.

σ(x) = 1 / (1 + e⁻ˣ)        σ'(x) = σ(x) (1 − σ(x))
tanh'(x) = 1 − tanh²(x)     ReLU'(x) = 1[x > 0]
softmax(x)ᵢ = eˣⁱ / Σⱼ eˣʲ    log_softmax(x)ᵢ = xᵢ − log Σⱼ eˣʲ

x: (*) -> out: (*), in x's dtype; NaN and ±inf as in torch.
float16 as torch's CPU kernels: in float32, rounded once.

twin: torch_ref/activations.py (torch.nn.Sigmoid, ReLU, ...)
story: docs/activations.md (the tutorials' overflowing sigmoid
and batch-mixing softmax; a step with no gradient)
"""

from __future__ import annotations

import numpy as np

from scratch import _checks as check
from scratch.module import Module


class _Activation(Module):
    """No parameters, and float16 as well as float32/64."""

    def to(self, dtype) -> _Activation:
        check.pool_dtype(f"{type(self).__name__}.to", dtype)
        return self


class Sigmoid(_Activation):
    """σ(x) = 1 / (1 + e⁻ˣ)        σ'(x) = σ(x) (1 − σ(x))

    x: (*) -> out: (*). exp only ever sees −|x| ≤ 0.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        check.half_input("Sigmoid", x)
        z = widen(x)
        e = np.exp(-np.abs(z))                 # e^−|x| ∈ (0, 1]
        out = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
        self.cache = narrow(out, x)
        return self.cache

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        out = check.cached(self)   # float16: rounded at each
        return grad_out * (1 - out) * out   # step, as torch's


class Tanh(_Activation):
    """tanh(x) = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ)    tanh' = 1 − tanh²

    x: (*) -> out: (*)
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        check.half_input("Tanh", x)
        out = np.tanh(widen(x))      # ±1 at most, no overflow
        self.cache = narrow(out, x)
        return self.cache

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        out = check.cached(self)
        t, g = widen(out), widen(grad_out)
        return narrow(g * (1 - t * t), out)     # g (1 − tanh²)


class ReLU(_Activation):
    """ReLU(x) = max(0, x)    ReLU'(x) = 1[x > 0], 0 at 0

    x: (*) -> out: (*)
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        check.half_input("ReLU", x)
        out = np.maximum(x, 0)     # NaN stays NaN, as torch
        self.cache = out
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        out = check.cached(self)
        # torch masks on the output: x = NaN passes g unchanged
        zero = np.zeros((), dtype=grad_out.dtype)
        return np.where(out <= 0, zero, grad_out)  # g 1[out > 0]


class LeakyReLU(_Activation):
    """LeakyReLU(x) = x if x > 0 else negative_slope · x

    x: (*) -> out: (*); the slope at x = 0, as torch.
    """

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = check.number(
            "LeakyReLU", "negative_slope", negative_slope)

    def forward(self, x: np.ndarray) -> np.ndarray:
        check.half_input(self, x)
        self.cache = x
        z = widen(x)
        out = np.where(z > 0, z, z * self.negative_slope)
        return narrow(out, x)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        x = check.cached(self)
        g = widen(grad_out)
        grad_x = np.where(x > 0, g, g * self.negative_slope)
        return narrow(grad_x, grad_out)       # g or g · slope

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Softmax(_Activation):
    """softmax(x)ᵢ = eˣⁱ / Σⱼ eˣʲ   along ``dim`` (required)

    x: (*) -> out: (*). Stable: x − max(x) ≤ 0 before exp.
    """

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = check.module_dim("Softmax", dim)

    def forward(self, x: np.ndarray) -> np.ndarray:
        check.half_input(self, x)
        axis = check.dim(self, self.dim, x)
        z = widen(x.reshape(1) if x.ndim == 0 else x)  # 0-d: 1
        # inf − inf: NaN; x − max overflows to −inf: as torch
        with np.errstate(invalid="ignore", over="ignore"):
            e = np.exp(z - top(z, axis))
        out = e / e.sum(axis=axis, keepdims=True)
        self.cache = narrow(out.reshape(x.shape), x)
        return self.cache

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        out = check.cached(self)
        s = widen(out.reshape(1) if out.ndim == 0 else out)
        g = widen(grad_out).reshape(s.shape)
        gs = (g * s).sum(axis=self.dim % s.ndim, keepdims=True)
        grad_x = s * (g - gs)          # s ⊙ g − s Σⱼ gⱼ sⱼ
        return narrow(grad_x.reshape(out.shape), out)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(_Activation):
    """log_softmax(x)ᵢ = xᵢ − log Σⱼ eˣʲ   along ``dim``

    x: (*) -> out: (*). Log-sum-exp: finite for any finite x.
    """

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = check.module_dim("LogSoftmax", dim)

    def forward(self, x: np.ndarray) -> np.ndarray:
        check.half_input(self, x)
        axis = check.dim(self, self.dim, x)
        z = widen(x.reshape(1) if x.ndim == 0 else x)  # 0-d: 1
        # inf − inf: NaN; x − max overflows to −inf: as torch
        with np.errstate(invalid="ignore", over="ignore"):
            shifted = z - top(z, axis)
        total = np.exp(shifted).sum(axis=axis, keepdims=True)
        if axis == z.ndim - 1:  # torch's last-dim kernel rounds
            total = narrow(total, x)    # Σ and log Σ to float16
        with np.errstate(divide="ignore"):   # an empty dim: Σ = 0
            out = (shifted - np.log(total)).reshape(x.shape)
        self.cache = narrow(out, x)
        return self.cache

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        out = check.cached(self)
        log_s = widen(out.reshape(1) if out.ndim == 0 else out)
        g = widen(grad_out).reshape(log_s.shape)
        total = g.sum(axis=self.dim % log_s.ndim, keepdims=True)
        grad_x = g - np.exp(log_s) * total     # g − s Σⱼ gⱼ
        return narrow(grad_x.reshape(out.shape), out)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Step(_Activation):
    """step(x) = 1 if x ≥ 0 else 0     Heaviside, H(0) = 1

    x: (*) -> out: (*) of 0s and 1s; NaN gives 0, as torch.
    The perceptron's activation: forward only.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        check.half_input("Step", x)
        return (x >= 0).astype(x.dtype)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        raise RuntimeError(
            "Step.backward: the step function has no useful "
            "gradient (its derivative is 0 almost everywhere "
            "and undefined at 0), so backpropagation through it "
            "learns nothing. The perceptron learning rule "
            "w ← w + η (y − ŷ) x does not use one; for a "
            "trainable network use a smooth activation such as "
            "Sigmoid.")


# -- plumbing: empty dimensions, and float16 -----------------
def top(z: np.ndarray, axis: int) -> np.ndarray:
    """max along axis, kept; −inf over an empty dimension, so
    that softmax of nothing is nothing, as torch's."""
    return z.max(axis=axis, keepdims=True, initial=-np.inf)


def widen(a: np.ndarray) -> np.ndarray:
    """float16 as float32, where torch's CPU kernels compute
    it; float32 and float64 as they are."""
    return a.astype(np.float32) if a.dtype == np.float16 else a


def narrow(a: np.ndarray, like: np.ndarray) -> np.ndarray:
    """Rounded once back to float16 where ``like`` is float16."""
    if like.dtype != np.float16:
        return a
    with np.errstate(over="ignore"):       # ±inf, as torch
        return a.astype(np.float16)


__all__ = ["LeakyReLU", "LogSoftmax", "ReLU", "Sigmoid", "Softmax",
           "Step", "Tanh"]
