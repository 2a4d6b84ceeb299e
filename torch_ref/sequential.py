"""Sequential: layers applied in order.

out = fₙ(…f₂(f₁(x)))

twin: scratch/sequential.py
"""

from torch import nn

# torch.nn.Sequential itself; autograd
# runs the backwards in reverse.
Sequential = nn.Sequential

__all__ = ["Sequential"]
