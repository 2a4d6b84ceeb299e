"""Learning-rate schedules: change each group's ``lr`` as training goes on.

    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(epochs):          # for each batch with OneCycleLR
        train(...)                       # ... optimizer.step() ...
        scheduler.step()                 # after optimizer.step(), as in torch

A scheduler rewrites ``optimizer.param_groups[i]["lr"]`` (OneCycleLR the
momentum or β₁ too), read at the optimizer's next step. Each ``step()``
adds one to ``last_epoch`` and sets the rates that ``get_lr()`` computes,
by torch's formulas in torch's order: the same floats, to the bit. The
base class, ``LRScheduler``, is in scratch/_scheduler.py. Also reachable
as ``scratch.optim.lr_scheduler``, as torch's is from ``torch.optim``.

twin: torch_ref/lr_scheduler.py (torch.optim.lr_scheduler)
story: docs/lr_scheduler.md (recursive and closed forms; resuming)
"""

from __future__ import annotations

import math

from scratch import _checks as check
from scratch._optimizer import Optimizer
from scratch._scheduler import LRScheduler


class StepLR(LRScheduler):
    """lr ← lr·γ every step_size steps. Closed form:

        lrₜ = base_lr · γ^⌊t / step_size⌋
    """

    def __init__(self, optimizer, step_size, gamma=0.1,
                 last_epoch=-1):
        self.step_size = check.integer("StepLR", "step_size",
                                       step_size, minimum=1)
        self.gamma = check.hyper("StepLR", "gamma", gamma,
                                 low=None)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups = self.optimizer.param_groups
        if (self.last_epoch == 0
                or self.last_epoch % self.step_size != 0):
            return [group["lr"] for group in groups]
        return [group["lr"] * self.gamma for group in groups]

    def _get_closed_form_lr(self):
        decays = self.last_epoch // self.step_size
        return [base_lr * self.gamma**decays
                for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from base_lr down to eta_min over
    T = T_max steps, then back up (a period of 2T):

        ηₜ = η_min + ½(η_base − η_min)(1 + cos(π·t/T))

    step() follows torch's recursion instead,

        ηₜ = η_min + (ηₜ₋₁ − η_min)
          · (1 + cos(π·t/T)) / (1 + cos(π·(t − 1)/T))

    adding ½(η_base − η_min)(1 − cos(π/T)) at t = T + 1
    (mod 2T), where that denominator is 0.
    """

    def __init__(self, optimizer, T_max, eta_min=0.0,
                 last_epoch=-1):
        self.T_max = check.integer("CosineAnnealingLR", "T_max",
                                   T_max, minimum=1)
        self.eta_min = check.hyper("CosineAnnealingLR",
                                   "eta_min", eta_min, low=None)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups = self.optimizer.param_groups
        t, T = self.last_epoch, self.T_max
        eta_min = self.eta_min
        if self._is_initial:
            return [group["lr"] for group in groups]
        if (t - 1 - T) % (2 * T) == 0:
            pairs = zip(self.base_lrs, groups, strict=True)
            return [group["lr"] + (base_lr - eta_min)
                    * (1 - math.cos(math.pi / T)) / 2
                    for base_lr, group in pairs]
        return [(1 + math.cos(math.pi * t / T))
                / (1 + math.cos(math.pi * (t - 1) / T))
                * (group["lr"] - eta_min) + eta_min
                for group in groups]

    def _get_closed_form_lr(self):
        t, T = self.last_epoch, self.T_max
        eta_min = self.eta_min
        return [eta_min + (base_lr - eta_min)
                * (1 + math.cos(math.pi * t / T)) / 2
                for base_lr in self.base_lrs]


class OneCycleLR(LRScheduler):
    """1cycle (Smith & Topin): warm up to max_lr, then anneal
    far below the start. Stepped once per batch:

        initial_lr = max_lr / div_factor
        min_lr = initial_lr / final_div_factor
        steps 0 … pct_start·total − 1:   initial_lr → max_lr
        then up to step total − 1:       max_lr → min_lr

    three_phase: up, back down to initial_lr, then to min_lr.
    Each phase anneals from start to end as pct goes 0 → 1:
    'cos': end + (start − end)/2 · (1 + cos(π·pct)),
    'linear': start + (end − start)·pct. The momentum (SGD's,
    or Adam's β₁) cycles against the rate: max → base → max.
    """

    def __init__(self, optimizer, max_lr, total_steps=None,
                 epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos",
                 cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95, div_factor=25.0,
                 final_div_factor=1e4, three_phase=False,
                 last_epoch=-1):
        name = "OneCycleLR"
        check.optimizer(name, optimizer, Optimizer)
        self.optimizer = optimizer
        self.total_steps = check.steps(
            name, total_steps, epochs, steps_per_epoch)
        check.fraction(name, "pct_start", pct_start)
        check.choice(name, "anneal_strategy", anneal_strategy,
                     ("cos", "linear"))
        self._anneal_func_type = anneal_strategy
        self._schedule_phases = _phases(
            pct_start, self.total_steps, three_phase)
        groups = optimizer.param_groups
        max_lrs = check.per_group(name, "max_lr", max_lr, groups)
        if last_epoch == -1:
            for group, top in zip(groups, max_lrs, strict=True):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = (group["initial_lr"]
                                   / final_div_factor)
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            check.cycles_momentum(name, optimizer)
            self.use_beta1 = "betas" in optimizer.defaults
            highs = check.per_group(name, "max_momentum",
                                    max_momentum, groups)
            lows = check.per_group(name, "base_momentum",
                                   base_momentum, groups)
            if last_epoch == -1:
                for group, high, low in zip(groups, highs, lows,
                                            strict=True):
                    self._set_momentum(group, high)
                    group["max_momentum"] = high
                    group["base_momentum"] = low
        super().__init__(optimizer, last_epoch)

    def _anneal_func(self, start, end, pct):
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (
                math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _set_momentum(self, group, momentum):
        if self.use_beta1:
            group["betas"] = (momentum, *group["betas"][1:])
        else:
            group["momentum"] = momentum

    def get_lr(self):
        step = self.last_epoch
        check.within_total("OneCycleLR", step, self.total_steps)
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end = phase["end_step"]
                last = i == len(self._schedule_phases) - 1
                if step <= end or last:
                    pct = (step - start) / (end - start)
                    break
                start = end
            lrs.append(self._anneal_func(
                group[phase["start_lr"]],
                group[phase["end_lr"]], pct))
            if self.cycle_momentum:
                self._set_momentum(group, self._anneal_func(
                    group[phase["start_momentum"]],
                    group[phase["end_momentum"]], pct))
        return lrs


def _phases(pct_start, total, three_phase):
    """torch's _schedule_phases: each ends at end_step and
    moves between the group entries it names."""
    i, top, low = "initial_lr", "max_lr", "min_lr"
    hi, lo = "max_momentum", "base_momentum"
    up = float(pct_start * total) - 1
    if three_phase:
        down = float(2 * pct_start * total) - 2
        rows = [(up, i, top, hi, lo), (down, top, i, lo, hi),
                (total - 1, i, low, hi, hi)]
    else:
        rows = [(up, i, top, hi, lo),
                (total - 1, top, low, lo, hi)]
    keys = ("end_step", "start_lr", "end_lr",
            "start_momentum", "end_momentum")
    return [dict(zip(keys, row, strict=True)) for row in rows]


__all__ = ["CosineAnnealingLR", "LRScheduler", "OneCycleLR",
           "StepLR"]
