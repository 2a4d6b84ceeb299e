"""Optimizers: how parameters move once backward has filled their gradients.

    optimizer.zero_grad()
    loss = criterion(model(x), target)
    loss.backward()                       # autograd fills every param.grad with ∂L/∂θ
    optimizer.step()                      # θ ← θ − lr · (a direction built from the gradients)

twin: scratch/optim.py
"""

from torch import optim

# The base class, as in scratch.
from torch.optim import Optimizer

# Reachable from torch.optim, as there.
from torch_ref import lr_scheduler

# torch.optim.SGD itself: its step hands
# each group to _single_tensor_sgd.
SGD = optim.SGD

# torch.optim.Adam: _single_tensor_adam.
Adam = optim.Adam

# torch.optim.AdamW: Adam, decoupled.
AdamW = optim.AdamW

# torch.optim.Adadelta itself.
Adadelta = optim.Adadelta

# torch.optim.RMSprop itself.
RMSprop = optim.RMSprop

# torch.optim.Adagrad itself.
Adagrad = optim.Adagrad

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
