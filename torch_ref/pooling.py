"""Pooling: the maximum or the mean of each window.

x: (N, C, H, W) or unbatched (C, H, W) -> out: (N, C, H_out, W_out) (or (C, H_out, W_out))

    H_out = ⌊(H + 2·padding − dilation·(kH − 1) − 1 + (stride − 1 if ceil_mode)) / stride⌋ + 1
    (in ceil mode, one less if the last window would start beyond the input and left padding)

twin: scratch/pooling.py
"""

from torch import nn

# nn.MaxPool2d itself: F.max_pool2d
# (padding is −∞); autograd does the
# backward.
MaxPool2d = nn.MaxPool2d

# nn.AvgPool2d itself: F.avg_pool2d
# (sums / divisor); autograd does the
# backward.
AvgPool2d = nn.AvgPool2d

__all__ = ["AvgPool2d", "MaxPool2d"]
