"""The dense (fully connected) layer.          twin: scratch/linear.py

y = x Wᵀ + b

x: (*, in_features) -> y: (*, out_features); W: (out_features, in_features); b: (out_features,)
"""

from torch import nn

# torch.nn.Linear is the reference itself: forward is F.linear(x, W, b) and autograd
# derives the backward. Re-exported so that both folders offer the same name.
Linear = nn.Linear

__all__ = ["Linear"]
