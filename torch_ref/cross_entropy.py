"""Cross-entropy: log-softmax over the classes, then NLLLoss.

ℓᵢ = −Σ_c qᵢ,c log pᵢ,c,  log p = log_softmax(x, dim=1)

x: (N, C), (N, C, d1, …) or (C,) logits; target: class
indices (N, d1, …) or (), or probabilities of x's shape

twin: scratch/cross_entropy.py
"""

from torch import nn

# −w[y] x_y; 'mean' divides by Σ w[y]
# over the targets not ignored.
NLLLoss = nn.NLLLoss
# NLLLoss(log_softmax(x)), with label
# smoothing; autograd derives both.
CrossEntropyLoss = nn.CrossEntropyLoss

__all__ = ["CrossEntropyLoss", "NLLLoss"]
