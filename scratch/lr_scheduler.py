"""Learning-rate schedules: change each group's ``lr`` as training goes on.

twin: torch_ref/lr_scheduler.py (torch.optim.lr_scheduler)

    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(epochs):          # for each batch with OneCycleLR
        train(...)                       # ... optimizer.step() ...
        scheduler.step()                 # after optimizer.step(), as in torch

A scheduler owns no learning rate: it rewrites ``optimizer.param_groups[i]["lr"]`` (and for
OneCycleLR the momentum, or Adam's β₁), which the optimizer reads at its next step. torch's
semantics are kept exactly: building a scheduler records ``initial_lr`` in every group and
performs step 0 (``last_epoch`` becomes 0); each ``step()`` adds one to ``last_epoch`` and
sets the new rates; ``get_last_lr()`` returns them. Rates are Python floats, computed with the
same formulas in the same order as torch's, so the sequences agree to the last bit.

Also reachable as ``scratch.optim.lr_scheduler``, as torch's is from ``torch.optim``.
"""

from __future__ import annotations

import copy
import math
import warnings
from typing import Any

from scratch.optim import Optimizer


class LRScheduler:
    """Base class: ``step()``, ``get_last_lr()``, ``last_epoch``, checkpoints.

    twin: torch.optim.lr_scheduler.LRScheduler

    Subclasses implement ``get_lr()``: the rates for ``last_epoch``, usually from the
    current ones (torch's "chainable" form, so two schedulers on one optimizer compose).
    ``base_lrs`` are the groups' ``initial_lr``, which a fresh scheduler sets from ``lr``.
    ``last_epoch`` other than -1 resumes a run and needs ``initial_lr`` already in the
    groups (from a loaded optimizer checkpoint); ``load_state_dict`` is the simpler way.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: optimizer must be a scratch.optim Optimizer, "
                            f"got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{type(self).__name__}: param_groups[{i}] has no 'initial_lr', needed to "
                        f"resume at last_epoch={last_epoch}; load the optimizer's checkpoint first"
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
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

    def step(self) -> None:
        if self._step_count == 1 and not getattr(self.optimizer, "_opt_called", False):
            warnings.warn(
                "scheduler.step() was called before optimizer.step(): the first learning rate "
                "of the schedule is skipped. Call optimizer.step() first, as torch asks.",
                UserWarning, stacklevel=2,
            )
        self._step_count += 1
        self.last_epoch += 1
        values = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The rates the last ``step()`` set, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Every attribute but the optimizer, as torch's: plain Python values."""
        return {key: copy.deepcopy(value) for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(copy.deepcopy(state_dict))


class StepLR(LRScheduler):
    """lr ← lr·γ every ``step_size`` steps.      twin: torch.optim.lr_scheduler.StepLR

    Closed form: lrₜ = base_lr · γ^⌊t / step_size⌋. ``step()`` multiplies the current rate
    instead (torch's recursive form), which also composes with other schedulers.
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive int, got {step_size!r}")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from base_lr down to eta_min over T_max steps, then back up.

    twin: torch.optim.lr_scheduler.CosineAnnealingLR

    Closed form (SGDR without restarts):  ηₜ = η_min + ½(η_base − η_min)(1 + cos(π·t / T_max))

    ``step()`` does not evaluate it. Like torch's, it updates the current rate recursively:

        ηₜ = η_min + (ηₜ₋₁ − η_min) · (1 + cos(π·t / T_max)) / (1 + cos(π·(t − 1) / T_max))

    and at t = T_max + 1 (+ multiples of 2·T_max), where the denominator 1 + cos(π) is 0,
    it adds the increment ½(η_base − η_min)(1 − cos(π / T_max)) instead. The two forms agree
    to ~1e-14 relative, not to the bit; ours follows the recursion so that the sequence is
    torch's exactly. After T_max the rate climbs back to base_lr: a period of 2·T_max.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):
        if isinstance(T_max, bool) or not isinstance(T_max, int) or T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive int, got {T_max!r}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return [group["lr"] for group in self.optimizer.param_groups]
        if (self.last_epoch - 1 - self.T_max) % (2 * self.T_max) == 0:
            return [
                group["lr"] + (base_lr - self.eta_min) * (1 - math.cos(math.pi / self.T_max)) / 2
                for base_lr, group in zip(self.base_lrs, self.optimizer.param_groups, strict=True)
            ]
        return [
            (1 + math.cos(math.pi * self.last_epoch / self.T_max))
            / (1 + math.cos(math.pi * (self.last_epoch - 1) / self.T_max))
            * (group["lr"] - self.eta_min)
            + self.eta_min
            for group in self.optimizer.param_groups
        ]

    def _get_closed_form_lr(self) -> list[float]:
        return [
            self.eta_min
            + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
            for base_lr in self.base_lrs
        ]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin): warm up to max_lr, then anneal far below the start.

    twin: torch.optim.lr_scheduler.OneCycleLR

    Stepped once per *batch*, ``total_steps`` times (or epochs·steps_per_epoch); one step
    more raises ValueError, as torch does. With initial_lr = max_lr / div_factor and
    min_lr = initial_lr / final_div_factor, two phases (fastai's default):

        steps 0 … pct_start·total − 1:       initial_lr → max_lr,   momentum max → base
        then up to step total − 1:           max_lr → min_lr,       momentum base → max

    three_phase=True follows the paper: up, back down to initial_lr symmetrically, then to
    min_lr. Each phase interpolates with anneal(start, end, pct):
    'cos': end + (start − end)/2 · (1 + cos(π·pct));  'linear': start + (end − start)·pct.

    Momentum cycles against the rate (cycle_momentum): SGD's ``momentum``, or Adam's β₁
    (``betas[0]``); an optimizer with neither (Adadelta) is refused. The group dicts gain
    ``initial_lr``, ``max_lr``, ``min_lr``, ``max_momentum`` and ``base_momentum``.
    """

    def __init__(self, optimizer: Optimizer, max_lr: float | list[float], total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float | list[float] = 0.85, max_momentum: float | list[float] = 0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"OneCycleLR: optimizer must be a scratch.optim Optimizer, "
                            f"got {type(optimizer).__name__}")
        self.optimizer = optimizer

        if total_steps is not None:
            if total_steps <= 0 or not isinstance(total_steps, int):
                raise ValueError(f"OneCycleLR: total_steps must be a positive int, got {total_steps!r}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            if not isinstance(epochs, int) or epochs <= 0:
                raise ValueError(f"OneCycleLR: epochs must be a positive int, got {epochs!r}")
            if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
                raise ValueError(f"OneCycleLR: steps_per_epoch must be a positive int, "
                                 f"got {steps_per_epoch!r}")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("OneCycleLR: give total_steps, or both epochs and steps_per_epoch")

        # Each phase ends at end_step and moves between the group entries it names.
        if three_phase:
            self._schedule_phases = [
                {"end_step": float(pct_start * self.total_steps) - 1, "start_lr": "initial_lr",
                 "end_lr": "max_lr", "start_momentum": "max_momentum", "end_momentum": "base_momentum"},
                {"end_step": float(2 * pct_start * self.total_steps) - 2, "start_lr": "max_lr",
                 "end_lr": "initial_lr", "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
                {"end_step": self.total_steps - 1, "start_lr": "initial_lr",
                 "end_lr": "min_lr", "start_momentum": "max_momentum", "end_momentum": "max_momentum"},
            ]
        else:
            self._schedule_phases = [
                {"end_step": float(pct_start * self.total_steps) - 1, "start_lr": "initial_lr",
                 "end_lr": "max_lr", "start_momentum": "max_momentum", "end_momentum": "base_momentum"},
                {"end_step": self.total_steps - 1, "start_lr": "max_lr",
                 "end_lr": "min_lr", "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
            ]

        if pct_start < 0 or pct_start > 1 or not isinstance(pct_start, float):
            raise ValueError(f"OneCycleLR: pct_start must be a float in [0, 1], got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', "
                             f"got {anneal_strategy!r}")
        self._anneal_func_type = anneal_strategy

        max_lrs = _per_group("max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for group, group_max_lr in zip(optimizer.param_groups, max_lrs, strict=True):
                group["initial_lr"] = group_max_lr / div_factor
                group["max_lr"] = group_max_lr
                group["min_lr"] = group["initial_lr"] / final_div_factor

        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(f"OneCycleLR: cycle_momentum needs an optimizer with momentum or "
                                 f"betas, got {type(optimizer).__name__} (pass cycle_momentum=False)")
            self.use_beta1 = "betas" in optimizer.defaults
            max_momentums = _per_group("max_momentum", optimizer, max_momentum)
            base_momentums = _per_group("base_momentum", optimizer, base_momentum)
            if last_epoch == -1:
                for group, top, bottom in zip(optimizer.param_groups, max_momentums, base_momentums,
                                              strict=True):
                    if self.use_beta1:
                        group["betas"] = (top, *group["betas"][1:])
                    else:
                        group["momentum"] = top
                    group["max_momentum"] = top
                    group["base_momentum"] = bottom

        super().__init__(optimizer, last_epoch)

    def _anneal_func(self, start: float, end: float, pct: float) -> float:
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        step_num = self.last_epoch
        if step_num > self.total_steps:
            raise ValueError(
                f"OneCycleLR: tried to step {step_num} times, but total_steps is {self.total_steps}; "
                f"make total_steps (or epochs·steps_per_epoch) cover the whole run"
            )
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step_num <= end_step or i == len(self._schedule_phases) - 1:
                    pct = (step_num - start_step) / (end_step - start_step)
                    lr = self._anneal_func(group[phase["start_lr"]], group[phase["end_lr"]], pct)
                    if self.cycle_momentum:
                        momentum = self._anneal_func(group[phase["start_momentum"]],
                                                     group[phase["end_momentum"]], pct)
                    break
                start_step = phase["end_step"]
            lrs.append(lr)
            if self.cycle_momentum:
                if self.use_beta1:
                    group["betas"] = (momentum, *group["betas"][1:])
                else:
                    group["momentum"] = momentum
        return lrs


def _per_group(name: str, optimizer: Optimizer, value) -> list:
    """One value per parameter group: a list of that length, or one value for all."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"OneCycleLR: {name} has {len(value)} values, but the optimizer has "
                             f"{len(optimizer.param_groups)} parameter groups")
        return list(value)
    return [value] * len(optimizer.param_groups)


__all__ = ["CosineAnnealingLR", "LRScheduler", "OneCycleLR", "StepLR"]
