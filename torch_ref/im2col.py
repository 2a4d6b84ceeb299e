"""im2col: every window of the image as a column, so that a convolution is a matrix product.

x: (N, C, H, W) -> cols: (C·kH·kW, H_out·W_out·N)   (F.unfold: (N, C·kH·kW, H_out·W_out))
col2im, the adjoint: (C·kH·kW, H_out·W_out·N) -> (N, C, H, W), overlaps summed (F.fold)

twin: scratch/im2col.py
"""

from __future__ import annotations

import torch.nn.functional as F


def im2col(x, kernel_size, dilation=1,
           padding=0, stride=1):
    """F.unfold, with N moved last."""
    cols = F.unfold(x, kernel_size,
                    dilation, padding,
                    stride)   # (N, K, L)
    K = cols.shape[1]
    cols = cols.permute(1, 2, 0)
    return cols.reshape(K, -1)  # (K, L·N)


def col2im(cols, output_size, kernel_size,
           dilation=1, padding=0, stride=1):
    """F.fold, of scratch's columns."""
    N, _, H, W = output_size
    K = cols.shape[0]
    cols = cols.reshape(K, -1, N)
    cols = cols.permute(2, 0, 1)  # (N, K, L)
    return F.fold(cols, (H, W),
                  kernel_size, dilation,
                  padding, stride)


__all__ = ["col2im", "im2col"]
