"""Pooling: the maximum or the mean of each window.

out[n, c, i, j] = max over 0 ≤ u < kH, 0 ≤ v < kW of x_pad[n, c, sH·i + dH·u, sW·j + dW·v]   (or the mean)

x: (N, C, H, W) or (C, H, W) -> out: (N, C, H_out, W_out) or (C, H_out, W_out);  H', W' = H_out, W_out
H_out = ⌊(H + 2·padding − dilation·(kH − 1) − 1 + (stride − 1 if ceil_mode)) / stride⌋ + 1,
        one less in ceil mode if the last window would start at or beyond H + padding
max: ∂L/∂x receives ∂L/∂out[i, j] where window (i, j) took its maximum, summed over windows
avg: ∂L/∂x[h, w] = Σ over the windows (i, j) that hold (h, w) of ∂L/∂out[i, j] / divisor[i, j]

twin: torch_ref/pooling.py (torch.nn.MaxPool2d, torch.nn.AvgPool2d)
story: docs/pooling.md (who wins a tie or a NaN, the divisors, float16, the tutorials' sizes)
"""

from __future__ import annotations

import numpy as np

from scratch import _checks as check
from scratch.module import Module


def pool_output_size(size: int, kernel_size: int, stride: int,
                     padding: int = 0, dilation: int = 1,
                     ceil_mode: bool = False) -> int:
    """Windows along one dimension: torch's pooling_output_shape
    (ATen/native/Pool.h)."""
    span = size + 2 * padding - dilation * (kernel_size - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1       # the last window must start inside the input
    return out         # or its left padding; // floors, as div_rtn


class _Pool2d(Module):
    """What both pools share: the window's arguments and geometry."""

    def _setup(self, kernel_size, stride, padding, dilation,
               ceil_mode) -> None:
        where = type(self).__name__
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.ceil_mode = check.flag(where, "ceil_mode", ceil_mode)
        self._k = check.pair(where, "kernel_size", kernel_size, 1)
        self._s = check.pool_stride(where, stride, self._k)
        self._p = check.pair(where, "padding", padding, 0)
        self._d = check.pair(where, "dilation", dilation, 1)
        check.pool_padding(where, padding, self._k, self._p)

    def _geometry(self, x: np.ndarray) -> tuple[int, int]:   # (H_out, W_out)
        check.pool_image(self, x, ndim=(3, 4),
                         layout="(N, C, H, W) or (C, H, W)")
        out_size = tuple(
            pool_output_size(n, k, s, p, d, self.ceil_mode)
            for n, k, s, p, d in zip(x.shape[-2:], self._k, self._s,
                                     self._p, self._d, strict=True))
        check.pool_input(self, x, out_size)
        return out_size

    def _pad(self, x: np.ndarray, out_size, value: float) -> np.ndarray:
        """x padded by ``padding``, plus what ceil mode's last window overhangs."""
        widths = [(0, 0)] * (x.ndim - 2)
        for n, o, k, s, p, d in zip(x.shape[-2:], out_size, self._k, self._s, self._p, self._d, strict=True):
            needed = (o - 1) * s + d * (k - 1) + 1          # rows the windows reach
            widths.append((p, max(p, needed - n - p)))
        if not any(any(w) for w in widths):
            return x                                        # the common case: no copy
        return np.pad(x, widths, constant_values=value)

    def _offsets(self, out_size, reverse: bool = False):
        """Each window offset (u, v): its number u·kW + v and its strided view. reverse=True
        meets the windows that hold an element in torch's (row-major) order: float16 rounds."""
        (kH, kW), (sH, sW), (dH, dW) = self._k, self._s, self._d
        H_out, W_out = out_size
        offsets = [(u, v) for u in range(kH) for v in range(kW)]
        for u, v in reversed(offsets) if reverse else offsets:
            rows = slice(u * dH, u * dH + (H_out - 1) * sH + 1, sH)
            cols = slice(v * dW, v * dW + (W_out - 1) * sW + 1, sW)
            yield u * kW + v, (..., rows, cols)             # view: (*, H_out, W_out)

    def _unpad(self, grad_pad: np.ndarray, shape) -> np.ndarray:      # (*, H, W)
        return grad_pad[..., self._p[0]:self._p[0] + shape[-2], self._p[1]:self._p[1] + shape[-1]]

    def to(self, dtype) -> _Pool2d:
        """No parameters: the input's dtype decides, float16 too (torch pools it on the CPU)."""
        check.pool_dtype(f"{type(self).__name__}.to", dtype)
        return self

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"ceil_mode={self.ceil_mode}")


class MaxPool2d(_Pool2d):
    """out[n, c, i, j] = max over 0 ≤ u < kH, 0 ≤ v < kW of
                         x_pad[n, c, sH·i + dH·u, sW·j + dW·v]

    x: (N, C, H, W) -> out: (N, C, H_out, W_out); padding is −∞.
    ∂L/∂x receives ∂L/∂out[i, j] at the one position that won
    window (i, j), summed where one element wins several. Ties
    and NaN follow torch's CPU rule: the first maximum wins, the
    last NaN (docs/pooling.md). return_indices=True also returns
    the winners as flat indices into H·W, as torch.
    """

    def __init__(self, kernel_size, stride=None, padding=0,
                 dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self._setup(kernel_size, stride, padding, dilation, ceil_mode)
        self.dilation = dilation
        self.return_indices = bool(return_indices)

    def forward(self, x: np.ndarray):
        out_size = self._geometry(x)
        x_pad = self._pad(x, out_size, -np.inf)   # −∞ never wins
        out, winner = self._scan(x_pad, out_size)  # (*, H', W')
        self.cache = (winner, x.shape, x_pad.shape)
        if not self.return_indices:
            return out
        return out, self._flat_indices(winner, out_size, x.shape)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """∂L/∂out (*, H_out, W_out) -> ∂L/∂x (*, H, W)."""
        winner, x_shape, pad_shape = check.cached(self)
        grad_pad = np.zeros(pad_shape, dtype=grad_out.dtype)
        won = np.empty(winner.shape, dtype=bool)
        overlap = any(s < (k - 1) * d + 1 for k, s, d
                      in zip(self._k, self._s, self._d, strict=True))
        for k, window in self._offsets(grad_out.shape[-2:], True):
            np.equal(winner, k, out=won)
            if overlap:                   # Σ over the windows won
                grad_pad[window] += grad_out * won
            else:                         # disjoint views: write
                np.multiply(grad_out, won, out=grad_pad[window])
        return self._unpad(grad_pad, x_shape)

    # -- the scan, branch-free (masked copies are ~20× slower) -------------------
    def _scan(self, x_pad, out_size):
        """The maximum of each window and the offset that won it, by torch's CPU rule.

        Windows are scanned in row-major order from their first element inside the
        input; a later element replaces the winner only if strictly greater or NaN.
        The offsets k rise during the scan and a valid cell's k is never below the
        window's first inside, so a window that takes offset k has winner = max(winner, k).
        """
        kH, kW = self._k
        winner = np.empty(x_pad.shape[:-2] + out_size,                # (*, H_out, W_out)
                          dtype=np.uint8 if kH * kW <= 255 else np.int64)
        winner[...] = self._first_inside(out_size)
        out = np.full(winner.shape, -np.inf, dtype=x_pad.dtype)
        has_nan = bool(np.isnan(x_pad).any())
        take, taken = np.empty(winner.shape, dtype=bool), np.empty_like(winner)
        view = np.empty(winner.shape, dtype=x_pad.dtype)              # each window offset, copied:
        for k, window in self._offsets(out_size):
            np.copyto(view, x_pad[window])                            # contiguous: numpy runs 1.5× faster
            np.greater(view, out, out=take)                           # strictly: the first max wins
            if has_nan:
                take |= np.isnan(view)                                # NaN always wins: the last NaN
            np.maximum(out, view, out=out)                            # NaN propagates, as torch
            np.maximum(winner, np.multiply(take, winner.dtype.type(k), out=taken), out=winner)
        return out, winner

    def _first_inside(self, out_size) -> np.ndarray:
        """Offset number of each window's first element inside the input (torch's start)."""
        first = []
        for o, k, s, p, d in zip(out_size, self._k, self._s, self._p, self._d, strict=True):
            start = np.arange(o) * s - p                              # window start, may be < 0
            skip = np.where(start < 0, (-start + d - 1) // d, 0)      # offsets that lie in padding
            first.append(np.minimum(skip, k - 1))
        return first[0][:, None] * self._k[1] + first[1][None, :]     # (H_out, W_out)

    def _flat_indices(self, winner: np.ndarray, out_size, shape) -> np.ndarray:
        kW, (sH, sW), (pH, pW), (dH, dW) = self._k[1], self._s, self._p, self._d
        u, v = np.divmod(winner.astype(np.int64), kW)
        rows = np.arange(out_size[0])[:, None] * sH - pH + u * dH
        cols = np.arange(out_size[1])[None, :] * sW - pW + v * dW
        return rows * shape[-1] + cols                                # int64, as torch

    def extra_repr(self) -> str:
        return super().extra_repr().replace(", ceil_mode", f", dilation={self.dilation}, ceil_mode")


class AvgPool2d(_Pool2d):
    """out[n, c, i, j] = Σ over 0 ≤ u < kH, 0 ≤ v < kW of
                 x_pad[n, c, sH·i + u, sW·j + v] / divisor[i, j]

    x: (N, C, H, W) -> out: (N, C, H_out, W_out); padding is 0.
    divisor: divisor_override, else the window's cells inside the
    padded input (count_include_pad) or inside the input
    (docs/pooling.md). ∂L/∂x[h, w] = Σ over the windows (i, j)
    that hold (h, w) of ∂L/∂out[i, j] / divisor[i, j].
    """

    def __init__(self, kernel_size, stride=None, padding=0,
                 ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self._setup(kernel_size, stride, padding, 1, ceil_mode)
        self.count_include_pad = check.flag(
            "AvgPool2d", "count_include_pad", count_include_pad)
        self.divisor_override = check.pool_divisor(
            "AvgPool2d", divisor_override)

    @np.errstate(invalid="ignore")     # inf − inf: NaN, as torch
    def forward(self, x: np.ndarray) -> np.ndarray:
        out_size = self._geometry(x)
        x_pad = self._pad(x, out_size, 0.0)
        # float16 sums in float32, rounded once at the end (torch)
        dtype = np.float32 if x.dtype == np.float16 else x.dtype
        total = np.zeros(x.shape[:-2] + out_size, dtype)  # *, H', W'
        for _, window in self._offsets(out_size):
            total += x_pad[window]
        divisor = self._divisor(x.shape, out_size)      # (H', W')
        self.cache = (divisor, x.shape, x_pad.shape)
        out = total / divisor.astype(dtype)
        return out.astype(x.dtype, copy=False)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """∂L/∂out (*, H_out, W_out) -> ∂L/∂x (*, H, W)."""
        divisor, x_shape, pad_shape = check.cached(self)
        grad_window = grad_out / divisor.astype(grad_out.dtype)
        grad_pad = np.zeros(pad_shape, dtype=grad_out.dtype)
        for _, window in self._offsets(grad_out.shape[-2:], True):
            grad_pad[window] += grad_window   # each cell of the window
        return self._unpad(grad_pad, x_shape)

    def _divisor(self, shape, out_size) -> np.ndarray:
        """torch's divisor per window (ATen/native/cpu/AvgPoolKernel.cpp); 1 for a window outside."""
        padded, inside = [], []
        for n, o, k, s, p in zip(shape[-2:], out_size, self._k, self._s, self._p, strict=True):
            start = np.arange(o) * s - p
            end = np.minimum(start + k, n + p)                        # clipped to the padded input
            padded.append(end - start)
            inside.append(np.minimum(end, n) - np.maximum(start, 0))
        empty = (inside[0][:, None] <= 0) | (inside[1][None, :] <= 0)
        if self.divisor_override is not None:
            divisor = np.full(out_size, self.divisor_override)
        elif self.count_include_pad:
            divisor = padded[0][:, None] * padded[1][None, :]
        else:
            divisor = inside[0][:, None] * inside[1][None, :]
        return np.where(empty, 1, divisor)                            # (H_out, W_out)

    def extra_repr(self) -> str:
        return (super().extra_repr() + f", count_include_pad={self.count_include_pad}"
                + (f", divisor_override={self.divisor_override}" if self.divisor_override else ""))


__all__ = ["AvgPool2d", "MaxPool2d", "pool_output_size"]
