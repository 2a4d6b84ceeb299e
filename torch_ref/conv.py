"""The 2-D convolution layer.                 twin: scratch/conv.py

out[n, o, i, j] = b[o] + Σ_c Σ_u Σ_v  x_pad[n, c, sH·i + dH·u, sW·j + dW·v] · W[o, c, u, v]

x: (N, C_in, H, W) -> out: (N, C_out, H_out, W_out);  W: (C_out, C_in / groups, kH, kW);  b: (C_out,)
H_out = ⌊(H + 2·padding − dilation·(kH − 1) − 1) / stride⌋ + 1        (W_out likewise)

torch's conv2d is a cross-correlation (the kernel is not flipped); ``convolve2d`` below is the
true convolution, the cross-correlation with the kernel flipped in both axes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    """The output length torch computes, read off F.conv2d run on the meta device (shapes only)."""
    x = torch.empty(1, 1, size, 1, device="meta")
    weight = torch.empty(1, 1, kernel_size, 1, device="meta")
    return F.conv2d(x, weight, stride=(stride, 1), padding=(padding, 0),
                    dilation=(dilation, 1)).shape[2]


# scratch's readable loops and its vectorised conv2d have one twin: F.conv2d.
conv2d_naive = F.conv2d


def conv2d_naive_backward(grad_out, x, weight, stride=1, padding=0, dilation=1, groups=1):
    """(∂L/∂x, ∂L/∂W, ∂L/∂b) of F.conv2d for the upstream gradient ``grad_out``, by autograd."""
    x = x.detach().requires_grad_(True)
    weight = weight.detach().requires_grad_(True)
    bias = torch.zeros(weight.shape[0], dtype=weight.dtype, requires_grad=True)
    out = F.conv2d(x, weight, bias, stride, padding, dilation, groups)
    return torch.autograd.grad(out, (x, weight, bias), grad_out)


def im2col(x, kernel_size, dilation=1, padding=0, stride=1):
    """Every window as a column, (C·kH·kW, H_out·W_out·N): F.unfold with N moved last."""
    cols = F.unfold(x, kernel_size, dilation, padding, stride)       # (N, C·kH·kW, L)
    return cols.permute(1, 2, 0).reshape(cols.shape[1], -1)           # (C·kH·kW, L·N)


def col2im(cols, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The adjoint of im2col, overlaps summed: F.fold, taking scratch's column layout."""
    N, _, H, W = output_size
    cols = cols.reshape(cols.shape[0], -1, N).permute(2, 0, 1)        # (N, C·kH·kW, L)
    return F.fold(cols, (H, W), kernel_size, dilation, padding, stride)


conv2d = F.conv2d


def convolve2d(image, kernel, mode="valid"):
    """True convolution (X ∗ K)[t] = Σ_τ X[τ] · K[t − τ]: F.conv2d with the kernel flipped.

    'full' pads by kH − 1, kW − 1 so that every overlap of kernel and image counts.
    """
    flipped = torch.flip(kernel, dims=(0, 1))
    padding = (kernel.shape[0] - 1, kernel.shape[1] - 1) if mode == "full" else 0
    return F.conv2d(image[None, None], flipped[None, None], padding=padding)[0, 0]


# torch.nn.Conv2d is the reference itself: forward is F.conv2d(x, W, b, stride, padding,
# dilation, groups) and autograd derives the backward. Re-exported so that both folders offer
# the same name.
Conv2d = nn.Conv2d

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
