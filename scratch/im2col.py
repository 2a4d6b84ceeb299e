"""im2col: every window of the image as a column, so that a convolution is a matrix product.

cols[c·kH·kW + u·kW + v, (i·W_out + j)·N + n] = x_pad[n, c, sH·i + dH·u, sW·j + dW·v]

x: (N, C, H, W) -> cols: (C·kH·kW, H_out·W_out·N)
col2im, the adjoint: (C·kH·kW, H_out·W_out·N) -> (N, C, H, W), overlaps summed
⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩, so col2im is im2col's backward.
Conv2d: out = W (C_out, C_in·kH·kW) @ cols, then ∂L/∂x = col2im(Wᵀ ∂L/∂out).

twin: torch_ref/im2col.py (torch.nn.functional.unfold, fold)
story: docs/im2col.md (why the batch goes last, and what that buys)
"""

from __future__ import annotations

import math

import numpy as np

from scratch import _checks as check


def im2col(x, kernel_size, dilation=1, padding=0, stride=1):
    """Every window of x as a column.

    (N, C, H, W) -> (C·kH·kW, H_out·W_out·N). F.unfold holds
    the same numbers as (N, C·kH·kW, H_out·W_out).
    """
    where = "im2col"
    check.input(where, x, ndim=4, layout="(N, C, H, W)")
    k = check.pair(where, "kernel_size", kernel_size, 1)
    stride, dilation, pads, _ = _windows(
        where, x.shape, k, stride, padding, dilation)
    cols = _columns(x, k, stride, dilation, pads)  # (1, K, M)
    return cols[0]                        # K = C·kH·kW rows


def col2im(cols, output_size, kernel_size, dilation=1,
           padding=0, stride=1):
    """The adjoint of im2col: each column added back where
    it was read, overlaps summed.

    (C·kH·kW, H_out·W_out·N) -> output_size = (N, C, H, W).
    F.fold takes the columns as (N, C·kH·kW, H_out·W_out).
    """
    where = "col2im"
    check.input(where, cols, name="cols", ndim=2,
                layout="(C·kH·kW, H_out·W_out·N)")
    N, C, _, _ = output_size
    k = check.pair(where, "kernel_size", kernel_size, 1)
    stride, dilation, pads, (H_out, W_out) = _windows(
        where, output_size, k, stride, padding, dilation)
    check.exact_shape(where, "cols", cols,
                      (C * k[0] * k[1], H_out * W_out * N),
                      context=" for output_size "
                              f"{tuple(output_size)}")
    return _columns_backward(cols, output_size, k, stride,
                             dilation, pads)


def _windows(where, shape, kernel_size, stride, padding, dilation):
    """stride, dilation, pads (top, bottom, left, right) and
    (H_out, W_out), refused where no window fits."""
    stride, dilation, pads = check.conv_window(
        where, kernel_size, stride, padding, dilation)
    out_size = _output_size(shape, kernel_size, stride, dilation, pads)
    check.output_fits(where, shape, kernel_size, pads, dilation,
                      out_size)
    return stride, dilation, pads, out_size


def _output_size(shape, kernel_size, stride, dilation, pads):
    """H_out = ⌊(H + top + bottom − d·(k − 1) − 1) / s⌋ + 1, W_out
    likewise: the formula with 2·padding split into two sides."""
    top, bottom, left, right = pads
    padded = (shape[-2] + top + bottom, shape[-1] + left + right)
    return tuple((n - d * (k - 1) - 1) // s + 1 for n, k, s, d
                 in zip(padded, kernel_size, stride, dilation, strict=True))


def _per_group(a, groups) -> np.ndarray:
    """(g·rows, …) -> (g, rows, the rest): each group's block."""
    return a.reshape(groups, a.shape[0] // groups,
                     math.prod(a.shape[1:]))


def _columns(x, kernel_size, stride, dilation, pads, mode="zeros",
             groups=1, out=None) -> np.ndarray:
    """cols = im2col(x_pad), the batch last, per group of channels:
    (N, C, H, W) -> (g, K, M), K = C/g·kH·kW, M = H_out·W_out·N;
    written into ``out`` if it is an array of that size."""
    x_t = _batch_last(x, pads, mode)            # (C, H_pad, W_pad, N)
    cols = _im2col(x_t, kernel_size, stride, dilation, out)
    return _per_group(cols, groups)


def _nchw(out, x_shape, kernel_size, stride, dilation, pads,
          mode="zeros") -> np.ndarray:
    """A convolution's output, (g, C_out/g, M) -> (N, C_out, H_out, W_out)."""
    H_out, W_out = _output_size(x_shape, kernel_size, stride, dilation,
                                pads)
    rows = math.prod(out.shape[:-1])                  # C_out
    return _batch_first(out.reshape(rows, H_out, W_out, x_shape[0]))


def _columns_backward(grad_cols, x_shape, kernel_size, stride,
                      dilation, pads, mode="zeros") -> np.ndarray:
    """The adjoint of _columns: col2im, then back through the padding.
    (g, K, M) -> (N, C, H, W)."""
    (N, C, H, W), (top, bottom, left, right) = x_shape, pads
    H_out, W_out = _output_size(x_shape, kernel_size, stride, dilation,
                                pads)
    grad_cols = grad_cols.reshape(math.prod(grad_cols.shape[:-1]), H_out,
                                  W_out, N)        # (C·kH·kW, H_out, W_out, N)
    x_t = _col2im(grad_cols, (C, H + top + bottom, W + left + right, N),
                  kernel_size, stride, dilation)   # (C, H_pad, W_pad, N)
    return _unpad(_batch_first(x_t), pads, mode, (H, W))


# -- padding modes: what x_pad holds beyond the edges ---------------------
def _sources(size, before, after, mode) -> np.ndarray:
    """The input row (column) each padded row shows, torch's F.pad.

    t = i − before runs over the padded rows, −before ≤ t < size + after;
    a negative ``before`` (or ``after``) crops instead.
    """
    t = np.arange(-before, size + after)
    if mode == "reflect":                 # the edge is not repeated
        t = np.abs(t)
        return np.where(t >= size, 2 * (size - 1) - t, t)
    if mode == "replicate":
        return np.clip(t, 0, size - 1)
    return t % size                       # circular: the other side


def _unpad(grad_pad, pads, mode, size) -> np.ndarray:
    """The adjoint of the padding: (N, C, H_pad, W_pad) -> (N, C, H, W).

    'zeros': the border is dropped. The others copied pixels, so
    each copy's gradient is added back onto its source:
    ∂L/∂x[s] = Σ over the padded i with source(i) = s of ∂L/∂x_pad[i].
    """
    (H, W), (top, bottom, left, right) = size, pads
    if mode == "zeros":
        return grad_pad[:, :, top:top + H, left:left + W]
    rows = _sources(H, top, bottom, mode)
    cols = _sources(W, left, right, mode)
    N, C, _, W_pad = grad_pad.shape
    grad_rows = np.zeros((N, C, H, W_pad), dtype=grad_pad.dtype)
    np.add.at(grad_rows, (slice(None), slice(None), rows), grad_pad)
    grad_x = np.zeros((N, C, H, W), dtype=grad_pad.dtype)
    np.add.at(grad_x, (Ellipsis, cols), grad_rows)
    return grad_x


# -- the fast form: the batch on the last axis ----------------------------
# numpy copies fastest along long runs of contiguous numbers. In (C, H, W, N)
# a window row is W_out·N of them, not W_out: the kH·kW copies of im2col and
# the adds of col2im run 2–4 times faster (docs/notes/im2col.md).
def _batch_last(x, pads=(0, 0, 0, 0), mode="zeros") -> np.ndarray:
    """x: (N, C, H, W) -> (C, H_pad, W_pad, N), padded by pads =
    (top, bottom, left, right) with zeros or as ``mode`` says.

    Eight samples at a time, the numbers read for a position share a
    cache line: the move runs 3–5 times faster than one transposing copy.
    """
    if mode != "zeros":
        rows = _sources(x.shape[2], pads[0], pads[1], mode)
        cols = _sources(x.shape[3], pads[2], pads[3], mode)
        x, pads = x[:, :, rows[:, None], cols], (0, 0, 0, 0)
    N, C, H, W = x.shape
    top, bottom, left, right = pads
    shape = (C, H + top + bottom, W + left + right, N)
    x_t = np.zeros(shape, x.dtype) if any(pads) else np.empty(shape, x.dtype)
    for start in range(0, N, 8):
        x_t[:, top:top + H, left:left + W, start:start + 8] = \
            np.moveaxis(x[start:start + 8], 0, -1)
    return x_t


def _batch_first(y) -> np.ndarray:
    """y: (C, H, W, N), contiguous -> (N, C, H, W). Tiles of 64 positions
    keep the numbers read (64 rows of N) and written (N rows of 64) in cache."""
    N = y.shape[-1]
    rows = y.reshape(math.prod(y.shape[:-1]), N)           # (C·H·W, N)
    out = np.empty((N, rows.shape[0]), dtype=y.dtype)
    for start in range(0, rows.shape[0], 64):
        out[:, start:start + 64] = rows[start:start + 64].T
    return out.reshape(N, *y.shape[:-1])


def _im2col(x_t, kernel_size, stride, dilation, out=None) -> np.ndarray:
    """The kH·kW strided views of x_t, stacked:

    cols[c, u, v, i, j, n] = x_t[c, sH·i + dH·u, sW·j + dW·v, n]
    x_t: (C, H_pad, W_pad, N) -> cols: (C·kH·kW, H_out, W_out, N)

    As a (C·kH·kW, M) matrix it is the right factor of W @ cols, and its
    transpose (a free view) that of ∂L/∂W = ∂out @ colsᵀ: BLAS calls on
    the big matrix as it lies in memory.
    """
    (kH, kW), (sH, sW), (dH, dW) = kernel_size, stride, dilation
    C, N = x_t.shape[0], x_t.shape[-1]
    H_out, W_out = _output_size(x_t.shape[:3], kernel_size, stride,
                                dilation, (0, 0, 0, 0))
    cols = _buffer(out, (C, kH, kW, H_out, W_out, N), x_t.dtype)
    for u in range(kH):
        rows = _tap(u, dH, sH, H_out)
        for v in range(kW):
            columns = _tap(v, dW, sW, W_out)
            cols[:, u, v] = x_t[:, rows, columns]     # (C, H_out, W_out, N)
    return cols.reshape(C * kH * kW, H_out, W_out, N)


def _tap(offset, dilation, stride, size) -> slice:
    """Kernel tap ``offset``'s rows (or columns) of x_pad, one per output
    row: d·offset + s·i for 0 ≤ i < size."""
    start = offset * dilation
    return slice(start, start + (size - 1) * stride + 1, stride)


def _buffer(out, shape, dtype) -> np.ndarray:
    """``out`` reshaped if it has the size and dtype, else a new array.
    Writing over the last step's columns spares a fresh allocation, whose
    first writes miss the cache: 0.8 ms of conv1's 2.5 at batch 128."""
    if (out is None or out.size != math.prod(shape) or out.dtype != dtype
            or not out.flags.c_contiguous):
        return np.empty(shape, dtype)
    return out.reshape(shape)                   # a view: contiguous


def _col2im(cols, x_t_shape, kernel_size, stride, dilation) -> np.ndarray:
    """The adjoint of _im2col: each column block added back where it
    was read, kH·kW vectorised adds instead of np.add.at per element.

    cols: (C·kH·kW, H_out, W_out, N) -> (C, H_pad, W_pad, N)
    """
    (kH, kW), (sH, sW), (dH, dW) = kernel_size, stride, dilation
    H_out, W_out = cols.shape[1:3]
    cols = cols.reshape(cols.shape[0] // (kH * kW), kH, kW, *cols.shape[1:])
    x_t = np.zeros(x_t_shape, dtype=cols.dtype)
    for u in range(kH):
        rows = _tap(u, dH, sH, H_out)
        for v in range(kW):
            columns = _tap(v, dW, sW, W_out)
            x_t[:, rows, columns] += cols[:, u, v]    # (C, H_out, W_out, N)
    return x_t


__all__ = ["col2im", "im2col"]
