"""Lockstep: a scratch optimizer (and scheduler) beside torch's, one step at a time.

The one helper of every optimizer and scheduler trajectory test. ``lockstep(ours, theirs,
steps)`` steps two ``Side``s (an optimizer, optionally a scheduler, optionally a model whose
gradients a ``backward`` callable fills) and after *every* step asserts:

- the parameters agree within the dtype's tolerance (float64: rtol 1e-7, atol 1e-10), or
  within the ``rtol``/``atol`` a test asks for;
- the rates are torch's exactly: ``get_last_lr()``, ``last_epoch``, and every group entry a
  scheduler writes (``lr``, ``initial_lr``, ``momentum``, ``betas``, ``max_lr``, ``min_lr``).

``run_trajectory`` builds the usual problem for it: two Linear layers, 6 → 5 → 3, mean squared
error on fixed random data (a non-convex problem whose gradient changes at every step), the
same initial weights on both sides, the scratch side with its own forward and backward, the
torch side with autograd. Each trajectory records its largest deviation; ``pytest -s`` prints
the table (``print_deviations``) at the end of each module that records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from parity_tests.helpers import TORCH_DTYPES, assert_close, tolerance
from scratch import lr_scheduler, optim
from scratch.linear import Linear
from scratch.module import Parameter
from scratch.sequential import Sequential
from torch_ref import lr_scheduler as torch_lr_scheduler
from torch_ref import optim as torch_optim
from torch_ref.linear import Linear as TorchLinear

STEPS = 150
N, IN, HIDDEN, OUT = 32, 6, 5, 3
SCHEDULED = ("lr", "initial_lr", "momentum", "betas", "max_lr", "min_lr")

# config id -> (steps, largest |scratch − torch|, largest |scratch − torch| / |torch|)
DEVIATIONS: dict[str, tuple[int, float, float]] = {}


def print_deviations() -> None:
    """The table of largest deviations, printed (``pytest -s``) when a test module ends."""
    if DEVIATIONS:
        print("\n\nTrajectory parity: largest deviation from torch over every step (float64 unless noted)")
        print(f"{'configuration':<48} {'steps':>5} {'max abs':>10} {'max rel':>10}")
        for name, (steps, worst_abs, worst_rel) in DEVIATIONS.items():
            print(f"{name:<48} {steps:>5} {worst_abs:>10.2e} {worst_rel:>10.2e}")
        DEVIATIONS.clear()


# -- the problem, twice ------------------------------------------------------------------
def make_models(dtype=np.float64, seed=0):
    """The scratch model, its torch twin with the same weights, and fixed data."""
    generator = np.random.default_rng(seed)
    model = Sequential(Linear(IN, HIDDEN, generator=generator),
                       Linear(HIDDEN, OUT, generator=generator)).to(dtype)
    torch_model = nn.Sequential(TorchLinear(IN, HIDDEN), TorchLinear(HIDDEN, OUT))
    torch_model.to(TORCH_DTYPES[np.dtype(dtype)])
    torch_model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in model.state_dict().items()})
    x = generator.standard_normal((N, IN)).astype(dtype)
    target = generator.standard_normal((N, OUT)).astype(dtype)
    return model, torch_model, x, target


def scratch_loss_backward(model, x, target) -> float:
    """MSE forward and backward through the scratch model; fills every param.grad."""
    out = model(x)
    model.backward(2 * (out - target) / out.size)          # ∂/∂out of mean((out − target)²)
    return float(np.mean((out - target) ** 2))


def torch_loss_backward(torch_model, x, target) -> torch.Tensor:
    loss = F.mse_loss(torch_model(torch.from_numpy(x)), torch.from_numpy(target))
    loss.backward()
    return loss


def groups_for(model, overrides):
    """Weights and biases as two parameter groups with their own options."""
    named = list(model.named_parameters())
    weights = [p for n, p in named if n.endswith("weight")]
    biases = [p for n, p in named if n.endswith("bias")]
    return [{"params": weights, **overrides[0]}, {"params": biases, **overrides[1]}]


def build(module, name, model, kwargs, group_overrides=None):
    params = model.parameters() if group_overrides is None else groups_for(model, group_overrides)
    return getattr(module, name)(params, **kwargs)


# -- comparing ----------------------------------------------------------------------------
def plain(value):
    """A rate as a plain float (a tensor or 1-element array as the number it holds), so that
    a scratch array lr compares with torch's tensor lr; tuples (betas) item by item."""
    if isinstance(value, (tuple, list)):
        return type(value)(plain(v) for v in value)
    if isinstance(value, (torch.Tensor, np.ndarray, np.generic)):
        return float(np.asarray(value.detach() if isinstance(value, torch.Tensor) else value).reshape(()))
    return value


def assert_same_rates(opt, torch_opt, sched, torch_sched, where: str) -> None:
    """The rates a scheduler sets, and the group entries it writes, equal torch's exactly."""
    if sched is not None:
        assert plain(sched.get_last_lr()) == plain(torch_sched.get_last_lr()), where
        assert sched.last_epoch == torch_sched.last_epoch, where
    for i, (group, torch_group) in enumerate(zip(opt.param_groups, torch_opt.param_groups, strict=True)):
        for key in SCHEDULED:
            if key in torch_group:
                assert plain(group[key]) == plain(torch_group[key]), (
                    f"group {i} {key} {where}: scratch {group[key]!r}, torch {torch_group[key]!r}")


class Recorder:
    """Compares parameters after a step and keeps the largest deviation seen."""

    def __init__(self, dtype, rtol=None, atol=None):
        tol = tolerance(dtype)
        self.dtype = dtype
        self.rtol = tol["rtol"] if rtol is None else rtol
        self.atol = tol["atol"] if atol is None else atol
        self.worst_abs = 0.0
        self.worst_rel = 0.0
        self.steps = 0

    def compare(self, model, torch_model, where: str) -> None:
        torch_params = dict(torch_model.named_parameters())
        names = [n for n, _ in model.named_parameters()]
        assert set(torch_params) == set(names)
        ours = np.concatenate([p.data.ravel() for p in model.parameters()]).astype(np.float64)
        theirs = np.concatenate([torch_params[n].detach().numpy().ravel() for n in names]).astype(np.float64)
        error = np.abs(ours - theirs)
        if not np.all(error <= self.atol + self.rtol * np.abs(theirs)):       # isclose, all at once
            for name, param in model.named_parameters():                       # then say where
                assert_close(param.data, torch_params[name], f"{name} {where}", dtype=self.dtype,
                             rtol=self.rtol, atol=self.atol)
        big = np.abs(theirs) >= self.atol
        if error.size:
            self.worst_abs = max(self.worst_abs, float(error.max()))
        if big.any():
            self.worst_rel = max(self.worst_rel, float((error[big] / np.abs(theirs[big])).max()))

    def save(self, name: str) -> None:
        DEVIATIONS[name] = (self.steps, self.worst_abs, self.worst_rel)


# -- the helper ---------------------------------------------------------------------------
@dataclass
class Side:
    """One twin's half of a lockstep run. ``backward(step)`` fills the gradients for that
    step (None: the optimizer steps without any, and only the rates move)."""

    optimizer: Any
    scheduler: Any = None
    model: Any = None
    backward: Callable[[int], object] | None = None

    def step(self, step: int) -> None:
        if self.backward is not None:
            self.optimizer.zero_grad()
            self.backward(step)
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()


def lockstep(ours: Side, theirs: Side, steps: int, *, dtype=np.float64, rtol=None, atol=None,
             record: str | None = None, first: int = 1) -> Recorder:
    """Step both sides ``steps`` times; after every step compare parameters (within
    tolerance) and rates (exactly). ``record`` names the run in the deviation table;
    ``first`` numbers the first step (for messages, and for ``backward``)."""
    recorder = Recorder(dtype, rtol, atol)
    for step in range(first, first + steps):
        ours.step(step)
        theirs.step(step)
        where = f"after step {step}" + (f" ({record})" if record else "")
        if ours.model is not None:
            recorder.compare(ours.model, theirs.model, where)
        assert_same_rates(ours.optimizer, theirs.optimizer, ours.scheduler, theirs.scheduler, where)
        recorder.steps = step
    if record is not None:
        recorder.save(record if np.dtype(dtype) == np.float64 else f"{record} [{np.dtype(dtype).name}]")
    return recorder


def run_trajectory(config_id, name, kwargs, group_overrides=None, scheduler=None, steps=STEPS,
                   dtype=np.float64, record=True, torch_kwargs=None, rtol=None, atol=None):
    """Train both twins of the usual problem in lockstep (``torch_kwargs``: torch's own
    arguments where they differ, a tensor lr for scratch's array); returns the two Sides."""
    model, torch_model, x, target = make_models(dtype)
    opt = build(optim, name, model, kwargs, group_overrides)
    torch_opt = build(torch_optim, name, torch_model, kwargs if torch_kwargs is None else torch_kwargs,
                      group_overrides)
    sched = torch_sched = None
    if scheduler is not None:
        sched_name, sched_kwargs = scheduler
        sched = getattr(lr_scheduler, sched_name)(opt, **sched_kwargs)
        torch_sched = getattr(torch_lr_scheduler, sched_name)(torch_opt, **sched_kwargs)
    ours = Side(opt, sched, model, lambda step: scratch_loss_backward(model, x, target))
    theirs = Side(torch_opt, torch_sched, torch_model,
                  lambda step: torch_loss_backward(torch_model, x, target))
    lockstep(ours, theirs, steps, dtype=dtype, rtol=rtol, atol=atol,
             record=config_id if record else None)
    return ours, theirs


def rate_pair(name, kwargs, groups=1, dtype=np.float64):
    """A scratch optimizer and its torch twin over ``groups`` one-parameter groups whose
    parameters get no gradient: stepping them changes nothing but is counted, as in torch,
    so a scheduler's rates are all that moves."""
    lrs = [kwargs.get("lr", 0.1) * (i + 1) for i in range(groups)]
    params = [Parameter(np.zeros(3, dtype=dtype)) for _ in range(groups)]
    torch_params = [nn.Parameter(torch.zeros(3, dtype=TORCH_DTYPES[np.dtype(dtype)])) for _ in range(groups)]
    opt = getattr(optim, name)([{"params": [p], "lr": lr} for p, lr in zip(params, lrs, strict=True)],
                               **kwargs)
    torch_opt = getattr(torch_optim, name)(
        [{"params": [p], "lr": lr} for p, lr in zip(torch_params, lrs, strict=True)], **kwargs)
    for p in params:
        p.grad = None
    return opt, torch_opt
