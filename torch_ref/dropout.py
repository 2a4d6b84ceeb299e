"""Dropout: zero a random fraction p of the activations while training.   twin: scratch/dropout.py

training: out = x ⊙ m / (1 − p),  mᵢ ~ Bernoulli(1 − p);   eval: out = x
"""

from torch import nn

# torch.nn.Dropout is the reference itself: F.dropout in forward, and autograd derives the
# backward (∂L/∂out times the same scaled mask). Re-exported so both folders offer the name.
Dropout = nn.Dropout

__all__ = ["Dropout"]
