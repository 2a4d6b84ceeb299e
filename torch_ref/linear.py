"""The dense (fully connected) layer.

y = x Wᵀ + b

x: (*, in_features) -> y: (*, out_features)
W: (out_features, in_features)    b: (out_features,)

twin: scratch/linear.py
"""

from torch import nn

# torch.nn.Linear itself: F.linear in
# forward; autograd does the backward.
Linear = nn.Linear

__all__ = ["Linear"]
