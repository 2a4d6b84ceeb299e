"""The framework under lr_scheduler.py: torch.optim.lr_scheduler's base class.

``LRScheduler`` holds ``step``, ``get_last_lr``, ``last_epoch`` and checkpoints; each schedule
in lr_scheduler.py writes only ``get_lr``.

twin: torch.optim.lr_scheduler.LRScheduler
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np

from scratch import _checks as check
from scratch._optimizer import Optimizer


class LRScheduler:
    """Base class: ``step()``, ``get_last_lr()``, ``last_epoch``, checkpoints.

    twin: torch.optim.lr_scheduler.LRScheduler

    Subclasses implement ``get_lr()``: the rates for ``last_epoch``, usually from the
    current ones (torch's "chainable" form, so two schedulers on one optimizer compose).
    ``base_lrs`` are the groups' ``initial_lr``, which a fresh scheduler sets from ``lr``.
    ``last_epoch`` other than -1 resumes a run and needs ``initial_lr`` already in the
    groups (from a loaded optimizer checkpoint); ``load_state_dict`` is the simpler way.
    An ``lr`` held as a 1-element array stays that array, its value rewritten in place, as
    torch fills a tensor lr; ``get_last_lr`` and ``base_lrs`` hold copies.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        check.optimizer(type(self).__name__, optimizer, Optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", _copy(group["lr"]))
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{type(self).__name__}: param_groups[{i}] has no 'initial_lr', needed to "
                        f"resume at last_epoch={last_epoch}; load the optimizer's checkpoint first"
                    )
        self.base_lrs = [_copy(group["initial_lr"]) for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """Step 0: sets the starting rates (``last_epoch`` -1 → 0) without counting as a step."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        raise NotImplementedError(f"{type(self).__name__} must implement get_lr")

    def step(self, epoch: int | None = None) -> None:
        """The next rates; ``step(epoch)`` (deprecated in torch, still taken there) jumps to
        ``epoch`` and uses the closed form where the schedule has one."""
        if self._step_count == 1 and not getattr(self.optimizer, "_opt_called", False):
            warnings.warn(
                "scheduler.step() was called before optimizer.step(): the first learning rate "
                "of the schedule is skipped. Call optimizer.step() first, as torch asks.",
                UserWarning, stacklevel=2,
            )
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            warnings.warn("scheduler.step(epoch) is deprecated, as in torch: call scheduler.step(); "
                          "with an epoch the closed form is used where there is one",
                          UserWarning, stacklevel=2)
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", self.get_lr)
            values = closed_form()
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            if isinstance(group["lr"], np.ndarray):
                group["lr"][...] = np.reshape(lr, group["lr"].shape)   # torch's fill_
            else:
                group["lr"] = lr
        self._last_lr = [_copy(group["lr"]) for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The rates the last ``step()`` set, one per parameter group."""
        return [_copy(lr) for lr in self._last_lr]

    def state_dict(self) -> dict[str, Any]:
        """Every attribute but the optimizer, as torch's: plain Python values."""
        return {key: copy.deepcopy(value) for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(copy.deepcopy(state_dict))


def _copy(value):
    """An array lr as a copy (torch clones a tensor lr); a number as it is."""
    return np.array(value, copy=True) if isinstance(value, np.ndarray) else value


__all__ = ["LRScheduler", "Optimizer"]
