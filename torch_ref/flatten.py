"""Flatten: feature maps to one vector per sample.

out = x with dimensions start_dim … end_dim merged into one

x: (N, C, H, W) -> out: (N, C·H·W)          (the defaults)

twin: scratch/flatten.py
"""

from torch import nn

# torch.nn.Flatten itself: a reshape,
# whose backward autograd derives.
Flatten = nn.Flatten

__all__ = ["Flatten"]
