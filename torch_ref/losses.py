"""Loss functions.

L = criterion(x, target): ℓ for reduction 'none', else 0-d
(Σᵢ ℓᵢ or Σᵢ ℓᵢ / n); L.backward() fills x.grad.

ℓᵢ = (xᵢ − yᵢ)²,  −wᵢ [yᵢ log xᵢ + (1 − yᵢ) log(1 − xᵢ)], ...

twin: scratch/losses.py
"""

from torch import nn

# torch.nn's own losses; autograd
# derives every backward.
MSELoss = nn.MSELoss
# logs clamped at −100, as scratch's
BCELoss = nn.BCELoss
# BCELoss(σ(x), y) from the logits
BCEWithLogitsLoss = nn.BCEWithLogitsLoss

__all__ = ["BCELoss", "BCEWithLogitsLoss", "MSELoss"]
