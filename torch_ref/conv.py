"""The 2-D convolution layer.

out[n, o, i, j] = b[o] + Σ_c Σ_u Σ_v  x_pad[n, c, sH·i + dH·u, sW·j + dW·v] · W[o, c, u, v]

x: (N, C_in, H, W) -> out: (N, C_out, H_out, W_out);  W: (C_out, C_in / groups, kH, kW);  b: (C_out,)
torch's conv2d is a cross-correlation; ``convolve2d`` flips the kernel for the true convolution.

twin: scratch/conv.py
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# The loops and scratch's im2col conv2d
# have one twin: F.conv2d.
conv2d_naive = F.conv2d


def conv2d_naive_backward(
    grad_out, x, weight, stride=1,
    padding=0, dilation=1, groups=1,
):
    """(∂L/∂x, ∂L/∂W, ∂L/∂b) of F.conv2d
    for grad_out, by autograd."""
    x = x.detach().requires_grad_(True)
    w = weight.detach().requires_grad_(True)
    b = torch.zeros_like(w[:, 0, 0, 0])
    b.requires_grad_(True)
    out = F.conv2d(x, w, b, stride, padding,
                   dilation, groups)
    return torch.autograd.grad(
        out, (x, w, b), grad_out)


# nn.Conv2d itself: F.conv2d, after F.pad
# for the padding modes; autograd does
# the backward.
Conv2d = nn.Conv2d

# im2col inside ATen, for the CPU
conv2d = F.conv2d


def convolve2d(image, kernel, mode="valid"):
    """True convolution: F.conv2d with the
    kernel flipped; 'full' pads by k − 1."""
    flipped = torch.flip(kernel, dims=(0, 1))
    kH, kW = kernel.shape
    full = (kH - 1, kW - 1)
    pad = full if mode == "full" else 0
    out = F.conv2d(image[None, None],
                   flipped[None, None],
                   padding=pad)
    return out[0, 0]


def conv_output_size(size, kernel_size,
                     stride=1, padding=0,
                     dilation=1):
    """The length F.conv2d gives: a run on
    the meta device (shapes, no numbers)."""
    meta = {"device": "meta"}
    x = torch.empty(1, 1, size, 1, **meta)
    w = torch.empty(1, 1, kernel_size, 1,
                    **meta)
    out = F.conv2d(x, w, stride=(stride, 1),
                   padding=(padding, 0),
                   dilation=(dilation, 1))
    return out.shape[2]


__all__ = ["Conv2d", "conv2d", "conv2d_naive", "conv2d_naive_backward", "conv_output_size", "convolve2d"]
