"""Dropout: zero a random fraction p of the activations while training.   twin: torch_ref/dropout.py

x: (*) -> out: (*)

p is the probability of *dropping* a unit (torch's and Keras's meaning; the original paper's
p was the keep probability). "Inverted" dropout scales the survivors by 1/(1 − p) during
training, so that E[out] = x and evaluation needs no rescaling: in eval mode dropout is the
identity.
"""

from __future__ import annotations

import numbers

import numpy as np

from scratch.module import Module, check_input


class Dropout(Module):
    """training: out = x ⊙ m / (1 − p),  mᵢ ~ Bernoulli(1 − p) independently;  eval: out = x

    x: (*) -> out: (*)                       twin: torch_ref/dropout.py (torch.nn.Dropout)

    ∂L/∂x = ∂L/∂out ⊙ m / (1 − p)   (training);   ∂L/∂out   (eval)

    Edge cases as torch (ATen/native/Dropout.cpp): p = 0 returns x unchanged; p = 1 returns
    x · 0 (zeros, NaN where x is ±inf or NaN), with no mask drawn.

    The mask is drawn from ``generator`` (an ``np.random.Generator``; a fresh unseeded one if
    None). ``forward(x, mask=keep)`` uses a given boolean mask of kept units instead, which
    is how a test reproduces a draw made elsewhere (torch's streams differ from NumPy's).
    ``inplace=True`` writes the output into x, as torch does.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False,
                 generator: np.random.Generator | None = None):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
            raise ValueError(f"Dropout: p (the drop probability) must be between 0 and 1, got {p!r}")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(
                f"Dropout: generator must be an np.random.Generator, got {type(generator).__name__}"
            )
        self.p = float(p)
        self.inplace = bool(inplace)
        self.generator = np.random.default_rng() if generator is None else generator

    def forward(self, x: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        check_input(repr(self), x)
        self.scale = None                                    # None: the identity, in both passes
        if not self.training or self.p == 0 or x.size == 0:
            return x
        if self.p == 1:
            self.scale = np.zeros((), dtype=x.dtype)
            return self._times_scale(x)
        if mask is None:
            mask = self.generator.random(x.shape, dtype=x.dtype) >= self.p   # kept with prob. 1 − p
        elif not (isinstance(mask, np.ndarray) and mask.dtype == bool and mask.shape == x.shape):
            raise ValueError(
                f"{self!r}: mask must be a boolean array of the input's shape {x.shape}, got "
                f"{getattr(mask, 'dtype', type(mask).__name__)} with shape {np.shape(mask)}"
            )
        # torch's order: the noise m / (1 − p) first, in x's dtype, then x times the noise.
        self.scale = mask.astype(x.dtype) / x.dtype.type(1 - self.p)         # (*)
        return self._times_scale(x)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:          # ∂L/∂out: (*)
        if self.scale is None:
            return grad_out                                         # ∂L/∂x = ∂L/∂out
        return grad_out * self.scale                                # ∂L/∂x = ∂L/∂out ⊙ m / (1 − p)

    def _times_scale(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):          # a dropped ±inf is inf · 0 = NaN, as in torch
            return np.multiply(x, self.scale, out=x if self.inplace else None)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


__all__ = ["Dropout"]
