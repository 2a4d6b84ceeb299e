"""The dense (fully connected) layer.          twin: torch_ref/linear.py (torch.nn.Linear)

y = x Wᵀ + b

x: (*, in_features) -> y: (*, out_features); W: (out_features, in_features); b: (out_features,)

A layer is many neurons side by side: row j of W holds neuron j's synapse weights and b[j]
its bias. The tutorials store W as (in, out) and write x W; torch stores (out, in) and writes
x Wᵀ. Same numbers, transposed: we use torch's layout so state_dicts load either way.
"""

from __future__ import annotations

import numpy as np

from scratch import init
from scratch.module import Module, Parameter, check_input, resolve_dtype


class Linear(Module):
    """y = x Wᵀ + b                          twin: torch_ref/linear.py (torch.nn.Linear)

    x: (*, in_features) -> y: (*, out_features)

    Weights start as torch's do: W, b ~ U(−1/√in_features, 1/√in_features)
    (``kaiming_uniform_`` with a = √5, see ``scratch.init``).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype=None, generator: np.random.Generator | None = None):
        super().__init__()
        for arg, value in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(f"Linear: {arg} must be a non-negative int, got {value!r}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        dtype = resolve_dtype(dtype, "Linear")
        self.weight = Parameter(np.zeros((out_features, in_features)), dtype=dtype)
        self.bias = Parameter(np.zeros(out_features), dtype=dtype) if bias else None
        self.reset_parameters(generator)

    def reset_parameters(self, generator: np.random.Generator | None = None) -> None:
        init.default_init_(self.weight, self.bias, generator=generator)

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_input(repr(self), x, dtype=self.weight.dtype)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"{self!r}: input must have shape (*, in_features={self.in_features}), "
                f"got shape {x.shape}"
            )
        self.x = x
        with np.errstate(invalid="ignore"):          # inf·0 in the product: NaN, as torch
            out = x @ self.weight.data.T                             # (*, out)
        if self.bias is not None:
            out = out + self.bias.data
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:          # ∂L/∂y: (*, out)
        x = self.x.reshape(-1, self.in_features)                      # (N, in)
        g = grad_out.reshape(-1, self.out_features)                   # (N, out)
        with np.errstate(invalid="ignore"):
            self.weight.grad += g.T @ x                               # ∂L/∂W = ∂yᵀ x      (out, in)
        if self.bias is not None:
            self.bias.grad += g.sum(axis=0)                           # ∂L/∂b = Σₙ ∂y      (out,)
        return grad_out @ self.weight.data                            # ∂L/∂x = ∂y W       (*, in)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")
