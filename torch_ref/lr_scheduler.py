"""Learning-rate schedules: change each group's ``lr`` as training goes on.

    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(epochs):          # for each batch with OneCycleLR
        train(...)                       # ... optimizer.step() ...
        scheduler.step()                 # after optimizer.step()

twin: scratch/lr_scheduler.py
"""

from torch.optim import lr_scheduler

# The base class, as in scratch.
from torch.optim.lr_scheduler import LRScheduler

# torch's StepLR itself.
StepLR = lr_scheduler.StepLR

# torch's CosineAnnealingLR itself.
CosineAnnealingLR = lr_scheduler.CosineAnnealingLR

# torch's OneCycleLR itself.
OneCycleLR = lr_scheduler.OneCycleLR

__all__ = ["CosineAnnealingLR", "LRScheduler", "OneCycleLR", "StepLR"]
