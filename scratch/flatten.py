"""Flatten: feature maps to one vector per sample.

out = x with dimensions start_dim … end_dim merged into one
    (defaults start_dim=1, end_dim=-1: all but the batch's)

x: (N, C, H, W) -> out: (N, C·H·W)          (the defaults)
x: (*, S_start, …, S_end, *) -> out: (*, S_start·…·S_end, *)

∂L/∂x = ∂L/∂out reshaped to x's shape (no value moves)

twin: torch_ref/flatten.py (torch.nn.Flatten)
story: docs/flatten.md (the tutorials' reshape(-1))
"""

from __future__ import annotations

import numpy as np

from scratch import _checks as check
from scratch.module import Module


class Flatten(Module):
    """out = x.reshape(*x.shape[:s], ∏ x.shape[s:e + 1],
                       *x.shape[e + 1:])

    s = start_dim, e = end_dim; float16, float32, float64.
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = check.int_type(
            "Flatten", "start_dim", start_dim)
        self.end_dim = check.int_type(
            "Flatten", "end_dim", end_dim)

    def forward(self, x: np.ndarray) -> np.ndarray:
        check.half_input(self, x)
        s = check.axis(self, "start_dim", self.start_dim, x)
        e = check.axis(self, "end_dim", self.end_dim, x)
        check.dim_order(self, s, e, x)
        self.cache = x.shape
        shape = x.shape or (1,)         # 0-d: one dim, as torch
        # the product, not −1: −1 is ambiguous for size 0
        merged = int(np.prod(shape[s:e + 1]))
        return x.reshape(*shape[:s], merged, *shape[e + 1:])

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        x_shape = check.cached(self)
        return grad_out.reshape(x_shape)     # ∂L/∂x: x's shape

    def to(self, dtype) -> Flatten:
        check.pool_dtype(self, dtype)    # no parameters to cast
        return self

    def extra_repr(self) -> str:
        return (f"start_dim={self.start_dim}, "
                f"end_dim={self.end_dim}")


__all__ = ["Flatten"]
