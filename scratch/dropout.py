"""Dropout: zero a random fraction p of the activations while training.

training: out = x ⊙ m / (1 − p),   mᵢ ~ Bernoulli(1 − p)
eval:     out = x

∂L/∂x = ∂L/∂out ⊙ m / (1 − p)   (training);   ∂L/∂out   (eval)

x: (*) -> out: (*)      p: the probability of *dropping* a unit

twin: torch_ref/dropout.py (torch.nn.Dropout)
story: docs/dropout.md (p's meaning, the edges p = 0 and p = 1)
"""

from __future__ import annotations

import numpy as np

from scratch import _checks as check
from scratch.module import Module


class Dropout(Module):
    """out = x ⊙ m / (1 − p) training, x in eval

    ``forward(x, mask=keep)`` takes a given boolean mask of
    kept units (how a test replays torch's draw).
    """

    def __init__(self, p=0.5,
                 inplace=False,
                 generator=None):
        super().__init__()
        self.p = check.dropout_p(
            "Dropout", p)
        self.inplace = inplace
        rng = check.generator(
            "Dropout", generator)
        self.generator = rng

    def forward(self, x: np.ndarray, mask=None) -> np.ndarray:
        check.half_input(self, x)
        if not self.training or self.p == 0 or x.size == 0:
            self.cache = x.dtype.type(1)      # the identity
            return x
        if self.p == 1:                        # no mask drawn
            self.cache = np.zeros((), dtype=x.dtype)
            return self._times_scale(x)
        if mask is None:             # kept with prob. 1 − p
            draw = np.promote_types(x.dtype, np.float32)
            u = self.generator.random(x.shape, dtype=draw)
            mask = u >= self.p       # (NumPy draws no float16)
        else:
            check.mask(self, mask, x)
        # torch's order: the noise m / (1 − p) in x's dtype,
        # then x times the noise
        keep = mask.astype(x.dtype)
        self.cache = keep / x.dtype.type(1 - self.p)
        return self._times_scale(x)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        scale = check.cached(self)     # m / (1 − p), or 1
        return grad_out * scale        # ∂L/∂out ⊙ m / (1 − p)

    def _times_scale(self, x: np.ndarray) -> np.ndarray:
        out = x if self.inplace else None
        with np.errstate(invalid="ignore"):  # inf · 0: NaN
            return np.multiply(x, self.cache, out=out)

    def to(self, dtype) -> Dropout:
        check.pool_dtype(self, dtype)    # no parameters to cast
        return self

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


__all__ = ["Dropout"]
