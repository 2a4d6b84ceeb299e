"""Pooling: the maximum or the mean of each window.      twin: torch_ref/pooling.py

x: (N, C, H, W) or unbatched (C, H, W) -> out: (N, C, H_out, W_out) (or (C, H_out, W_out))

Per spatial dimension (``pool_output_size``, torch's formula, ATen/native/Pool.h):

    H_out = ⌊(H + 2·padding − dilation·(kH − 1) − 1 + (stride − 1 if ceil_mode)) / stride⌋ + 1

and in ceil mode one window less if the last one would start at or beyond H + padding
(it must start inside the input or the left padding). Each window is read at
    x_pad[n, c, stride·i + dilation·u, stride·j + dilation·v],   0 ≤ u < kH, 0 ≤ v < kW,
so both layers below run as a loop over the kH·kW offsets (u, v), each one a strided view of
shape (N, C, H_out, W_out): no Python loop over pixels, no ``np.add.at``.

Where the tutorials go wrong:

* tutorial 004's ``max_pooling`` allocates ``(h//2, w//2)`` and writes ``pooled[i//2, j//2]``
  for i in ``range(0, h, stride)``: it assumes even sizes and stride 2. For an odd h the last
  i is h − 1 and ``(h − 1)//2 = h//2`` is out of range (IndexError); for stride ≠ 2 the
  ``i//2`` indices are simply wrong.
* tutorial 001's ``max_pool2d`` takes ``h // pool_size`` windows and so drops the last row
  and column of an odd-sized map. That is not a bug: it is torch's default floor mode
  (``ceil_mode=False``). ``ceil_mode=True`` keeps a last, partial window instead.
* tutorial 003's (and 000's) ``(H − pool)//stride + 1`` loop is right for valid windows
  (no padding, no dilation): the formula above with padding 0 and dilation 1.
"""

from __future__ import annotations

import numpy as np

from scratch.module import Module, check_input


def _pair(layer: str, name: str, value, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints, each ≥ minimum, as torch's ``_pair``."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(values) != 2 or any(
        isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum for v in values
    ):
        raise ValueError(
            f"{layer}: {name} must be an int or a pair of ints ≥ {minimum}, got {value!r}"
        )
    return int(values[0]), int(values[1])


def pool_output_size(size: int, kernel_size: int, stride: int, padding: int = 0,
                     dilation: int = 1, ceil_mode: bool = False) -> int:
    """Windows along one dimension: torch's ``pooling_output_shape`` (ATen/native/Pool.h)."""
    span = size + 2 * padding - dilation * (kernel_size - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1    # Python // floors, as div_rtn
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1                       # the last window must start inside the input or left padding
    return out


class _Pool2d(Module):
    """What both pools share: arguments, the window geometry and the padded input."""

    def _setup(self, kernel_size, stride, padding, dilation, ceil_mode) -> None:
        name = type(self).__name__
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.ceil_mode = bool(ceil_mode)
        self._k = _pair(name, "kernel_size", kernel_size, 1)
        self._s = _pair(name, "stride", self.stride, 1)
        self._p = _pair(name, "padding", padding, 0)
        self._d = _pair(name, "dilation", dilation, 1)
        for k, p in zip(self._k, self._p, strict=True):
            if p > k // 2:             # torch refuses it too: a window could lie wholly in padding
                raise ValueError(
                    f"{name}: padding must be at most half of kernel_size, got padding={padding} "
                    f"with kernel_size={kernel_size}"
                )

    def _geometry(self, x: np.ndarray) -> tuple[int, int]:
        """Check the input; return (H_out, W_out)."""
        check_input(repr(self), x, ndim=(3, 4), shape_hint="(N, C, H, W) or (C, H, W)")
        if 0 in x.shape[-3:]:
            raise ValueError(f"{self!r}: input must have non-empty C, H and W, got shape {x.shape}")
        out_size = tuple(
            pool_output_size(n, k, s, p, d, self.ceil_mode)
            for n, k, s, p, d in zip(x.shape[-2:], self._k, self._s, self._p, self._d, strict=True)
        )
        if min(out_size) < 1:
            raise ValueError(
                f"{self!r}: input of spatial size {x.shape[-2:]} is too small, "
                f"the output would be {out_size}"
            )
        return out_size

    def _pad(self, x: np.ndarray, out_size, value: float) -> np.ndarray:
        """x padded by ``padding`` on each side, plus whatever ceil mode's last window overhangs."""
        widths = [(0, 0)] * (x.ndim - 2)
        for n, o, k, s, p, d in zip(x.shape[-2:], out_size, self._k, self._s, self._p, self._d,
                                    strict=True):
            needed = (o - 1) * s + d * (k - 1) + 1                  # rows the windows reach
            widths.append((p, max(p, needed - n - p)))
        if not any(any(w) for w in widths):
            return x                                                # the common case: no copy
        return np.pad(x, widths, constant_values=value)

    def _offsets(self, out_size):
        """For each window offset (u, v): its flat number u·kW + v and the strided view slices."""
        (kH, kW), (sH, sW), (dH, dW) = self._k, self._s, self._d
        H_out, W_out = out_size
        for u in range(kH):
            rows = slice(u * dH, u * dH + (H_out - 1) * sH + 1, sH)
            for v in range(kW):
                cols = slice(v * dW, v * dW + (W_out - 1) * sW + 1, sW)
                yield u * kW + v, (..., rows, cols)                 # view: (*, H_out, W_out)

    def _unpad(self, grad_pad: np.ndarray, shape) -> np.ndarray:
        (pH, pW), (H, W) = self._p, shape[-2:]
        return grad_pad[..., pH:pH + H, pW:pW + W]

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"ceil_mode={self.ceil_mode}")


class MaxPool2d(_Pool2d):
    """out[n, c, i, j] = max over 0 ≤ u < kH, 0 ≤ v < kW of x_pad[n, c, sH·i + dH·u, sW·j + dW·v]

    x: (N, C, H, W) -> out: (N, C, H_out, W_out)   twin: torch_ref/pooling.py (torch.nn.MaxPool2d)

    Padding counts as −∞, so it never wins. ∂L/∂x receives ∂L/∂out[i, j] at the one position
    that won window (i, j), and sums where one element wins several overlapping windows.

    Which position wins is torch's CPU rule, so ties give torch's gradient: the windows are
    scanned in row-major order starting from the first element inside the input, and a later
    element replaces the winner only if it is strictly greater or is NaN. Hence the *first*
    maximum wins a tie, the *last* NaN wins a window with NaNs (and the output is NaN), and an
    all −∞ window routes its gradient to its first element inside the input.

    With dilation and padding a window can miss the input altogether (H = 1, kernel_size=2,
    padding=1, dilation=2: rows −1 and 1). Its output is −∞, as torch's; its gradient goes
    nowhere, since no input element is in the window. (torch 2.x's CPU kernel records an
    index past the input for such a window, and its backward writes out of bounds.)

    ``return_indices=True`` also returns the winners as flat indices into H·W, as torch does.
    Integer input is refused (torch accepts it); every scratch layer computes in float.
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self._setup(kernel_size, stride, padding, dilation, ceil_mode)
        self.dilation = dilation
        self.return_indices = bool(return_indices)

    def forward(self, x: np.ndarray):
        out_size = self._geometry(x)
        x_pad = self._pad(x, out_size, -np.inf)
        kH, kW = self._k
        winner = np.empty(x.shape[:-2] + out_size,                  # (*, H_out, W_out)
                          dtype=np.uint8 if kH * kW <= 255 else np.int64)
        winner[...] = self._first_inside(out_size)
        out = np.full(winner.shape, -np.inf, dtype=x.dtype)         # (*, H_out, W_out)
        has_nan = bool(np.isnan(x).any())
        take = np.empty(winner.shape, dtype=bool)
        taken = np.empty_like(winner)
        # Branch-free updates (masked copies are ~20× slower): the offsets k rise during the scan
        # and a valid cell's k is never below the window's first inside, so a window that takes
        # offset k has winner = max(winner, k).
        for k, window in self._offsets(out_size):
            view = x_pad[window]
            np.greater(view, out, out=take)                         # strictly greater: first max wins
            if has_nan:
                take |= np.isnan(view)                              # NaN always wins: the last NaN
            np.maximum(out, view, out=out)                          # NaN propagates, as torch
            np.maximum(winner, np.multiply(take, winner.dtype.type(k), out=taken), out=winner)
        self.winner, self.x_shape, self.pad_shape = winner, x.shape, x_pad.shape
        if self.return_indices:
            return out, self._flat_indices(winner, out_size, x.shape)
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:          # ∂L/∂out: (*, H_out, W_out)
        out_size = grad_out.shape[-2:]
        grad_pad = np.zeros(self.pad_shape, dtype=grad_out.dtype)   # (*, H_pad, W_pad)
        overlapping = any(s < (k - 1) * d + 1 for k, s, d in zip(self._k, self._s, self._d,
                                                                   strict=True))
        won = np.empty(self.winner.shape, dtype=bool)
        for k, window in self._offsets(out_size):
            np.equal(self.winner, k, out=won)
            if overlapping:                                         # ∂L/∂x += Σ over the windows won
                grad_pad[window] += grad_out * won
            else:                                                   # disjoint views: write directly
                np.multiply(grad_out, won, out=grad_pad[window])
        return self._unpad(grad_pad, self.x_shape)                  # (*, H, W)

    def _first_inside(self, out_size) -> np.ndarray:
        """Offset number of each window's first element inside the input (torch's start)."""
        first = []
        for o, k, s, p, d in zip(out_size, self._k, self._s, self._p, self._d, strict=True):
            start = np.arange(o) * s - p                            # window start, may be < 0
            skip = np.where(start < 0, (-start + d - 1) // d, 0)    # offsets that lie in padding
            first.append(np.minimum(skip, k - 1))
        return first[0][:, None] * self._k[1] + first[1][None, :]   # (H_out, W_out)

    def _flat_indices(self, winner: np.ndarray, out_size, shape) -> np.ndarray:
        kW, (sH, sW), (pH, pW), (dH, dW) = self._k[1], self._s, self._p, self._d
        u, v = np.divmod(winner.astype(np.int64), kW)
        rows = np.arange(out_size[0])[:, None] * sH - pH + u * dH
        cols = np.arange(out_size[1])[None, :] * sW - pW + v * dW
        return rows * shape[-1] + cols                              # int64, as torch

    def extra_repr(self) -> str:
        return super().extra_repr().replace(", ceil_mode", f", dilation={self.dilation}, ceil_mode")


class AvgPool2d(_Pool2d):
    """out[n, c, i, j] = Σ over 0 ≤ u < kH, 0 ≤ v < kW of x_pad[n, c, sH·i + u, sW·j + v] / divisor[i, j]

    x: (N, C, H, W) -> out: (N, C, H_out, W_out)   twin: torch_ref/pooling.py (torch.nn.AvgPool2d)

    Padding counts as 0. The divisor is torch's (ATen/native/cpu/AvgPoolKernel.cpp), per window:
      * ``divisor_override`` if given;
      * else, with ``count_include_pad``: the window's cells inside the *padded* input
        (input plus ``padding`` on each side). A ceil-mode window that hangs beyond the
        padding does not count the overhang, so the last divisor may be less than kH·kW;
      * else: the window's cells inside the input itself.
    A window with no cell inside the input gives 0.

    ∂L/∂x[h, w] = Σ over the windows (i, j) containing (h, w) of ∂L/∂out[i, j] / divisor[i, j].
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self._setup(kernel_size, stride, padding, 1, ceil_mode)
        self.count_include_pad = bool(count_include_pad)
        if divisor_override is not None and (
            isinstance(divisor_override, bool) or not isinstance(divisor_override, (int, np.integer))
            or divisor_override == 0
        ):
            raise ValueError(
                f"AvgPool2d: divisor_override must be None or a non-zero int, got {divisor_override!r}"
            )
        self.divisor_override = divisor_override

    def forward(self, x: np.ndarray) -> np.ndarray:
        out_size = self._geometry(x)
        x_pad = self._pad(x, out_size, 0.0)
        out = np.zeros(x.shape[:-2] + out_size, dtype=x.dtype)      # (*, H_out, W_out)
        for _, window in self._offsets(out_size):
            out += x_pad[window]
        self.divisor = self._divisor(x.shape, out_size, x.dtype)    # (H_out, W_out)
        self.x_shape, self.pad_shape = x.shape, x_pad.shape
        return out / self.divisor

    def backward(self, grad_out: np.ndarray) -> np.ndarray:          # ∂L/∂out: (*, H_out, W_out)
        grad_window = grad_out / self.divisor                       # ∂L/∂out / divisor
        grad_pad = np.zeros(self.pad_shape, dtype=grad_out.dtype)   # (*, H_pad, W_pad)
        for _, window in self._offsets(grad_out.shape[-2:]):
            grad_pad[window] += grad_window                         # each cell of the window
        return self._unpad(grad_pad, self.x_shape)                  # (*, H, W)

    def _divisor(self, shape, out_size, dtype) -> np.ndarray:
        """torch's divisor per window (1 for a window wholly outside the input: its sum is 0)."""
        padded, inside = [], []
        for n, o, k, s, p in zip(shape[-2:], out_size, self._k, self._s, self._p, strict=True):
            start = np.arange(o) * s - p
            end = np.minimum(start + k, n + p)                      # clipped to the padded input
            padded.append(end - start)
            inside.append(np.minimum(end, n) - np.maximum(start, 0))
        empty = (inside[0][:, None] <= 0) | (inside[1][None, :] <= 0)
        if self.divisor_override is not None:
            divisor = np.full(out_size, self.divisor_override)
        elif self.count_include_pad:
            divisor = padded[0][:, None] * padded[1][None, :]
        else:
            divisor = inside[0][:, None] * inside[1][None, :]
        return np.where(empty, 1, divisor).astype(dtype)            # (H_out, W_out)

    def extra_repr(self) -> str:
        return (super().extra_repr() + f", count_include_pad={self.count_include_pad}"
                + (f", divisor_override={self.divisor_override}" if self.divisor_override else ""))


__all__ = ["AvgPool2d", "MaxPool2d", "pool_output_size"]
