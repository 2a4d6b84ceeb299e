"""Optimizers: how parameters move once backward has filled their gradients.

twin: scratch/optim.py

    optimizer.zero_grad()
    loss = criterion(model(x), target)
    loss.backward()                       # autograd fills every param.grad with ∂L/∂θ
    optimizer.step()                      # θ ← θ − lr · (a direction built from the gradients)

torch.optim is the reference itself; the update equations are written out in the scratch
twin's docstrings. Re-exported so that both folders offer the same names.
"""

from torch.optim import SGD, Adadelta, Adam, AdamW, Optimizer

# torch.optim.lr_scheduler is reachable from torch.optim; the same here.
from torch_ref import lr_scheduler

__all__ = ["SGD", "Adadelta", "Adam", "AdamW", "Optimizer", "lr_scheduler"]
