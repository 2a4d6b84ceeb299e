"""Batch normalisation: standardise each channel over the batch, then scale and shift.

twin: scratch/batchnorm.py

BatchNorm1d: x: (N, C) or (N, C, L) -> out: the same shape
BatchNorm2d: x: (N, C, H, W)       -> out: the same shape

out = γ · (x − μ) / √(σ² + ε) + β; training uses the batch's μ and biased σ² and updates
running_mean / running_var (unbiased) with ``momentum``; eval uses the running statistics.
"""

from torch import nn

# torch.nn's modules are the reference itself: F.batch_norm in forward, and autograd derives
# the backward. Re-exported so that both folders offer the same names.
BatchNorm1d = nn.BatchNorm1d
BatchNorm2d = nn.BatchNorm2d

__all__ = ["BatchNorm1d", "BatchNorm2d"]
