"""Dropout: zero a random fraction p of the activations while training.

training: out = x ⊙ m / (1 − p),   mᵢ ~ Bernoulli(1 − p)
eval:     out = x

twin: scratch/dropout.py
"""

from torch import nn

# torch.nn.Dropout itself: F.dropout
# in forward; autograd derives the
# backward.
Dropout = nn.Dropout

__all__ = ["Dropout"]
