"""Scheduler checkpoints and resuming: scratch/lr_scheduler.py against torch_ref/lr_scheduler.py.

A scheduler's state_dict holds torch's keys and values; saved and restored beside its
optimizer's it resumes the uninterrupted run bit for bit; torch's scheduler state resumes the
scratch scheduler exactly; and resuming by ``last_epoch`` continues torch's schedule.
"""

from __future__ import annotations

import numpy as np
import pytest

from parity_tests.trajectory import Side, assert_same_rates, lockstep, rate_pair
from scratch import lr_scheduler, optim
from scratch.module import Parameter
from torch_ref import lr_scheduler as torch_lr_scheduler


def quadratic_grad(param, curvature, target):
    """∂/∂θ of ½ Σ c ⊙ (θ − θ*)²: a gradient that changes as θ moves."""
    param.grad = curvature * (param.data - target)


ROUND_TRIPS = [
    ("SGD", {"lr": 0.05, "momentum": 0.9}, "StepLR", {"step_size": 20, "gamma": 0.5}),
    ("Adam", {"lr": 0.05}, "StepLR", {"step_size": 20, "gamma": 0.5}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}, "CosineAnnealingLR", {"T_max": 30, "eta_min": 0.001}),
    ("Adam", {"lr": 0.05, "amsgrad": True}, "CosineAnnealingLR", {"T_max": 30}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}, "OneCycleLR", {"max_lr": 0.2, "total_steps": 150}),
    ("Adam", {"lr": 0.05}, "OneCycleLR", {"max_lr": 0.1, "total_steps": 150, "three_phase": True}),
    ("RMSprop", {"lr": 0.01}, "OneCycleLR", {"max_lr": 0.02, "total_steps": 150}),
    ("Adagrad", {"lr": 0.05, "lr_decay": 0.01}, "CosineAnnealingLR", {"T_max": 30}),
]


def run(opt, sched, param, curvature, target, steps):
    rates = []
    for _ in range(steps):
        quadratic_grad(param, curvature, target)
        opt.step()
        sched.step()
        group = opt.param_groups[0]
        rates.append([*sched.get_last_lr(), group.get("momentum"), group.get("betas")])
    return rates


@pytest.mark.parametrize(("name", "kwargs", "sched_name", "sched_kwargs"), ROUND_TRIPS,
                         ids=[f"{r[2]}-{r[0]}" for r in ROUND_TRIPS])
def test_checkpoint_round_trip(name, kwargs, sched_name, sched_kwargs, rng):
    """Stop at step 50, save optimizer and scheduler, restore into fresh objects, go on:
    the same parameters and rates as the uninterrupted run, bit for bit."""
    curvature = rng.uniform(0.5, 2.0, (4, 3))
    target = rng.standard_normal((4, 3))
    start = rng.standard_normal((4, 3))

    param = Parameter(start)
    opt = getattr(optim, name)([param], **kwargs)
    sched = getattr(lr_scheduler, sched_name)(opt, **sched_kwargs)
    rates = run(opt, sched, param, curvature, target, 50)
    checkpoint = {"param": param.data.copy(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict()}
    rates += run(opt, sched, param, curvature, target, 100)       # the checkpoint must not follow

    fresh = Parameter(checkpoint["param"])
    fresh_opt = getattr(optim, name)([fresh], **kwargs)
    fresh_sched = getattr(lr_scheduler, sched_name)(fresh_opt, **sched_kwargs)   # scheduler first,
    fresh_opt.load_state_dict(checkpoint["optimizer"])                             # then the state
    fresh_sched.load_state_dict(checkpoint["scheduler"])
    resumed = run(fresh_opt, fresh_sched, fresh, curvature, target, 100)
    assert resumed == rates[50:]
    np.testing.assert_array_equal(fresh.data, param.data)


@pytest.mark.parametrize(("name", "kwargs", "sched_name", "sched_kwargs"), ROUND_TRIPS,
                         ids=[f"{r[2]}-{r[0]}" for r in ROUND_TRIPS])
def test_state_dict_matches_torch_and_loads_across(name, kwargs, sched_name, sched_kwargs):
    """torch's keys and values; torch's scheduler state resumes the scratch scheduler exactly."""
    opt, torch_opt = rate_pair(name, kwargs)
    sched = getattr(lr_scheduler, sched_name)(opt, **sched_kwargs)
    torch_sched = getattr(torch_lr_scheduler, sched_name)(torch_opt, **sched_kwargs)
    lockstep(Side(opt, sched), Side(torch_opt, torch_sched), 40)
    ours, theirs = sched.state_dict(), torch_sched.state_dict()
    assert set(theirs) - set(ours) <= {"_get_lr_called_within_step"}
    assert set(ours) <= set(theirs)
    for key, value in ours.items():
        assert value == theirs[key], f"{key}: {value!r} != {theirs[key]!r}"

    resumed_opt, _ = rate_pair(name, kwargs)
    resumed = getattr(lr_scheduler, sched_name)(resumed_opt, **sched_kwargs)
    resumed_opt.load_state_dict(torch_opt.state_dict())
    resumed.load_state_dict(torch_sched.state_dict())
    lockstep(Side(resumed_opt, resumed), Side(torch_opt, torch_sched), 40)


def test_resume_with_last_epoch_like_torch():
    """last_epoch ≥ 0 needs initial_lr in the groups and continues from the groups' rates."""
    opt, torch_opt = rate_pair("SGD", {"lr": 0.1})
    for group in (*opt.param_groups, *torch_opt.param_groups):
        group["initial_lr"] = 0.2
    sched = lr_scheduler.StepLR(opt, step_size=4, gamma=0.5, last_epoch=6)
    torch_sched = torch_lr_scheduler.StepLR(torch_opt, step_size=4, gamma=0.5, last_epoch=6)
    assert sched.base_lrs == torch_sched.base_lrs == [0.2]
    assert_same_rates(opt, torch_opt, sched, torch_sched, "when rebuilt")
    lockstep(Side(opt, sched), Side(torch_opt, torch_sched), 10)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_one_cycle_rebuilt_at_last_epoch_continues_the_schedule(name):
    """A resumed run may rebuild OneCycleLR at last_epoch = steps done − 1 over an optimizer
    restored from its checkpoint (train.py does): the rest of the schedule, as torch's."""
    kwargs = {"lr": 0.1, "momentum": 0.9} if name == "SGD" else {"lr": 0.01}
    opt, _ = rate_pair(name, kwargs)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=60)
    for _ in range(20):
        opt.step()
        sched.step()
    checkpoint = opt.state_dict()
    uninterrupted = []
    for _ in range(40):
        opt.step()
        sched.step()
        uninterrupted.append(sched.get_last_lr())

    resumed_opt, resumed_torch_opt = rate_pair(name, kwargs)
    resumed_opt.load_state_dict(checkpoint)
    resumed_torch_opt.load_state_dict(checkpoint)        # no tensors in it: no state yet
    resumed = lr_scheduler.OneCycleLR(resumed_opt, max_lr=0.5, total_steps=60, last_epoch=19)
    resumed_torch = torch_lr_scheduler.OneCycleLR(resumed_torch_opt, max_lr=0.5, total_steps=60,
                                                  last_epoch=19)
    assert_same_rates(resumed_opt, resumed_torch_opt, resumed, resumed_torch, "after rebuilding")
    ours, theirs = Side(resumed_opt, resumed), Side(resumed_torch_opt, resumed_torch)
    for step in range(40):
        lockstep(ours, theirs, 1, first=step + 21)
        assert resumed.get_last_lr() == uninterrupted[step]


def test_resume_without_initial_lr_is_refused_like_torch():
    opt, torch_opt = rate_pair("SGD", {"lr": 0.1})
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, step_size=3, last_epoch=5)
    with pytest.raises(KeyError):
        torch_lr_scheduler.StepLR(torch_opt, step_size=3, last_epoch=5)
