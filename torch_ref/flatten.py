"""Flatten: feature maps to one vector per sample.     twin: scratch/flatten.py

x: (N, C, H, W) -> out: (N, C·H·W)       with the defaults start_dim=1, end_dim=-1
"""

from torch import nn

# torch.nn.Flatten is the reference itself: a reshape, whose backward autograd derives.
# Re-exported so that both folders offer the same name.
Flatten = nn.Flatten

__all__ = ["Flatten"]
