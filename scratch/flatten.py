"""Flatten: feature maps to one vector per sample.     twin: torch_ref/flatten.py (torch.nn.Flatten)

x: (N, C, H, W) -> out: (N, C·H·W)       with the defaults start_dim=1, end_dim=-1

A reshape: no value changes, so the backward reshapes ∂L/∂out back to the input's shape.

Where the tutorials go wrong: their ``flatten`` is ``feature_maps.reshape(-1)`` (001) or
``pooled.flatten()`` (004), which flattens *everything*, batch included. That is right for
their one image, but a batch (N, C, H, W) becomes one vector of N·C·H·W numbers and the dense
layer that follows mixes the samples. torch's ``nn.Flatten`` starts at dimension 1 and keeps
the batch; ``Flatten(0)`` is the tutorials' behaviour.
"""

from __future__ import annotations

import numpy as np

from scratch.module import Module, check_input


class Flatten(Module):
    """out = x.reshape(x.shape[:start_dim] + (∏ x.shape[start_dim:end_dim + 1],) + x.shape[end_dim + 1:])

    x: (*, S_start, …, S_end, *) -> out: (*, S_start·…·S_end, *)     twin: torch_ref/flatten.py

    ∂L/∂x = ∂L/∂out reshaped to x's shape (reshaping moves no value, so nothing is summed).
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        for name, value in (("start_dim", start_dim), ("end_dim", end_dim)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"Flatten: {name} must be an int, got {value!r}")
        self.start_dim = int(start_dim)
        self.end_dim = int(end_dim)

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_input(repr(self), x)
        ndim = max(x.ndim, 1)                    # torch treats a 0-D tensor as having one dim
        start, end = (self._dim(name, d, ndim)
                      for name, d in (("start_dim", self.start_dim), ("end_dim", self.end_dim)))
        if start > end:
            raise ValueError(
                f"{self!r}: start_dim must not come after end_dim, got dims {start} > {end} "
                f"for an input of shape {x.shape}"
            )
        shape = x.shape if x.ndim else (1,)
        self.x_shape = x.shape
        merged = int(np.prod(shape[start:end + 1]))         # not −1: it is ambiguous for size 0
        return x.reshape((*shape[:start], merged, *shape[end + 1:]))   # (*, S_start·…·S_end, *)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:          # ∂L/∂out: (*, S, *)
        return grad_out.reshape(self.x_shape)                       # ∂L/∂x: x's shape

    def _dim(self, name: str, dim: int, ndim: int) -> int:
        if not -ndim <= dim < ndim:
            raise ValueError(
                f"{self!r}: {name}={dim} is out of range for an input with {ndim} dims "
                f"(expected {-ndim} ≤ {name} < {ndim})"
            )
        return dim % ndim

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


__all__ = ["Flatten"]
