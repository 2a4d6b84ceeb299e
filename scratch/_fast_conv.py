"""The fast form of Conv2d and conv2d: the products in Conv2d's docstring,
laid out for the CPU. Only where the numbers lie changes, and the order
in which float sums are rounded; the maths is scratch/conv.py's.

Three layouts of the columns, chosen per layer (docs/notes/im2col.md):
* per image, where the output image is large (the MNIST CNN's conv1,
  24 × 24): cols (N, g, K + 1, P), P = H_out·W_out. One product per
  image, W_b @ cols[n], lands in NCHW as it stands: no layout move. A row
  of ones in cols and b as a last column of W_b add the bias inside the
  product, and ∂out @ colsᵀ then holds ∂b in its last column. The batch
  is split among the cores (THREADS), one share of images per thread.
* rows, where it is small and the vertical stride and dilation are 1
  (conv2, 8 × 8): x unfolded along its width only, rows (g, H_pad, C/g,
  kW, W_out, N), the batch last: kW copies instead of kH·kW. The kH rows
  that output row i reads lie one after another, a (kH·C/g·kW, W_out·N)
  view, so out[:, :, i] = W @ that view: one product per output row, and
  likewise per input row for ∂x (MEC; scratch/_conv_rows.py).
* batch last otherwise: cols (g, K, M), M = H_out·W_out·N,
  scratch/im2col.py's; a window row there is W_out·N numbers long, and
  one product per group serves the whole batch.
backward tells them apart by the axes of what forward kept: 6, 4, 3.
"""

from __future__ import annotations

import numpy as np

from scratch import _conv_rows, _threads
from scratch.im2col import (
    _batch_last,
    _buffer,
    _columns,
    _columns_backward,
    _nchw,
    _output_size,
    _per_group,
    _sources,
    _tap,
    _unpad,
)

# Output pixels per image from which the per-image layout is faster:
# its copies run W_out numbers at a time, which is slow below ~16.
PER_IMAGE = 256


def _layout(x_shape, window) -> str:
    """'per image' from PER_IMAGE output pixels on; below, 'rows' where
    the vertical stride and dilation are 1, else 'batch last'."""
    H_out, W_out = _output_size(x_shape, *window[:4])
    if H_out * W_out >= PER_IMAGE:
        return "per image"
    return "rows" if window[1][0] == window[2][0] == 1 else "batch last"


def kept_layout(kept) -> str:
    """Which layout forward used, from what it kept for backward."""
    return {6: "rows", 4: "per image", 3: "batch last"}[kept.ndim]


def forward(x, weight, bias, window, groups, reuse=None):
    """out = W im2col(x_pad) + b, and the columns backward needs.

    x: (N, C_in, H, W), weight: (C_out, C_in/g, kH, kW), bias: (C_out,)
    or None -> out: (N, C_out, H_out, W_out); window = (kernel, stride,
    dilation, pads, padding mode). The columns are written over
    ``reuse`` (the last call's) where it fits.
    """
    layout = _layout(x.shape, window)
    if layout == "rows":
        return _conv_rows.forward(x, weight, bias, window, groups, reuse)
    if layout == "batch last":
        cols = _columns(x, *window, groups, reuse)      # (g, K, M)
        out = _per_group(weight, groups) @ cols         # (g, O, M)
        if bias is not None:
            out += _per_group(bias, groups)
        return _nchw(out, x.shape, *window), cols
    N, C_out = x.shape[0], weight.shape[0]
    H_out, W_out = _output_size(x.shape, *window[:4])
    W = _per_group(weight, groups)                      # (g, O, K)
    if bias is not None:                                # (g, O, K + 1)
        W = np.concatenate([W, _per_group(bias, groups)], axis=2)
    K = W.shape[2]
    cols = _buffer(reuse, (N, groups, K, H_out * W_out), x.dtype)
    out = np.empty((N, groups, W.shape[1], H_out * W_out), x.dtype)
    def share(n):
        _image_columns(x[n], window, groups, cols[n])
        np.matmul(W, cols[n], out=out[n])               # (n, g, O, P)
    _threads.run(share, _threads.shares(N))
    return out.reshape(N, C_out, H_out, W_out), cols


def backward(grad_out, weight, cols, x_shape, window, groups,
             need_input_grad=True):
    """∂L/∂out -> (∂L/∂x or None, ∂L/∂W, ∂L/∂b or None):
    ∂b = Σ ∂out,  ∂W = ∂out colsᵀ,  ∂x = col2im(Wᵀ ∂out)."""
    layout = kept_layout(cols)
    if layout == "rows":
        return _conv_rows.backward(grad_out, weight, cols, x_shape, window,
                                   groups, need_input_grad)
    W = _per_group(weight, groups)                      # (g, O, K)
    if layout == "per image":
        return _image_backward(grad_out, W, cols, x_shape, window,
                               need_input_grad)
    grad = _per_group(_batch_last(grad_out), groups)    # (g, O, M)
    grad_b = grad.sum(axis=2).reshape(-1)
    # ∂W = ∂out colsᵀ, taken as (cols ∂outᵀ)ᵀ: OpenBLAS runs this
    # orientation of the long product about 1.7 times faster
    grad_W = (cols @ grad.swapaxes(1, 2)).swapaxes(1, 2)
    if not need_input_grad:
        return None, grad_W, grad_b
    grad_cols = W.swapaxes(1, 2) @ grad                 # (g, K, M)
    return (_columns_backward(grad_cols, x_shape, *window),
            grad_W, grad_b)


# -- the per-image layout ---------------------------------------------------
def _image_backward(grad_out, W, cols, x_shape, window, need_input_grad):
    """The backward per image, ∂W (with ∂b) summed over the images last."""
    (g, O, K), N, P = W.shape, x_shape[0], cols.shape[3]
    grad = grad_out.reshape(N, g, O, P)                 # (N, g, O, P)
    per_image = np.empty((N, g, O, cols.shape[2]), grad.dtype)
    grad_x = np.empty(x_shape, grad.dtype) if need_input_grad else None
    def share(n):
        np.matmul(grad[n], cols[n].swapaxes(2, 3), out=per_image[n])
        if need_input_grad:
            grad_cols = np.matmul(W.swapaxes(1, 2), grad[n])
            grad_x[n] = _image_col2im(grad_cols, grad_x[n].shape, window)
    _threads.run(share, _threads.shares(N))
    grad_Wb = per_image.sum(axis=0)                     # (g, O, K (+ 1))
    grad_b = grad_Wb[..., K].reshape(-1) if cols.shape[2] > K else None
    return grad_x, grad_Wb[..., :K], grad_b


def _padded(x, pads, mode) -> np.ndarray:
    """x_pad (N, C, H_pad, W_pad): with zeros, or as ``mode`` says."""
    top, bottom, left, right = pads
    if mode != "zeros":
        rows = _sources(x.shape[2], top, bottom, mode)
        cols = _sources(x.shape[3], left, right, mode)
        return x[:, :, rows[:, None], cols]
    if not any(pads):
        return x
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))


def _taps(window, out_size):
    """Each kernel tap (u, v) with its strided view of x_pad's rows, columns."""
    (kH, kW), (sH, sW), (dH, dW) = window[:3]
    H_out, W_out = out_size
    for u in range(kH):
        rows = _tap(u, dH, sH, H_out)
        for v in range(kW):
            columns = _tap(v, dW, sW, W_out)
            yield u, v, (..., rows, columns)


def _image_columns(x, window, groups, cols) -> None:
    """cols[n, group, c·kH·kW + u·kW + v, i·W_out + j]
        = x_pad[n, group·C/g + c, sH·i + dH·u, sW·j + dW·v],
    and a last row of ones where cols has room: into cols (N, g, K (+ 1), P)."""
    x_pad = _padded(x, window[3], window[4])
    (N, C), (kH, kW) = x.shape[:2], window[0]
    out_size = _output_size(x_pad.shape, *window[:3], (0, 0, 0, 0))
    K = C // groups * kH * kW
    if cols.shape[2] > K:
        cols[:, :, K] = 1
    # splitting axes gives a view: the writes land in cols
    taps = cols[:, :, :K].reshape(N, groups, C // groups, kH, kW,
                                  *out_size)
    for u, v, window_view in _taps(window, out_size):
        taps[:, :, :, u, v] = x_pad[window_view].reshape(
            N, groups, C // groups, *out_size)


def _image_col2im(grad_cols, x_shape, window) -> np.ndarray:
    """The adjoint of _image_columns (without its ones):
    (N, g, K, P) -> ∂L/∂x (N, C, H, W), overlaps summed."""
    (N, C, H, W), (kH, kW) = x_shape, window[0]
    top, bottom, left, right = window[3]
    H_out, W_out = _output_size(x_shape, *window[:4])
    grad_pad = np.zeros((N, C, H + top + bottom, W + left + right),
                        dtype=grad_cols.dtype)
    taps = grad_cols.reshape(N, C, kH, kW, H_out, W_out)
    for u, v, window_view in _taps(window, (H_out, W_out)):
        grad_pad[window_view] += taps[:, :, u, v]
    return _unpad(grad_pad, window[3], window[4], (H, W))
