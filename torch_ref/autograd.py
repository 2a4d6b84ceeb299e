"""Autograd: torch.Tensor with requires_grad, the tape's twin.

Every operation on a tensor that requires grad records a
node (its grad_fn); loss.backward() walks them in reverse and
sums the chain rule into each leaf's .grad.

twin: scratch/autograd.py
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# torch's own tensor: the C++ autograd
# engine records every op on it.
Tensor = torch.Tensor
# the convolution and the max-pool, as ops
conv2d = F.conv2d
max_pool2d = F.max_pool2d


def mlp_nll(x, W1, b1, W2, b2, onehot):
    """The same program, the same lines, on torch tensors."""
    h = (x @ W1.T + b1).relu()                    # (N, hidden)
    log_p = (h @ W2.T + b2).log_softmax(dim=1)    # (N, classes)
    return (log_p * onehot).sum() * (-1 / x.shape[0])


__all__ = ["Tensor", "conv2d", "max_pool2d", "mlp_nll"]
