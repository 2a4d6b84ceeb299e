"""The dense (fully connected) layer.

y = x Wᵀ + b

x: (*, in_features) -> y: (*, out_features)
W: (out_features, in_features)    b: (out_features,)

∂L/∂W = ∂yᵀ x    ∂L/∂b = Σₙ ∂y    ∂L/∂x = ∂y W

twin: torch_ref/linear.py (torch.nn.Linear)
story: docs/linear.md (W's layout, and the tutorials' x W)
"""

from __future__ import annotations

import numpy as np

from scratch import _checks as check
from scratch import init
from scratch.module import Module, Parameter


class Linear(Module):
    """y = x Wᵀ + b

    x: (*, in_features) -> y: (*, out_features)
    W, b start as torch's: U(−1/√in_features, 1/√in_features).
    """

    def __init__(self, in_features: int, out_features: int,
                 bias: bool = True, dtype=None,
                 generator: np.random.Generator | None = None):
        super().__init__()
        self.in_features = check.integer(
            "Linear", "in_features", in_features)
        self.out_features = check.integer(
            "Linear", "out_features", out_features)
        dtype = check.dtype("Linear", dtype)
        shape = (self.out_features, self.in_features)
        self.weight = Parameter(np.zeros(shape), dtype)
        self.bias = None
        if bias:
            self.bias = Parameter(np.zeros(shape[0]), dtype)
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None) -> None:
        init.default_init_(self.weight, self.bias,
                           generator=generator)

    def forward(self, x: np.ndarray) -> np.ndarray:
        check.input(self, x, dtype=self.weight.dtype)
        check.last_dim(self, x, "in_features", self.in_features)
        self.cache = x
        with np.errstate(invalid="ignore"):     # inf·0: NaN, as torch
            out = x @ self.weight.data.T          # (*, out)
        if self.bias is not None:
            out = out + self.bias.data
        return out

    def backward(self, grad_out, need_input_grad=True):
        """∂L/∂y (*, out) -> ∂L/∂x (*, in), or None if not needed."""
        x = check.cached(self)
        N = int(np.prod(x.shape[:-1]))          # all leading dims
        x = x.reshape(N, self.in_features)           # (N, in)
        g = grad_out.reshape(N, self.out_features)   # (N, out)
        with np.errstate(invalid="ignore"):
            self.weight.grad += g.T @ x        # ∂yᵀ x   (out, in)
        if self.bias is not None:
            self.bias.grad += g.sum(axis=0)    # Σₙ ∂y   (out,)
        if not need_input_grad:
            return None
        return grad_out @ self.weight.data     # ∂y W    (*, in)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, "
                f"out_features={self.out_features}, "
                f"bias={self.bias is not None}")


__all__ = ["Linear"]
