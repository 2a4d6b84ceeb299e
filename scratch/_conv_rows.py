"""The rows layout of scratch/_fast_conv.py, for a small output image
with vertical stride and dilation 1 (the MNIST CNN's conv2, 8 × 8).

im2col copies each input pixel kH·kW times, mostly the same rows again
one row further down. Here x is unfolded along its width only,
    rows[gi, h, c, v, j, n] = x_pad[n, gi·C/g + c, h, sW·j + dW·v],
the batch last: kW copies instead of kH·kW. With h first, the kH rows
h = i … i + kH − 1 that output row i reads lie one after another, a
(kH·C/g·kW, W_out·N) view, so out[:, :, i] is one product; input row h
receives from output rows h − u, which lie one after another in ∂out,
so ∂x's rows are one product each too. MEC: Cho & Brand, "MEC:
Memory-efficient Convolution for Deep Neural Network", ICML 2017.
"""

from __future__ import annotations

import numpy as np

from scratch.im2col import _batch_first, _batch_last, _buffer, _output_size, _tap, _unpad


def _row_weights(weight, groups) -> np.ndarray:
    """W (C_out, C/g, kH, kW) -> (g, O, kH·C/g·kW), in the order (u, c, v)
    of a block of kH rows of the unfolded x."""
    C_out, C_g, kH, kW = weight.shape
    W = weight.reshape(groups, C_out // groups, C_g, kH, kW)
    return W.transpose(0, 1, 3, 2, 4).reshape(groups, C_out // groups,
                                              kH * C_g * kW)


def _width_taps(window, W_out):
    """Width tap v's columns of x_pad: sW·j + dW·v for j < W_out."""
    (_, kW), (_, sW), (_, dW) = window[:3]
    return [_tap(v, dW, sW, W_out) for v in range(kW)]


def forward(x, weight, bias, window, groups, reuse):
    """rows[gi, h, c, v, j, n] = x_pad[n, gi·C/g + c, h, sW·j + dW·v], then
    out[:, :, i] = W rows[:, i ... i + kH − 1] + b, one product per output
    row (vertical stride and dilation 1: _fast_conv._layout).

    x: (N, C, H, W), weight: (C_out, C/g, kH, kW) -> out: (N, C_out,
    H_out, W_out), and rows: (g, H_pad, C/g, kW, W_out, N) for backward.
    """
    (kH, kW), pads, mode = window[0], window[3], window[4]
    (N, C), (H_out, W_out) = x.shape[:2], _output_size(x.shape, *window[:4])
    x_t = _batch_last(x, pads, mode)            # (C, H_pad, W_pad, N)
    H_pad, C_g = x_t.shape[1], C // groups
    rows = _buffer(reuse, (groups, H_pad, C_g, kW, W_out, N), x.dtype)
    for v, columns in enumerate(_width_taps(window, W_out)):
        rows[:, :, :, v] = x_t[:, :, columns].reshape(
            groups, C_g, H_pad, W_out, N).swapaxes(1, 2)
    R, K = rows.reshape(groups, H_pad * C_g * kW, W_out * N), C_g * kW
    W_mat = _row_weights(weight, groups)        # (g, O, kH·K)
    out = np.empty((groups, W_mat.shape[1], H_out, W_out * N), x.dtype)
    for i in range(H_out):                      # (g, O, kH·K) @ (g, kH·K, W_out·N)
        np.matmul(W_mat, R[:, i * K:(i + kH) * K], out=out[:, :, i])
    if bias is not None:
        out += bias.reshape(groups, -1, 1, 1)
    return _batch_first(out.reshape(weight.shape[0], H_out, W_out, N)), rows


def backward(grad_out, weight, rows, x_shape, window, groups,
             need_input_grad):
    """∂W = Σ_i ∂out[:, :, i] rows[i ... i + kH − 1]ᵀ, and for each row h
    of x_pad ∂rows[h] = Σ_u W[:, :, u]ᵀ ∂out[:, :, h − u]: the output rows
    h − u lie one after another too. Then each width tap of ∂rows is added
    back where it was read, every row at once.

    grad_out: (N, C_out, H_out, W_out), rows: forward's -> (∂x (N, C, H,
    W) or None, ∂W (g, O, C/g·kH·kW), ∂b (C_out,)).
    """
    (kH, kW), pads, mode = window[0], window[3], window[4]
    (N, C, H, W_in), (H_out, W_out) = x_shape, grad_out.shape[2:]
    H_pad, C_g = rows.shape[1:3]
    R, K = rows.reshape(groups, H_pad * C_g * kW, W_out * N), C_g * kW
    grad_t = _batch_last(grad_out)              # (C_out, H_out, W_out, N)
    grad_b = grad_t.reshape(grad_t.shape[0], H_out * W_out * N).sum(axis=1)
    O = grad_t.shape[0] // groups               # grad: (g, H_out, O, W_out·N)
    grad = grad_t.reshape(groups, O, H_out, W_out * N).swapaxes(1, 2).copy()
    grad_W = np.zeros((groups, kH * K, O), grad.dtype)
    for i in range(H_out):      # as (rows ∂outᵀ)ᵀ: OpenBLAS's faster orientation
        grad_W += R[:, i * K:(i + kH) * K] @ grad[:, i].swapaxes(1, 2)
    grad_W = grad_W.reshape(groups, kH, C_g, kW, O).transpose(0, 4, 2, 1, 3)
    grad_W = grad_W.reshape(groups, O, C_g * kH * kW)
    if not need_input_grad:
        return None, grad_W, grad_b
    # W_rev[:, :, (kH − 1 − u)·O + o] = W[o, :, u]: for input row h, the
    # output row i = h − u runs up as u runs down, so W_rev's blocks do too
    W_rev = _row_weights(weight, groups).reshape(groups, O, kH, K)[:, :, ::-1]
    W_rev = W_rev.transpose(0, 3, 2, 1).reshape(groups, K, kH * O)
    grad = grad.reshape(groups, H_out * O, W_out * N)
    grad_rows = np.empty((groups, H_pad, K, W_out * N), grad.dtype)   # rows' layout
    for h in range(H_pad):
        first, last = max(0, h - kH + 1), min(H_out - 1, h)  # output rows
        q = kH - 1 - h + first
        np.matmul(W_rev[:, :, q * O:(q + last - first + 1) * O],
                  grad[:, first * O:(last + 1) * O], out=grad_rows[:, h])
    grad_rows = grad_rows.reshape(groups, H_pad, C_g, kW, W_out, N)
    grad_x_t = np.zeros((C, H_pad, W_in + pads[2] + pads[3], N), grad.dtype)
    grad_x_g = grad_x_t.reshape(groups, C_g, *grad_x_t.shape[1:])
    for v, columns in enumerate(_width_taps(window, W_out)):   # every row at once
        grad_x_g[:, :, :, columns] += grad_rows[:, :, :, v].swapaxes(1, 2)
    return (_unpad(_batch_first(grad_x_t), pads, mode, (H, W_in)),
            grad_W, grad_b)
