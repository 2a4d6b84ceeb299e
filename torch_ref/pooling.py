"""Pooling: the maximum or the mean of each window.      twin: scratch/pooling.py

x: (N, C, H, W) or unbatched (C, H, W) -> out: (N, C, H_out, W_out) (or (C, H_out, W_out))

    H_out = ⌊(H + 2·padding − dilation·(kH − 1) − 1 + (stride − 1 if ceil_mode)) / stride⌋ + 1
    (in ceil mode, one less if the last window would start beyond the input and left padding)
"""

from torch import nn

# torch.nn's modules are the reference itself: F.max_pool2d / F.avg_pool2d in forward, and
# autograd derives the backward. Re-exported so that both folders offer the same names.
MaxPool2d = nn.MaxPool2d      # max of each window; padding counts as −∞
AvgPool2d = nn.AvgPool2d      # sum of each window / divisor (count_include_pad, divisor_override)

__all__ = ["AvgPool2d", "MaxPool2d"]
