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
  likewise per input row for ∂x (MEC, Cho & Brand, ICML 2017).
* batch last otherwise: cols (g, K, M), M = H_out·W_out·N,
  scratch/im2col.py's; a window row there is W_out·N numbers long, and
  one product per group serves the whole batch.
backward tells them apart by the axes of what forward kept: 6, 4, 3.
"""

from __future__ import annotations

import numpy as np

from scratch import _threads
from scratch.im2col import (
    _batch_first,
    _batch_last,
    _buffer,
    _columns,
    _columns_backward,
    _nchw,
    _output_size,
    _per_group,
    _sources,
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
    N, C_out = x.shape[0], weight.shape[0]
    H_out, W_out = _output_size(x.shape, *window[:4])
    layout = _layout(x.shape, window)
    if layout == "rows":
        return _rows_forward(x, weight, bias, window, groups, reuse)
    if layout == "batch last":
        cols = _columns(x, *window, groups, reuse)      # (g, K, M)
        out = _per_group(weight, groups) @ cols         # (g, O, M)
        if bias is not None:
            out += _per_group(bias, groups)
        return _nchw(out, x.shape, *window), cols
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
    if cols.ndim == 6:
        return _rows_backward(grad_out, weight, cols, x_shape, window,
                              groups, need_input_grad)
    W = _per_group(weight, groups)                      # (g, O, K)
    if cols.ndim == 4:
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


# -- the rows layout --------------------------------------------------------
def _row_weights(weight, groups) -> np.ndarray:
    """W (C_out, C/g, kH, kW) -> (g, O, kH·C/g·kW), in the order (u, c, v)
    of a block of kH rows of the unfolded x."""
    C_out, C_g, kH, kW = weight.shape
    W = weight.reshape(groups, C_out // groups, C_g, kH, kW)
    return W.transpose(0, 1, 3, 2, 4).reshape(groups, C_out // groups,
                                              kH * C_g * kW)


def _rows_forward(x, weight, bias, window, groups, reuse):
    """rows[g, h, c, v, j, n] = x_pad[n, g·C/g + c, h, sW·j + dW·v], then
    out[:, :, i] = W rows[:, sH·i ... sH·i + kH − 1] + b, one product per
    output row: kH rows of the unfolded x lie one after another."""
    (kH, kW), (sH, sW), (_, dW), pads, mode = window
    (N, C), (H_out, W_out) = x.shape[:2], _output_size(x.shape, *window[:4])
    x_t = _batch_last(x, pads, mode)            # (C, H_pad, W_pad, N)
    H_pad, C_g = x_t.shape[1], C // groups
    rows = _buffer(reuse, (groups, H_pad, C_g, kW, W_out, N), x.dtype)
    for v in range(kW):
        rows[:, :, :, v] = x_t[:, :, v * dW:v * dW + (W_out - 1) * sW + 1:sW] \
            .reshape(groups, C_g, H_pad, W_out, N).swapaxes(1, 2)
    R, K = rows.reshape(groups, H_pad * C_g * kW, W_out * N), C_g * kW
    W = _row_weights(weight, groups)            # (g, O, kH·K)
    out = np.empty((groups, W.shape[1], H_out, W_out * N), x.dtype)
    for i in range(H_out):                      # (g, O, kH·K) @ (g, kH·K, W_out·N)
        np.matmul(W, R[:, sH * i * K:(sH * i + kH) * K], out=out[:, :, i])
    if bias is not None:
        out += bias.reshape(groups, -1, 1, 1)
    return _batch_first(out.reshape(weight.shape[0], H_out, W_out, N)), rows


def _rows_backward(grad_out, weight, rows, x_shape, window, groups,
                   need_input_grad):
    """∂W = Σ_i ∂out[:, :, i] rows_iᵀ, and for each row h of x_pad
    ∂rows[h] = Σ_u W[:, :, u]ᵀ ∂out[:, :, h − u] (vertical stride 1): the
    output rows h − u lie one after another too. Then each width tap's
    ∂rows is added back where it was read."""
    (kH, kW), (sH, sW), (_, dW), pads, mode = window
    (N, C, H, W_in), (H_out, W_out) = x_shape, grad_out.shape[2:]
    g, H_pad, C_g = rows.shape[:3]
    R, K = rows.reshape(g, H_pad * C_g * kW, W_out * N), C_g * kW
    grad_t = _batch_last(grad_out)              # (C_out, H_out, W_out, N)
    grad_b = grad_t.reshape(grad_t.shape[0], H_out * W_out * N).sum(axis=1)
    O = grad_t.shape[0] // g                    # each output row's ∂out:
    grad = grad_t.reshape(g, O, H_out, W_out * N).swapaxes(1, 2).copy()
    grad_W = np.zeros((g, kH * K, O), grad.dtype)
    for i in range(H_out):                      # (rows ∂outᵀ)ᵀ: see above
        grad_W += R[:, sH * i * K:(sH * i + kH) * K] @ grad[:, i].swapaxes(1, 2)
    grad_W = grad_W.reshape(g, kH, C_g, kW, O).transpose(0, 4, 2, 1, 3)
    grad_W = grad_W.reshape(g, O, C_g * kH * kW)
    if not need_input_grad:
        return None, grad_W, grad_b
    # W_rev[:, :, (kH − 1 − u)·O + o] = W[o, :, u]: rows h − u for u
    # falling are output rows rising
    W_rev = _row_weights(weight, groups).reshape(g, O, kH, K)[:, :, ::-1]
    W_rev = W_rev.transpose(0, 3, 2, 1).reshape(g, K, kH * O)
    grad = grad.reshape(g, H_out * O, W_out * N)
    grad_x_t = np.zeros((C, H_pad, W_in + pads[2] + pads[3], N), grad.dtype)
    grad_x_g = grad_x_t.reshape(g, C_g, *grad_x_t.shape[1:])
    for h in range(H_pad):                      # u from min(kH − 1, h) down
        first, last = max(0, h - kH + 1), min(H_out - 1, h)  # output rows
        q = kH - 1 - h + first
        grad_rows = (W_rev[:, :, q * O:(q + last - first + 1) * O]
                     @ grad[:, first * O:(last + 1) * O])
        grad_rows = grad_rows.reshape(g, C_g, kW, W_out, N)
        for v in range(kW):
            grad_x_g[:, :, h, v * dW:v * dW + (W_out - 1) * sW + 1:sW] += \
                grad_rows[:, :, v]
    return (_unpad(_batch_first(grad_x_t), pads, mode, (H, W_in)),
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
        rows = slice(u * dH, u * dH + (H_out - 1) * sH + 1, sH)
        for v in range(kW):
            columns = slice(v * dW, v * dW + (W_out - 1) * sW + 1, sW)
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
