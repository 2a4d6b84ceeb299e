"""Activation functions, each with its derivative by hand.   twin: torch_ref/activations.py

An activation is applied element by element (Softmax and LogSoftmax: along one dimension),
so x and out have the same shape (*) and the backward multiplies ∂L/∂out by the local
derivative, never by a full Jacobian.

What the tutorials get wrong, and what we do instead:

* ``1 / (1 + np.exp(-z))`` overflows for z < −88 in float32 (−709 in float64) with a
  RuntimeWarning; ``np.clip(z, -500, 500)`` hides it in float64 only (exp(500) is still inf in
  float32). ``Sigmoid`` splits on the sign so that exp never sees a positive argument.
* ``softmax`` that subtracts ``np.max(z)`` and divides by ``exp_z.sum()`` over the *whole*
  array is right for one vector only: for a batch (N, C) every row is divided by the sum of
  the whole batch. ``Softmax(dim)`` reduces along ``dim`` with ``keepdims``.
* the step function of the perceptron has no useful derivative; ``Step.backward`` says so
  instead of returning zeros.

Stability: inputs up to 1e4 in magnitude give no overflow warning and no NaN in float32 and
float64. NaN and ±inf propagate as in torch. float32 stays float32 throughout.
"""

from __future__ import annotations

import numpy as np

from scratch.module import Module, check_input


class Sigmoid(Module):
    """σ(x) = 1 / (1 + e⁻ˣ)        σ'(x) = σ(x) (1 − σ(x))

    x: (*) -> out: (*)                   twin: torch_ref/activations.py (torch.nn.Sigmoid)

    Computed as 1 / (1 + e⁻|ˣ|) for x ≥ 0 and e⁻|ˣ| / (1 + e⁻|ˣ|) for x < 0: the same
    function, but exp only ever sees −|x| ≤ 0, so it cannot overflow (it underflows to 0,
    which is the right limit). The tutorials' ``np.clip(z, -500, 500)`` still overflows in
    float32, where e⁸⁹ is already inf.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_input("Sigmoid", x)
        e = np.exp(-np.abs(x))                                # e^{−|x|} ∈ (0, 1]
        self.out = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        return self.out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        out = self.out
        return grad_out * out * (1 - out)                     # ∂L/∂x = ∂L/∂σ · σ (1 − σ)


class Tanh(Module):
    """tanh(x) = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ)        tanh'(x) = 1 − tanh²(x)

    x: (*) -> out: (*)                   twin: torch_ref/activations.py (torch.nn.Tanh)
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_input("Tanh", x)
        self.out = np.tanh(x)          # np.tanh saturates to ±1 without overflowing
        return self.out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out * (1 - self.out * self.out)           # ∂L/∂x = ∂L/∂out · (1 − tanh²)


class ReLU(Module):
    """ReLU(x) = max(0, x)        ReLU'(x) = 1 if x > 0 else 0   (0 at the kink x = 0, as torch)

    x: (*) -> out: (*)                   twin: torch_ref/activations.py (torch.nn.ReLU)

    Unlike torch, integer input is refused (every scratch layer computes in float32/float64).
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_input("ReLU", x)
        self.out = np.maximum(x, 0)    # np.maximum propagates NaN, as torch.relu does
        return self.out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # torch masks on the *output* (threshold_backward(grad, out, 0)): where out ≤ 0 the
        # gradient is 0, elsewhere (x > 0, and x = NaN) it passes unchanged.
        zero = np.zeros((), dtype=grad_out.dtype)
        return np.where(self.out <= 0, zero, grad_out)        # ∂L/∂x = ∂L/∂out · 1[out > 0]


class LeakyReLU(Module):
    """LeakyReLU(x) = x if x > 0 else negative_slope · x
    LeakyReLU'(x) = 1 if x > 0 else negative_slope   (negative_slope at x = 0, as torch)

    x: (*) -> out: (*)                   twin: torch_ref/activations.py (torch.nn.LeakyReLU)
    """

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        if isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float)):
            raise TypeError(
                f"LeakyReLU: negative_slope must be a number, got {type(negative_slope).__name__}"
            )
        # a Python float, so that float32 · slope stays float32 (an np.float64 would promote)
        self.negative_slope = float(negative_slope)

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_input(repr(self), x)
        self.x = x
        return np.where(x > 0, x, x * self.negative_slope)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # x > 0 decides, as in torch's leaky_relu_backward: x = 0 and x = NaN take the slope
        return np.where(self.x > 0, grad_out, grad_out * self.negative_slope)  # ∂L/∂x

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


def _check_dim(where: str, dim, x: np.ndarray) -> int:
    """``dim`` as a non-negative axis of x, refusing what torch refuses (a 0-d x has dim 0/−1)."""
    rank = max(x.ndim, 1)
    if not -rank <= dim < rank:
        raise ValueError(
            f"{where}: dim must be in [{-rank}, {rank - 1}] for a {x.ndim}-D input of shape "
            f"{x.shape}, got dim={dim}"
        )
    return dim % rank


def _check_dim_arg(name: str, dim) -> int:
    if dim is None:
        raise ValueError(
            f"{name}: dim=None is not supported; pass the dimension to normalise, e.g. "
            f"{name}(dim=1) for (N, C) scores. torch's implicit dim (0 for 0-, 1- and 3-D input, "
            f"1 otherwise) is deprecated and picks the batch dimension of 3-D input."
        )
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name}: dim must be an int, got {type(dim).__name__}")
    return int(dim)


class Softmax(Module):
    """softmax(x)ᵢ = eˣⁱ / Σⱼ eˣʲ   along ``dim``

    x: (*) -> out: (*)                   twin: torch_ref/activations.py (torch.nn.Softmax)

    Backward, a Jacobian-vector product (the Jacobian diag(s) − s sᵀ is never built):
        ∂L/∂x = g ⊙ s − s (Σⱼ gⱼ sⱼ)            g = ∂L/∂out, s = softmax(x)
    Under g = all ones (what ``out.sum().backward()`` feeds) this is exactly 0, which is why the
    parity tests use a random g.

    Stable: x − max(x) ≤ 0 before exp, so nothing overflows and the largest term is e⁰ = 1.

    ``dim`` is required: torch's ``dim=None`` (an implicit, deprecated choice that warns and
    picks dim 0 for 3-D input) is refused with a ValueError here.
    """

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = _check_dim_arg("Softmax", dim)

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_input(repr(self), x)
        axis = _check_dim(repr(self), self.dim, x)
        z = x.reshape(1) if x.ndim == 0 else x            # a 0-d input is one class: softmax 1
        with np.errstate(invalid="ignore", over="ignore"):  # +inf − inf is NaN; a spread beyond
                                                            # the float range gives −inf: as torch
            e = np.exp(z - z.max(axis=axis, keepdims=True))
        self.out = (e / e.sum(axis=axis, keepdims=True)).reshape(x.shape)
        return self.out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        s = self.out.reshape(1) if self.out.ndim == 0 else self.out
        g = grad_out.reshape(s.shape)
        axis = self.dim % s.ndim
        grad_x = s * (g - (g * s).sum(axis=axis, keepdims=True))   # ∂L/∂x = g⊙s − s Σ g⊙s
        return grad_x.reshape(self.out.shape)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log_softmax(x)ᵢ = xᵢ − log Σⱼ eˣʲ   along ``dim``

    x: (*) -> out: (*)                   twin: torch_ref/activations.py (torch.nn.LogSoftmax)

    Backward: ∂L/∂x = g − softmax(x) Σⱼ gⱼ, with softmax(x) = e^out from the saved output.

    Computed as (x − m) − log Σⱼ e^(xⱼ − m) with m = max(x): the log-sum-exp trick, so it is
    finite for any finite x. ``np.log(softmax(x))`` is not: softmax underflows to 0 for a
    score 104 below the largest (float32), and log 0 = −inf.

    ``dim`` is required, as in ``Softmax``.
    """

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = _check_dim_arg("LogSoftmax", dim)

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_input(repr(self), x)
        axis = _check_dim(repr(self), self.dim, x)
        z = x.reshape(1) if x.ndim == 0 else x
        with np.errstate(invalid="ignore", over="ignore"):  # +inf − inf is NaN; a spread beyond
                                                            # the float range gives −inf: as torch
            shifted = z - z.max(axis=axis, keepdims=True)
        self.out = (shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))).reshape(x.shape)
        return self.out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        out = self.out.reshape(1) if self.out.ndim == 0 else self.out
        g = grad_out.reshape(out.shape)
        axis = self.dim % out.ndim
        grad_x = g - np.exp(out) * g.sum(axis=axis, keepdims=True)  # ∂L/∂x = g − softmax Σ g
        return grad_x.reshape(self.out.shape)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Step(Module):
    """step(x) = 1 if x ≥ 0 else 0          the perceptron's activation (Heaviside, H(0) = 1)

    x: (*) -> out: (*) of 0s and 1s       twin: torch_ref/activations.py (torch.heaviside)

    Forward only. Its derivative is 0 everywhere except at 0, where it does not exist, so a
    backward would pass back zeros and teach nothing; the perceptron learning rule
    w ← w + η (y − ŷ) x needs no gradient. ``backward`` raises instead of returning zeros.
    NaN gives 0, as torch.heaviside does (NaN ≥ 0 is false).
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_input("Step", x)
        return (x >= 0).astype(x.dtype)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        raise RuntimeError(
            "Step.backward: the step function has no useful gradient (its derivative is 0 "
            "almost everywhere and undefined at 0), so backpropagation through it learns "
            "nothing. The perceptron learning rule w ← w + η (y − ŷ) x does not use one; for a "
            "trainable network use a smooth activation such as Sigmoid."
        )


__all__ = ["LeakyReLU", "LogSoftmax", "ReLU", "Sigmoid", "Softmax", "Step", "Tanh"]
