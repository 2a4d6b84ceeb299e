"""The 2-D convolution layer.

out[n, o, i, j] = b[o] + Σ_c Σ_u Σ_v  x_pad[n, c, sH·i + dH·u, sW·j + dW·v] · W[o, c, u, v]

x: (N, C_in, H, W) -> out: (N, C_out, H_out, W_out);  W: (C_out, C_in / groups, kH, kW);  b: (C_out,)
H_out = ⌊(H + 2·padding − dilation·(kH − 1) − 1) / stride⌋ + 1        (W_out likewise)

∂L/∂b[o] = Σ_n,i,j ∂out[n, o, i, j]
∂L/∂W[o, c, u, v] = Σ_n,i,j ∂out[n, o, i, j] · x_pad[n, c, sH·i + dH·u, sW·j + dW·v]
∂L/∂x_pad[n, c, sH·i + dH·u, sW·j + dW·v] += ∂out[n, o, i, j] · W[o, c, u, v]

twin: torch_ref/conv.py (torch.nn.Conv2d, torch.nn.functional.conv2d)
story: docs/conv.md (convolution or cross-correlation; the tutorials' output sizes)
"""

from __future__ import annotations

import numpy as np

from scratch import _checks as check
from scratch import init
from scratch._fast_conv import backward as _conv_backward
from scratch._fast_conv import forward as _conv
from scratch.im2col import _windows
from scratch.module import Module, Parameter


def conv2d_naive(x, weight, bias=None, stride=1, padding=0,
                 dilation=1, groups=1) -> np.ndarray:
    """The convolution as the tutorials loop it, pixel by pixel.

    x: (N, C_in, H, W), weight: (C_out, C_in / groups, kH, kW)
    -> out: (N, C_out, H_out, W_out). To read; conv2d computes.
    """
    where = "conv2d_naive"
    check.conv_functional(where, x, weight, bias, groups)
    check.conv_nonempty(where, x, weight)
    (sH, sW), (dH, dW), pads, (H_out, W_out) = _windows(
        where, x.shape, weight.shape[2:], stride, padding,
        dilation)
    N, (C_out, C_in_g, kH, kW) = x.shape[0], weight.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), pads[:2], pads[2:]))
    span_h, span_w = dH * (kH - 1) + 1, dW * (kW - 1) + 1
    out = np.zeros((N, C_out, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for o in range(C_out):
            group = o // (C_out // groups)
            c = slice(group * C_in_g, (group + 1) * C_in_g)
            for i, j in np.ndindex(H_out, W_out):
                # the corner moves by the stride; the taps lie
                # `dilation` apart, k of them over the span
                rows = slice(i * sH, i * sH + span_h, dH)
                cols = slice(j * sW, j * sW + span_w, dW)
                window = x_pad[n, c, rows, cols]  # (C/g, kH, kW)
                out[n, o, i, j] = np.sum(window * weight[o])
            if bias is not None:
                out[n, o] += bias[o]
    return out


def conv2d_naive_backward(grad_out, x, weight, stride=1,
                          padding=0, dilation=1, groups=1):
    """The backward of conv2d_naive, with the same loops:
    output pixel (n, o, i, j) was Σ window ⊙ W[o] + b[o], so
    its g = ∂L/∂out[n, o, i, j] flows back as
        ∂L/∂window += g · W[o]   (once per window it is in)
        ∂L/∂W[o]   += g · window        ∂L/∂b[o] += g
    Returns (∂L/∂x, ∂L/∂W, ∂L/∂b)."""
    where = "conv2d_naive_backward"
    check.conv_functional(where, x, weight, None, groups)
    check.conv_nonempty(where, x, weight)
    (sH, sW), (dH, dW), pads, (H_out, W_out) = _windows(
        where, x.shape, weight.shape[2:], stride, padding,
        dilation)
    N, C_out = x.shape[0], weight.shape[0]
    (H, W), (C_in_g, kH, kW) = x.shape[2:], weight.shape[1:]
    check.exact_shape(where, "grad_out", grad_out,
                      (N, C_out, H_out, W_out),
                      what="the output's ")
    x_pad = np.pad(x, ((0, 0), (0, 0), pads[:2], pads[2:]))
    span_h, span_w = dH * (kH - 1) + 1, dW * (kW - 1) + 1
    grad_x_pad = np.zeros_like(x_pad)
    grad_weight = np.zeros_like(weight)
    for n in range(N):
        for o in range(C_out):
            group = o // (C_out // groups)
            c = slice(group * C_in_g, (group + 1) * C_in_g)
            for i, j in np.ndindex(H_out, W_out):
                rows = slice(i * sH, i * sH + span_h, dH)
                cols = slice(j * sW, j * sW + span_w, dW)
                g = grad_out[n, o, i, j]
                grad_x_pad[n, c, rows, cols] += g * weight[o]
                grad_weight[o] += g * x_pad[n, c, rows, cols]
    grad_bias = grad_out.sum(axis=(0, 2, 3))    # Σ_n,i,j g
    grad_x = grad_x_pad[..., pads[0]:, pads[2]:][..., :H, :W]
    return grad_x, grad_weight, grad_bias


class Conv2d(Module):
    """out = W ⋆ x_pad + b     (⋆: cross-correlation, as torch)

    x: (N, C_in, H, W) or (C_in, H, W) -> out: (N, C_out,
    H_out, W_out) or unbatched. W: (C_out, C_in/g, kH, kW),
    b: (C_out,), g = groups. As matrices, per group, with
    K = C_in/g·kH·kW, O = C_out/g and M = H_out·W_out·N:
      cols = im2col(x_pad) (g, K, M)   out = W cols + b (g, O, M)
      ∂b = Σ ∂out      ∂W = ∂out colsᵀ      ∂cols = Wᵀ ∂out
      ∂x_pad = col2im(∂cols); then back through the padding.
    x_pad is 0 beyond the edges ('zeros'), the mirror image
    ('reflect'), the edge ('replicate') or the far side
    ('circular').
    """

    def __init__(self, in_channels: int, out_channels: int,
                 kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", dtype=None,
                 generator: np.random.Generator | None = None):
        super().__init__()
        where = "Conv2d"
        C_in = self.in_channels = check.integer(
            where, "in_channels", in_channels)
        C_out = self.out_channels = check.integer(
            where, "out_channels", out_channels, 1)
        self.groups = check.conv_groups(where, C_in, C_out, groups)
        self.padding_mode = check.conv_padding_mode(
            where, padding_mode, padding)
        k = self.kernel_size = check.conv_kernel(where, kernel_size)
        s = self.stride = check.pair(where, "stride", stride, 1)
        d = self.dilation = check.pair(where, "dilation", dilation, 1)
        pads = check.conv_mode_padding(   # (top, bottom, left, right)
            where, padding, k, s, d, padding_mode)
        self.padding = padding if isinstance(padding, str) \
            else pads[::2]
        self._window = (k, s, d, pads, padding_mode)  # _fast_conv
        dtype = check.dtype(where, dtype)
        shape = (C_out, C_in // self.groups, *k)
        self.weight = Parameter(np.zeros(shape), dtype)
        self.bias = None
        if bias:
            self.bias = Parameter(np.zeros(C_out), dtype)
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None) -> None:
        init.default_init_(self.weight, self.bias,
                           generator=generator)

    @np.errstate(invalid="ignore")  # inf·0: NaN
    def forward(self, x: np.ndarray) -> np.ndarray:
        unbatched = check.conv_input(self, x)
        x = x[None] if unbatched else x  # (N, C, H, W)
        W, b = self.weight.data, self.bias
        b = None if b is None else b.data
        old = self.cache[1] if self.cache else None
        # out (N, C_out, …) = W im2col(x_pad) + b per
        # group, laid out for the CPU (_fast_conv.py);
        # the new columns are written over the old ones
        out, cols = _conv(x, W, b, self._window,
                          self.groups, old)
        self.cache = (x.shape, cols, unbatched)
        return out[0] if unbatched else out

    @np.errstate(invalid="ignore")  # inf·0: NaN
    def backward(self, grad_out: np.ndarray,
                 need_input_grad: bool = True) -> np.ndarray | None:
        """∂L/∂out -> ∂L/∂x; adds ∂L/∂W, ∂L/∂b into the grads.
        need_input_grad=False skips ∂L/∂x, as torch does for
        a network's input images: a third less work."""
        x_shape, cols, unbatched = check.cached(self)
        if unbatched:
            grad_out = grad_out[None]
        # ∂b = Σ ∂out, ∂W = ∂out colsᵀ, ∂x = col2im(Wᵀ ∂out)
        grad_x, grad_weight, grad_bias = _conv_backward(
            grad_out, self.weight.data, cols, x_shape,
            self._window, self.groups, need_input_grad)
        self.weight.grad += grad_weight.reshape(self.weight.shape)
        if self.bias is not None:
            self.bias.grad += grad_bias
        if not need_input_grad:
            return None
        return grad_x[0] if unbatched else grad_x

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        for name, default in (("padding", (0, 0)), ("dilation", (1, 1)), ("groups", 1)):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        s += ", bias=False" if self.bias is None else ""
        return s + ("" if self.padding_mode == "zeros" else f", padding_mode={self.padding_mode}")


@np.errstate(invalid="ignore")       # inf·0: NaN, as torch
def conv2d(x, weight, bias=None, stride=1, padding=0,
           dilation=1, groups=1) -> np.ndarray:
    """The convolution (a cross-correlation) by im2col, as Conv2d.

    x: (N, C_in, H, W) or (C_in, H, W); weight: (C_out, C_in/g,
    kH, kW); bias: (C_out,) -> out: (N, C_out, H_out, W_out);
    padding: an int, a pair, 'valid' or 'same' (stride 1 only).
    """
    where = "conv2d"
    unbatched = isinstance(x, np.ndarray) and x.ndim == 3
    x = x[None] if unbatched else x           # (N, C_in, H, W)
    check.conv_functional(where, x, weight, bias, groups)
    check.conv_nonempty(where, x, weight)
    stride, dilation, pads, _ = _windows(
        where, x.shape, weight.shape[2:], stride, padding,
        dilation)
    win = (weight.shape[2:], stride, dilation, pads, "zeros")
    out, _ = _conv(x, weight, bias, win, groups)  # W cols + b
    return out[0] if unbatched else out   # (N, C_out, H', W')


def convolve2d(image, kernel, mode: str = "valid"):
    """True convolution, (X ∗ K)[t] = Σ_τ X[τ] · K[t − τ]:
    pixel τ stamps K, scaled by X[τ], at τ.

    image (H, W), kernel (kH, kW) -> 'full': (H + kH − 1,
    W + kW − 1); 'valid': (H − kH + 1, W − kW + 1)."""
    where = "convolve2d"
    check.input(where, image, name="image", ndim=2,
                layout="(H, W)")
    check.input(where, kernel, name="kernel", ndim=2,
                dtype=image.dtype, layout="(kH, kW)")
    check.choice(where, "mode", mode, ("full", "valid"))
    (H, W), (kH, kW) = image.shape, kernel.shape
    if mode == "valid":
        check.fits_valid(where, image.shape, kernel.shape)
    full = np.zeros((H + kH - 1, W + kW - 1), image.dtype)
    for tau_h in range(H):
        for tau_w in range(W):
            stamp = image[tau_h, tau_w] * kernel
            full[tau_h:tau_h + kH, tau_w:tau_w + kW] += stamp
    if mode == "full":
        return full
    return full[kH - 1:H, kW - 1:W]        # (H − kH + 1, …)


def conv_output_size(size: int, kernel_size: int, stride=1,
                     padding=0, dilation=1) -> int:
    """⌊(size + 2p − d·(k − 1) − 1) / s⌋ + 1: every stride-th
    of the size + 2p − span + 1 places the span fits in."""
    span = dilation * (kernel_size - 1) + 1
    return (size + 2 * padding - span) // stride + 1


__all__ = ["Conv2d", "conv2d", "conv2d_naive", "conv2d_naive_backward", "conv_output_size", "convolve2d"]
