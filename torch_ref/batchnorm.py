"""Batch normalisation: standardise each channel over the batch, then scale and shift.

x̂ = (x − μ) / √(σ² + ε)          out = γ · x̂ + β

BatchNorm1d: x: (N, C) or (N, C, L) -> out: the same shape
BatchNorm2d: x: (N, C, H, W)        -> out: the same shape

twin: scratch/batchnorm.py
"""

from torch import nn

# torch.nn's modules themselves:
# F.batch_norm in forward; autograd
# derives the backward.
BatchNorm1d = nn.BatchNorm1d
BatchNorm2d = nn.BatchNorm2d

__all__ = ["BatchNorm1d", "BatchNorm2d"]
