"""Learning-rate schedules: change each group's ``lr`` as training goes on.

twin: scratch/lr_scheduler.py

    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(epochs):          # for each batch with OneCycleLR
        train(...)                       # ... optimizer.step() ...
        scheduler.step()                 # after optimizer.step()

torch.optim.lr_scheduler is the reference itself; the formulas are written out in the scratch
twin's docstrings. Re-exported so that both folders offer the same names.
"""

from torch.optim.lr_scheduler import CosineAnnealingLR, LRScheduler, OneCycleLR, StepLR

__all__ = ["CosineAnnealingLR", "LRScheduler", "OneCycleLR", "StepLR"]
