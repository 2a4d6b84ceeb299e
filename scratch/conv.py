"""The 2-D convolution layer.                 twin: torch_ref/conv.py (torch.nn.Conv2d)

out[n, o, i, j] = b[o] + Σ_c Σ_u Σ_v  x_pad[n, c, sH·i + dH·u, sW·j + dW·v] · W[o, c, u, v]

x: (N, C_in, H, W) -> out: (N, C_out, H_out, W_out);  W: (C_out, C_in / groups, kH, kW);  b: (C_out,)
H_out = ⌊(H + 2·padding − dilation·(kH − 1) − 1) / stride⌋ + 1        (W_out likewise)

With ``groups`` = g the channels split into g groups: filter o sees only the C_in / g input
channels of its own group, o // (C_out / g); the sum over c above runs over those.

Three forms of the same maths, each tested against torch:

* ``conv2d_naive`` (and ``conv2d_naive_backward``): the tutorials' nested loops, generalised
  to batches, channels, stride, padding, dilation and groups. Written to be read; slow.
* ``conv2d`` and the layer ``Conv2d``: im2col plus one matrix product. The kH·kW shifted views
  of the input are copied into one matrix (``im2col``), and the whole convolution becomes
  W (C_out, C_in·kH·kW) @ cols (C_in·kH·kW, H_out·W_out·N), which BLAS does fast. The
  backward is two more matrix products and ``col2im``, the adjoint of im2col, which adds the
  kH·kW column blocks back onto shifted views of ∂L/∂x: a loop of kH·kW vectorised adds, not a
  scatter per element (``np.add.at``).
* ``convolve2d``: *true* convolution, (X ∗ K)[t] = Σ_τ X[τ] · K[t − τ].

Convolution or cross-correlation? What torch (and every deep-learning library) calls a
convolution is a cross-correlation: the kernel slides over the image unflipped,
S[i, j] = Σ_u Σ_v X[i + u, j + v] · K[u, v]. Tutorial 003 writes the true convolution,
(f ∗ g)(t) = Σ_τ f(τ) · g(t − τ), but its code computes the cross-correlation. The two differ
by flipping the kernel in both axes: ``convolve2d(X, K) == conv2d(X, K[::-1, ::-1])``. For a
learned kernel the difference does not matter (the network learns the flipped kernel); for a
fixed one it flips the sign of an edge detector: tutorial 003's kernel [[−1, −1], [1, 1]]
gives +8 on its 1..16 image with its code and −8 with its formula.

Where the tutorials go wrong:

* 000 and 003 give the output size as ⌊(H − k + 2p) / s⌋ + 1: right without dilation; with
  dilation d the kernel spans d·(k − 1) + 1 pixels, hence the formula above.
* 003's equation is the true convolution, its code the cross-correlation: its printed all-8s
  come from the code; its equation gives −8s (the kernel flipped: the same horizontal-edge
  detector with the opposite sign). 001 writes the cross-correlation's sum under the
  convolution sign, S = I ∗ K.
* 004's ``convolve2d`` computes ``out_dim`` from the height alone and allocates a square
  output: a wide image loses its right-hand part, a tall one crashes. Here H and W are
  independent throughout.
"""

from __future__ import annotations

import math

import numpy as np

from scratch import init
from scratch.module import Module, Parameter, check_input, resolve_dtype

# -- arguments ------------------------------------------------------------------------------


def _pair(where: str, name: str, value, minimum: int) -> tuple[int, int]:
    """An int, or a tuple of one or two ints, each ≥ minimum, as two ints (torch's ``_pair``)."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(values) == 1:
        values = values * 2
    if len(values) != 2 or any(
        isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum for v in values
    ):
        raise ValueError(
            f"{where}: {name} must be an int or a pair of ints ≥ {minimum}, got {value!r}"
        )
    return int(values[0]), int(values[1])


def _padding(where: str, padding, kernel_size, stride, dilation) -> tuple[int, int, int, int]:
    """``padding`` as (top, bottom, left, right).

    'valid' is no padding. 'same' pads d·(k − 1) in total per dimension, so that
    H_out = H at stride 1; when that total is odd the extra row (column) goes to the bottom
    (right), as torch does (ATen/native/Convolution.cpp, ``_convolution_mode``).
    """
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0, 0, 0
        if padding != "same":
            raise ValueError(f"{where}: padding must be an int, a pair of ints, 'valid' or 'same', "
                             f"got {padding!r}")
        if stride != (1, 1):
            raise ValueError(f"{where}: padding='same' is not supported for strided convolutions "
                             f"(as in torch), got stride={stride}")
        total_h, total_w = (d * (k - 1) for d, k in zip(dilation, kernel_size, strict=True))
        return total_h // 2, total_h - total_h // 2, total_w // 2, total_w - total_w // 2
    pad_h, pad_w = _pair(where, "padding", padding, 0)
    return pad_h, pad_h, pad_w, pad_w


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0,
                     dilation: int = 1) -> int:
    """⌊(size + 2·padding − dilation·(kernel_size − 1) − 1) / stride⌋ + 1, along one dimension.

    The dilated kernel spans dilation·(kernel_size − 1) + 1 pixels; it fits in
    size + 2·padding − span + 1 places, of which every stride-th is taken.
    """
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def _output_size(where, x_shape, kernel_size, stride, pads, dilation) -> tuple[int, int]:
    """(H_out, W_out), refusing an input smaller than the dilated kernel, as torch does."""
    H, W = x_shape[-2:]
    top, bottom, left, right = pads
    # Asymmetric 'same' padding: the formula with 2·padding replaced by top + bottom.
    H_out = (H + top + bottom - dilation[0] * (kernel_size[0] - 1) - 1) // stride[0] + 1
    W_out = (W + left + right - dilation[1] * (kernel_size[1] - 1) - 1) // stride[1] + 1
    if H_out < 1 or W_out < 1:
        span = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel_size, strict=True))
        raise ValueError(
            f"{where}: the padded input ({H + top + bottom} x {W + left + right}) is smaller than "
            f"the dilated kernel ({span[0]} x {span[1]}); input shape {tuple(x_shape)}"
        )
    return H_out, W_out


def _pad(x: np.ndarray, pads) -> np.ndarray:
    """x with zeros around H and W; x itself when there is nothing to pad."""
    top, bottom, left, right = pads
    if not any(pads):
        return x
    N, C, H, W = x.shape
    x_pad = np.zeros((N, C, H + top + bottom, W + left + right), dtype=x.dtype)
    x_pad[:, :, top:top + H, left:left + W] = x
    return x_pad


def _check_functional(where, x, weight, bias, groups):
    """The functional forms' checks: shapes that fit together, one dtype."""
    check_input(where, x, ndim=4, shape_hint="(N, C_in, H, W)")
    check_input(where, weight, name="weight", ndim=4, dtype=x.dtype,
                shape_hint="(C_out, C_in / groups, kH, kW)")
    if bias is not None:
        check_input(where, bias, name="bias", ndim=1, dtype=x.dtype, shape_hint="(C_out,)")
        if bias.shape[0] != weight.shape[0]:
            raise ValueError(f"{where}: bias must have C_out={weight.shape[0]} elements, "
                             f"got shape {bias.shape}")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{where}: groups must be a positive int, got {groups!r}")
    if weight.shape[0] % groups:
        raise ValueError(f"{where}: weight's C_out={weight.shape[0]} must be divisible by "
                         f"groups={groups}")
    if x.shape[1] != weight.shape[1] * groups:
        raise ValueError(
            f"{where}: input must have C_in = groups · weight.shape[1] = {weight.shape[1] * groups} "
            f"channels, got {x.shape[1]} (input shape {x.shape}, weight shape {weight.shape})"
        )


# -- the readable form: nested loops --------------------------------------------------------


def conv2d_naive(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """The convolution as the tutorials write it, one output pixel at a time.

    out[n, o, i, j] = b[o] + Σ (window of x_pad at (i, j) seen by filter o) ⊙ W[o]

    x: (N, C_in, H, W), weight: (C_out, C_in / groups, kH, kW) -> out: (N, C_out, H_out, W_out)
    twin: torch.nn.functional.conv2d (torch_ref/conv.py). One Python step per output pixel,
    hundreds to thousands of times slower than ``conv2d``: use it to read, ``conv2d`` to compute.
    """
    where = "conv2d_naive"
    _check_functional(where, x, weight, bias, groups)
    kernel_size = weight.shape[2:]
    (sH, sW), (dH, dW) = _pair(where, "stride", stride, 1), _pair(where, "dilation", dilation, 1)
    pads = _padding(where, padding, kernel_size, (sH, sW), (dH, dW))
    H_out, W_out = _output_size(where, x.shape, kernel_size, (sH, sW), pads, (dH, dW))
    N = x.shape[0]
    C_out, C_in_per_group, kH, kW = weight.shape
    C_out_per_group = C_out // groups

    x_pad = _pad(x, pads)                                             # (N, C_in, H_pad, W_pad)
    out = np.zeros((N, C_out, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for o in range(C_out):
            group = o // C_out_per_group
            channels = slice(group * C_in_per_group, (group + 1) * C_in_per_group)
            for i in range(H_out):
                for j in range(W_out):
                    # The window's top-left corner moves by the stride; its taps are
                    # `dilation` apart, so it spans d·(k − 1) + 1 pixels with k of them read.
                    row, col = i * sH, j * sW
                    window = x_pad[n, channels,
                                   row:row + dH * (kH - 1) + 1:dH,
                                   col:col + dW * (kW - 1) + 1:dW]    # (C_in/groups, kH, kW)
                    out[n, o, i, j] = np.sum(window * weight[o])
            if bias is not None:
                out[n, o] += bias[o]
    return out


def conv2d_naive_backward(grad_out, x, weight, stride=1, padding=0, dilation=1, groups=1):
    """The backward of ``conv2d_naive``, with the same loops: (∂L/∂x, ∂L/∂W, ∂L/∂b).

    Output pixel (n, o, i, j) was Σ window ⊙ W[o] + b[o], so its upstream gradient
    g = ∂L/∂out[n, o, i, j] flows back as
        ∂L/∂window += g · W[o]      (each input pixel, once per window it is in)
        ∂L/∂W[o]   += g · window
        ∂L/∂b[o]   += g
    Overlapping windows (stride < span) add up their contributions to the shared pixels.
    """
    where = "conv2d_naive_backward"
    _check_functional(where, x, weight, None, groups)
    kernel_size = weight.shape[2:]
    (sH, sW), (dH, dW) = _pair(where, "stride", stride, 1), _pair(where, "dilation", dilation, 1)
    pads = _padding(where, padding, kernel_size, (sH, sW), (dH, dW))
    H_out, W_out = _output_size(where, x.shape, kernel_size, (sH, sW), pads, (dH, dW))
    N, _, H, W = x.shape
    C_out, C_in_per_group, kH, kW = weight.shape
    C_out_per_group = C_out // groups
    if grad_out.shape != (N, C_out, H_out, W_out):
        raise ValueError(f"{where}: grad_out must have the output's shape "
                         f"{(N, C_out, H_out, W_out)}, got {grad_out.shape}")

    x_pad = _pad(x, pads)
    grad_x_pad = np.zeros_like(x_pad)
    grad_weight = np.zeros_like(weight)
    for n in range(N):
        for o in range(C_out):
            group = o // C_out_per_group
            channels = slice(group * C_in_per_group, (group + 1) * C_in_per_group)
            for i in range(H_out):
                for j in range(W_out):
                    row, col = i * sH, j * sW
                    taps = (n, channels,
                            slice(row, row + dH * (kH - 1) + 1, dH),
                            slice(col, col + dW * (kW - 1) + 1, dW))
                    g = grad_out[n, o, i, j]
                    grad_x_pad[taps] += g * weight[o]                 # ∂L/∂window += g · W[o]
                    grad_weight[o] += g * x_pad[taps]                 # ∂L/∂W[o] += g · window
    grad_bias = grad_out.sum(axis=(0, 2, 3))                          # ∂L/∂b[o] = Σ_n,i,j g
    top, _, left, _ = pads
    grad_x = grad_x_pad[:, :, top:top + H, left:left + W]             # padding gets no gradient
    return grad_x, grad_weight, grad_bias


# -- the fast form: im2col and one matrix product -------------------------------------------
#
# numpy copies an array fastest when the innermost run of contiguous numbers is long. In NCHW
# a window row is W_out numbers (8 in the MNIST CNN's second layer), so the kH·kW copies of
# im2col and the kH·kW adds of col2im would spend their time stepping from row to row. With the
# batch moved to the last axis, (C, H, W, N), a window row is W_out·N contiguous numbers: the
# copies run 2–4 times faster, for the price of moving the batch there and back once per array.


def _batch_last(x, pads=(0, 0, 0, 0)) -> np.ndarray:
    """x: (N, C, H, W) -> (C, H_pad, W_pad, N), zero-padded by pads = (top, bottom, left, right).

    A transposing copy reads x a whole image apart at each step; numpy's element-by-element
    copy then misses the cache at every number. Eight samples at a time, the eight numbers it
    reads for each position share a cache line, which makes the move 3–5 times faster.
    """
    N, C, H, W = x.shape
    top, bottom, left, right = pads
    shape = (C, H + top + bottom, W + left + right, N)
    x_t = np.zeros(shape, dtype=x.dtype) if any(pads) else np.empty(shape, dtype=x.dtype)
    for start in range(0, N, 8):
        x_t[:, top:top + H, left:left + W, start:start + 8] = np.moveaxis(x[start:start + 8], 0, -1)
    return x_t


def _batch_first(y) -> np.ndarray:
    """y: (C, H, W, N), contiguous -> (N, C, H, W). The other way round, tiles of 64 positions
    keep the numbers read (64 rows of N) and written (N rows of 64) in cache."""
    N = y.shape[-1]
    rows = y.reshape(math.prod(y.shape[:-1]), N)                      # (C·H·W, N)
    out = np.empty((N, rows.shape[0]), dtype=y.dtype)
    for start in range(0, rows.shape[0], 64):
        out[:, start:start + 64] = rows[start:start + 64].T
    return out.reshape(N, *y.shape[:-1])


def _im2col(x_t, kernel_size, stride, dilation, out_size) -> np.ndarray:
    """The kH·kW strided views of x_t, stacked.

    cols[c, u, v, i, j, n] = x_t[c, sH·i + dH·u, sW·j + dW·v, n]
    x_t: (C, H_pad, W_pad, N) -> cols: (C, kH, kW, H_out, W_out, N)

    Reshaped to (C·kH·kW, H_out·W_out·N) this is the right factor of the forward product
    W @ cols, and its transpose (a free view) the right factor of ∂L/∂W = ∂out @ colsᵀ: both are
    plain BLAS calls on the big matrix as it lies in memory.
    """
    (kH, kW), (sH, sW), (dH, dW), (H_out, W_out) = kernel_size, stride, dilation, out_size
    C, N = x_t.shape[0], x_t.shape[-1]
    cols = np.empty((C, kH, kW, H_out, W_out, N), dtype=x_t.dtype)
    for u in range(kH):
        rows = slice(u * dH, u * dH + (H_out - 1) * sH + 1, sH)
        for v in range(kW):
            columns = slice(v * dW, v * dW + (W_out - 1) * sW + 1, sW)
            cols[:, u, v] = x_t[:, rows, columns]                     # (C, H_out, W_out, N)
    return cols


def _col2im(cols, x_t_shape, kernel_size, stride, dilation) -> np.ndarray:
    """The adjoint of ``_im2col``: each column block added back where it was read from.

    cols: (C, kH, kW, H_out, W_out, N) -> (C, H_pad, W_pad, N). Where windows overlap, the
    contributions add up: kH·kW vectorised adds instead of ``np.add.at`` per element.
    """
    (kH, kW), (sH, sW), (dH, dW) = kernel_size, stride, dilation
    H_out, W_out = cols.shape[3:5]
    x_t = np.zeros(x_t_shape, dtype=cols.dtype)
    for u in range(kH):
        rows = slice(u * dH, u * dH + (H_out - 1) * sH + 1, sH)
        for v in range(kW):
            columns = slice(v * dW, v * dW + (W_out - 1) * sW + 1, sW)
            x_t[:, rows, columns] += cols[:, u, v]                    # (C, H_out, W_out, N)
    return x_t


def im2col(x, kernel_size, dilation=1, padding=0, stride=1) -> np.ndarray:
    """Every window of x as a column: (N, C, H, W) -> (C·kH·kW, H_out·W_out·N).

    Row c·kH·kW + u·kW + v, column (i·W_out + j)·N + n holds x_pad[n, c, sH·i + dH·u, sW·j + dW·v].
    twin: torch.nn.functional.unfold, whose (N, C·kH·kW, H_out·W_out) holds the same numbers
    with N first.
    """
    where = "im2col"
    check_input(where, x, ndim=4, shape_hint="(N, C, H, W)")
    kernel_size = _pair(where, "kernel_size", kernel_size, 1)
    stride, dilation = _pair(where, "stride", stride, 1), _pair(where, "dilation", dilation, 1)
    pads = _padding(where, padding, kernel_size, stride, dilation)
    out_size = _output_size(where, x.shape, kernel_size, stride, pads, dilation)
    cols = _im2col(_batch_last(x, pads), kernel_size, stride, dilation, out_size)
    return cols.reshape(x.shape[1] * kernel_size[0] * kernel_size[1], -1)


def col2im(cols, output_size, kernel_size, dilation=1, padding=0, stride=1) -> np.ndarray:
    """The adjoint of ``im2col``: (C·kH·kW, H_out·W_out·N) -> (N, C, H, W), overlaps summed.

    ``output_size`` is (N, C, H, W), the shape of the image im2col read. twin:
    torch.nn.functional.fold (which takes the columns as (N, C·kH·kW, H_out·W_out)).
    """
    where = "col2im"
    check_input(where, cols, name="cols", ndim=2, shape_hint="(C·kH·kW, H_out·W_out·N)")
    N, C, H, W = output_size
    kernel_size = _pair(where, "kernel_size", kernel_size, 1)
    stride, dilation = _pair(where, "stride", stride, 1), _pair(where, "dilation", dilation, 1)
    top, bottom, left, right = _padding(where, padding, kernel_size, stride, dilation)
    H_out, W_out = _output_size(where, output_size, kernel_size, stride,
                                (top, bottom, left, right), dilation)
    expected = (C * kernel_size[0] * kernel_size[1], H_out * W_out * N)
    if cols.shape != expected:
        raise ValueError(f"{where}: cols must have shape {expected} for output_size "
                         f"{tuple(output_size)}, got {cols.shape}")
    x_t = _col2im(cols.reshape(C, *kernel_size, H_out, W_out, N),
                  (C, H + top + bottom, W + left + right, N), kernel_size, stride, dilation)
    return _batch_first(x_t)[:, :, top:top + H, left:left + W]


def _forward_matmul(cols, weight, bias, groups) -> np.ndarray:
    """out = W @ cols (+ b), per group: the whole convolution as matrix products.

    cols: (C_in, kH, kW, H_out, W_out, N), weight: (C_out, C_in / g, kH, kW)
    -> out: (N, C_out, H_out, W_out)
    """
    C_out = weight.shape[0]
    H_out, W_out, N = cols.shape[3:]
    # Group g's rows of cols are its own channels' taps, so one product per group; for g = 1
    # this is a single (C_out, C_in·kH·kW) @ (C_in·kH·kW, H_out·W_out·N).
    W_grouped = weight.reshape(groups, C_out // groups, -1)          # (g, C_out/g, K)  K = C_in/g·kH·kW
    cols_grouped = cols.reshape(groups, W_grouped.shape[2], -1)       # (g, K, M)  M = H_out·W_out·N
    with np.errstate(invalid="ignore"):          # inf·0 in the product: NaN, as torch
        out_t = (W_grouped @ cols_grouped).reshape(C_out, -1)         # (C_out, M)
    if bias is not None:
        out_t += bias[:, None]
    return _batch_first(out_t.reshape(C_out, H_out, W_out, N))        # (N, C_out, H_out, W_out)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> np.ndarray:
    """The convolution (a cross-correlation) by im2col and one matrix product per group.

    x: (N, C_in, H, W) or (C_in, H, W), weight: (C_out, C_in / groups, kH, kW), bias: (C_out,)
    -> out: (N, C_out, H_out, W_out)              twin: torch.nn.functional.conv2d

    ``padding``: an int, a pair, 'valid' or 'same' (stride 1 only), as torch takes it.
    """
    where = "conv2d"
    unbatched = isinstance(x, np.ndarray) and x.ndim == 3
    if unbatched:
        x = x[None]
    _check_functional(where, x, weight, bias, groups)
    kernel_size = weight.shape[2:]
    stride, dilation = _pair(where, "stride", stride, 1), _pair(where, "dilation", dilation, 1)
    pads = _padding(where, padding, kernel_size, stride, dilation)
    out_size = _output_size(where, x.shape, kernel_size, stride, pads, dilation)
    cols = _im2col(_batch_last(x, pads), kernel_size, stride, dilation, out_size)
    out = _forward_matmul(cols, weight, bias, groups)
    return out[0] if unbatched else out


# -- true convolution -----------------------------------------------------------------------


def convolve2d(image, kernel, mode: str = "valid") -> np.ndarray:
    """True 2-D convolution, (X ∗ K)[t] = Σ_τ X[τ] · K[t − τ]  (tutorial 003's formula).

    image: (H, W), kernel: (kH, kW) -> 'full': (H + kH − 1, W + kW − 1);
    'valid': (H − kH + 1, W − kW + 1), the positions where the kernel lies wholly on the image.
    twin: torch_ref/conv.py ``convolve2d``.

    Read the sum from the image's side: pixel τ stamps a copy of K, scaled by X[τ], with its
    corner at τ; output t collects K[t − τ] from every stamp that covers it. The stamp is
    K as it stands, so seen from an output pixel the kernel runs backwards: this equals the
    cross-correlation with the kernel flipped, conv2d(X, K[::-1, ::-1]), and unlike the
    cross-correlation it is commutative: X ∗ K = K ∗ X in 'full' mode.
    """
    where = "convolve2d"
    check_input(where, image, name="image", ndim=2, shape_hint="(H, W)")
    check_input(where, kernel, name="kernel", ndim=2, dtype=image.dtype, shape_hint="(kH, kW)")
    if mode not in ("full", "valid"):
        raise ValueError(f"{where}: mode must be 'full' or 'valid', got {mode!r}")
    H, W = image.shape
    kH, kW = kernel.shape
    if mode == "valid" and (H < kH or W < kW):
        raise ValueError(f"{where}: mode='valid' needs an image at least as large as the kernel, "
                         f"got image {image.shape} and kernel {kernel.shape}")
    full = np.zeros((H + kH - 1, W + kW - 1), dtype=image.dtype)
    for tau_h in range(H):
        for tau_w in range(W):
            full[tau_h:tau_h + kH, tau_w:tau_w + kW] += image[tau_h, tau_w] * kernel
    if mode == "full":
        return full
    return full[kH - 1:H, kW - 1:W]                                   # (H − kH + 1, W − kW + 1)


# -- the layer ------------------------------------------------------------------------------


class Conv2d(Module):
    """out[n, o] = b[o] + Σ_c W[o, c] ⋆ x_pad[n, c]   (⋆: cross-correlation, as torch)

    x: (N, C_in, H, W) or (C_in, H, W) -> out: (N, C_out, H_out, W_out) (or (C_out, H_out, W_out))
    W: (C_out, C_in / groups, kH, kW); b: (C_out,)       twin: torch_ref/conv.py (torch.nn.Conv2d)

    Forward: cols = im2col(x) (C_in·kH·kW, H_out·W_out·N), out = W cols + b.
    Backward, with ∂out = ∂L/∂out laid out as (C_out, H_out·W_out·N):
        ∂L/∂b = Σ over n, i, j of ∂out           ∂L/∂W = ∂out colsᵀ
        ∂L/∂cols = Wᵀ ∂out                       ∂L/∂x = col2im(∂L/∂cols)
    (per group when groups > 1). Weights start as torch's do:
    W, b ~ U(−1/√fan_in, 1/√fan_in), fan_in = C_in / groups · kH · kW (``init.default_init_``).

    Only ``padding_mode='zeros'`` is implemented; the others torch offers are refused.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 dtype=None, generator: np.random.Generator | None = None):
        super().__init__()
        where = "Conv2d"
        for arg, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(f"{where}: {arg} must be a non-negative int, got {value!r}")
        if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
            raise ValueError(f"{where}: groups must be a positive int, got {groups!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{where}: in_channels={in_channels} and out_channels={out_channels} "
                             f"must both be divisible by groups={groups}")
        if padding_mode != "zeros":
            raise ValueError(f"{where}: only padding_mode='zeros' is implemented here, got "
                             f"{padding_mode!r} (torch also offers 'reflect', 'replicate', "
                             f"'circular')")
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.kernel_size = _pair(where, "kernel_size", kernel_size, 1)
        self.stride = _pair(where, "stride", stride, 1)
        self.dilation = _pair(where, "dilation", dilation, 1)
        self._pads = _padding(where, padding, self.kernel_size, self.stride, self.dilation)
        self.padding = padding if isinstance(padding, str) else _pair(where, "padding", padding, 0)
        self.groups = int(groups)
        self.padding_mode = padding_mode
        dtype = resolve_dtype(dtype, where)
        self.weight = Parameter(
            np.zeros((out_channels, in_channels // groups, *self.kernel_size)), dtype=dtype)
        self.bias = Parameter(np.zeros(out_channels), dtype=dtype) if bias else None
        self.reset_parameters(generator)

    def reset_parameters(self, generator: np.random.Generator | None = None) -> None:
        init.default_init_(self.weight, self.bias, generator=generator)

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_input(repr(self), x, ndim=(3, 4), dtype=self.weight.dtype,
                    shape_hint="(N, C_in, H, W) or (C_in, H, W)")
        unbatched = x.ndim == 3
        if unbatched:
            x = x[None]                                               # (1, C_in, H, W)
        if x.shape[1] != self.in_channels:
            raise ValueError(f"{self!r}: input must have in_channels={self.in_channels} channels "
                             f"(dimension -3), got shape {x.shape[1:] if unbatched else x.shape}")
        out_size = _output_size(repr(self), x.shape, self.kernel_size, self.stride, self._pads,
                                self.dilation)
        x_t = _batch_last(x, self._pads)                              # (C_in, H_pad, W_pad, N)
        cols = _im2col(x_t, self.kernel_size, self.stride, self.dilation, out_size)
        self.cache = (x.shape, x_t.shape, cols, unbatched)            # cols: (C_in, kH, kW, H_out, W_out, N)
        bias = None if self.bias is None else self.bias.data
        out = _forward_matmul(cols, self.weight.data, bias, self.groups)  # (N, C_out, H_out, W_out)
        return out[0] if unbatched else out

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """∂L/∂out (N, C_out, H_out, W_out) -> ∂L/∂x; adds ∂L/∂W and ∂L/∂b into the grads.

        ``need_input_grad=False`` skips ∂L/∂x (a quarter to a third of the work), returning None:
        torch skips it too when x does not require grad, as for a network's first layer,
        whose input is the images.
        """
        x_shape, x_t_shape, cols, unbatched = self.cache
        if unbatched:
            grad_out = grad_out[None]
        # Per group g: K = C_in/g·kH·kW rows of cols, M = H_out·W_out·N columns.
        g, C_out = self.groups, self.out_channels
        W_grouped = self.weight.data.reshape(g, C_out // g, -1)      # (g, C_out/g, K)
        cols_grouped = cols.reshape(g, W_grouped.shape[2], -1)        # (g, K, M)
        grad_t = _batch_last(grad_out).reshape(g, C_out // g, -1)    # (g, C_out/g, M), as out was made
        if self.bias is not None:
            self.bias.grad += grad_t.sum(axis=2).reshape(C_out)       # ∂L/∂b = Σ_n,i,j ∂out  (C_out,)
        with np.errstate(invalid="ignore"):          # inf·0 in the product: NaN, as torch
            grad_weight = grad_t @ cols_grouped.transpose(0, 2, 1)    # ∂L/∂W = ∂out colsᵀ  (g, C_out/g, K)
        self.weight.grad += grad_weight.reshape(self.weight.shape)
        if not need_input_grad:
            return None
        with np.errstate(invalid="ignore"):
            grad_cols = W_grouped.transpose(0, 2, 1) @ grad_t         # ∂L/∂cols = Wᵀ ∂out  (g, K, M)
        grad_x_t = _col2im(grad_cols.reshape(cols.shape), x_t_shape, self.kernel_size,
                           self.stride, self.dilation)                # ∂L/∂x_pad = col2im(∂L/∂cols)
        top, _, left, _ = self._pads
        H, W = x_shape[2:]
        grad_x = _batch_first(grad_x_t)[:, :, top:top + H, left:left + W]  # (N, C_in, H, W)
        return grad_x[0] if unbatched else grad_x

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


__all__ = [
    "Conv2d",
    "col2im",
    "conv2d",
    "conv2d_naive",
    "conv2d_naive_backward",
    "conv_output_size",
    "convolve2d",
    "im2col",
]
