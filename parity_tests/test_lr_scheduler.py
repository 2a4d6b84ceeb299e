"""Learning-rate schedulers: scratch/lr_scheduler.py against torch_ref/lr_scheduler.py.

Rates are Python floats computed by the same formulas in the same order, so the sequences
must equal torch's exactly (``==``), over at least two periods of each schedule, including
the momentum (SGD) or β₁ (Adam) that OneCycleLR cycles. Parameter trajectories under each
scheduler are in test_optim.py; here are the rates, checkpoints and refusals.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from parity_tests.helpers import assert_close
from scratch import lr_scheduler, optim
from scratch.module import Parameter
from torch_ref import lr_scheduler as torch_lr_scheduler
from torch_ref import optim as torch_optim


def make_pair(name, kwargs, groups=1):
    """A scratch optimizer and its torch twin over `groups` one-parameter groups."""
    lrs = [kwargs.get("lr", 0.1) * (i + 1) for i in range(groups)]
    params = [Parameter(np.zeros(3)) for _ in range(groups)]
    torch_params = [nn.Parameter(torch.zeros(3, dtype=torch.float64)) for _ in range(groups)]
    opt = getattr(optim, name)([{"params": [p], "lr": lr} for p, lr in zip(params, lrs, strict=True)],
                               **kwargs)
    torch_opt = getattr(torch_optim, name)(
        [{"params": [p], "lr": lr} for p, lr in zip(torch_params, lrs, strict=True)], **kwargs)
    for p in params:
        p.grad = None                 # steps change nothing but are counted, as in torch
    return opt, torch_opt


def assert_same_rates(opt, torch_opt, sched, torch_sched, where):
    assert sched.get_last_lr() == torch_sched.get_last_lr(), where
    assert sched.last_epoch == torch_sched.last_epoch, where
    for group, torch_group in zip(opt.param_groups, torch_opt.param_groups, strict=True):
        for key in ("lr", "initial_lr", "momentum", "betas", "max_lr", "min_lr"):
            if key in torch_group:
                assert group[key] == torch_group[key], (
                    f"{key} {where}: {group[key]!r} != {torch_group[key]!r}")


SEQUENCES = [
    # (id, optimizer, kwargs, groups, scheduler, kwargs, steps)
    ("StepLR", "SGD", {"lr": 0.1}, 1, "StepLR", {"step_size": 7, "gamma": 0.5}, 40),
    ("StepLR two groups on Adam", "Adam", {"lr": 0.01}, 2, "StepLR", {"step_size": 10}, 45),
    ("StepLR step_size=1", "SGD", {"lr": 1.0}, 1, "StepLR", {"step_size": 1, "gamma": 0.9}, 30),
    ("Cosine two periods", "SGD", {"lr": 0.1}, 1, "CosineAnnealingLR", {"T_max": 25, "eta_min": 0.001}, 100),
    ("Cosine eta_min=0 four periods", "SGD", {"lr": 0.1, "momentum": 0.9}, 2, "CosineAnnealingLR",
     {"T_max": 10}, 80),
    ("Cosine T_max=1", "Adam", {"lr": 0.01}, 1, "CosineAnnealingLR", {"T_max": 1, "eta_min": 1e-4}, 8),
    ("Cosine odd T_max on Adam", "Adam", {"lr": 0.003}, 1, "CosineAnnealingLR", {"T_max": 7}, 30),
    ("OneCycle SGD", "SGD", {"lr": 0.1, "momentum": 0.9}, 1, "OneCycleLR",
     {"max_lr": 0.5, "total_steps": 100}, 100),
    ("OneCycle Adam betas", "Adam", {"lr": 0.01}, 2, "OneCycleLR", {"max_lr": 0.02, "total_steps": 64}, 64),
    ("OneCycle linear", "SGD", {"lr": 0.1, "momentum": 0.9}, 1, "OneCycleLR",
     {"max_lr": 0.5, "total_steps": 50, "anneal_strategy": "linear"}, 50),
    ("OneCycle three_phase", "SGD", {"lr": 0.1, "momentum": 0.9}, 1, "OneCycleLR",
     {"max_lr": 0.5, "total_steps": 90, "three_phase": True}, 90),
    ("OneCycle epochs x steps_per_epoch", "AdamW", {"lr": 0.01}, 1, "OneCycleLR",
     {"max_lr": 0.01, "epochs": 4, "steps_per_epoch": 13, "pct_start": 0.25, "div_factor": 10.0,
      "final_div_factor": 100.0}, 52),
    ("OneCycle per-group lists", "SGD", {"lr": 0.1, "momentum": 0.9}, 2, "OneCycleLR",
     {"max_lr": [0.5, 0.2], "total_steps": 40, "base_momentum": [0.8, 0.85], "max_momentum": (0.9, 0.99)},
     40),
    ("OneCycle without momentum cycling", "SGD", {"lr": 0.1}, 1, "OneCycleLR",
     {"max_lr": 0.5, "total_steps": 30, "cycle_momentum": False}, 30),
]


@pytest.mark.parametrize(("case", "name", "kwargs", "groups", "sched_name", "sched_kwargs", "steps"),
                         SEQUENCES, ids=[c[0] for c in SEQUENCES])
def test_rate_sequence_equals_torch(case, name, kwargs, groups, sched_name, sched_kwargs, steps):
    opt, torch_opt = make_pair(name, kwargs, groups)
    sched = getattr(lr_scheduler, sched_name)(opt, **sched_kwargs)
    torch_sched = getattr(torch_lr_scheduler, sched_name)(torch_opt, **sched_kwargs)
    assert_same_rates(opt, torch_opt, sched, torch_sched, "after construction")
    assert sched.base_lrs == torch_sched.base_lrs
    for step in range(1, steps + 1):
        opt.step()
        torch_opt.step()
        sched.step()
        torch_sched.step()
        assert_same_rates(opt, torch_opt, sched, torch_sched, f"after step {step}")


def test_cosine_step_uses_torch_recursion_not_the_closed_form():
    """step() follows the recursive formula; the closed form differs from it in the last bits."""
    opt, torch_opt = make_pair("SGD", {"lr": 0.1})
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=25, eta_min=0.001)
    torch_sched = torch_lr_scheduler.CosineAnnealingLR(torch_opt, T_max=25, eta_min=0.001)
    recursive, closed = [], []
    for _ in range(100):
        opt.step()
        torch_opt.step()
        sched.step()
        torch_sched.step()
        recursive.append(sched.get_last_lr()[0])
        closed.append(sched._get_closed_form_lr()[0])
        assert sched._get_closed_form_lr() == torch_sched._get_closed_form_lr()
        textbook = 0.001 + 0.5 * (0.1 - 0.001) * (1 + math.cos(math.pi * sched.last_epoch / 25))
        assert closed[-1] == pytest.approx(textbook, rel=1e-15)
    assert recursive != closed                     # bit-level drift: why matching the form matters
    np.testing.assert_allclose(recursive, closed, rtol=1e-13)
    assert min(recursive) == pytest.approx(0.001, rel=1e-12)      # reaches eta_min at T_max and 3·T_max
    assert recursive[49] == pytest.approx(0.1, rel=1e-12)         # back to base_lr at 2·T_max


def test_step_lr_recursion_equals_closed_form():
    opt, _ = make_pair("SGD", {"lr": 0.1})
    sched = lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    for _ in range(12):
        opt.step()
        sched.step()
        assert sched.get_last_lr() == sched._get_closed_form_lr()
    assert sched.get_last_lr() == [0.1 * 0.5**4]


# -- checkpoints ------------------------------------------------------------------------
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
    opt, torch_opt = make_pair(name, kwargs)
    sched = getattr(lr_scheduler, sched_name)(opt, **sched_kwargs)
    torch_sched = getattr(torch_lr_scheduler, sched_name)(torch_opt, **sched_kwargs)
    for _ in range(40):
        opt.step()
        torch_opt.step()
        sched.step()
        torch_sched.step()
    ours, theirs = sched.state_dict(), torch_sched.state_dict()
    assert set(theirs) - set(ours) <= {"_get_lr_called_within_step"}
    assert set(ours) <= set(theirs)
    for key, value in ours.items():
        assert value == theirs[key], f"{key}: {value!r} != {theirs[key]!r}"

    resumed_opt, _ = make_pair(name, kwargs)
    resumed = getattr(lr_scheduler, sched_name)(resumed_opt, **sched_kwargs)
    resumed_opt.load_state_dict(torch_opt.state_dict())
    resumed.load_state_dict(torch_sched.state_dict())
    for step in range(40):
        resumed_opt.step()
        torch_opt.step()
        resumed.step()
        torch_sched.step()
        assert_same_rates(resumed_opt, torch_opt, resumed, torch_sched, f"{step} steps after loading")


def test_resume_with_last_epoch_like_torch():
    """last_epoch ≥ 0 needs initial_lr in the groups and continues from the groups' rates."""
    opt, torch_opt = make_pair("SGD", {"lr": 0.1})
    for group in (*opt.param_groups, *torch_opt.param_groups):
        group["initial_lr"] = 0.2
    sched = lr_scheduler.StepLR(opt, step_size=4, gamma=0.5, last_epoch=6)
    torch_sched = torch_lr_scheduler.StepLR(torch_opt, step_size=4, gamma=0.5, last_epoch=6)
    assert sched.base_lrs == torch_sched.base_lrs == [0.2]
    for step in range(10):
        assert_same_rates(opt, torch_opt, sched, torch_sched, f"step {step}")
        opt.step()
        torch_opt.step()
        sched.step()
        torch_sched.step()


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_one_cycle_rebuilt_at_last_epoch_continues_the_schedule(name):
    """A resumed run may rebuild OneCycleLR at last_epoch = steps done − 1 over an optimizer
    restored from its checkpoint (train.py does): the rest of the schedule, as torch's."""
    kwargs = {"lr": 0.1, "momentum": 0.9} if name == "SGD" else {"lr": 0.01}
    opt, _ = make_pair(name, kwargs)
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

    resumed_opt, resumed_torch_opt = make_pair(name, kwargs)
    resumed_opt.load_state_dict(checkpoint)
    resumed_torch_opt.load_state_dict(checkpoint)        # no tensors in it: no state yet
    resumed = lr_scheduler.OneCycleLR(resumed_opt, max_lr=0.5, total_steps=60, last_epoch=19)
    resumed_torch = torch_lr_scheduler.OneCycleLR(resumed_torch_opt, max_lr=0.5, total_steps=60,
                                                  last_epoch=19)
    assert_same_rates(resumed_opt, resumed_torch_opt, resumed, resumed_torch, "after rebuilding")
    for step in range(40):
        resumed_opt.step()
        resumed_torch_opt.step()
        resumed.step()
        resumed_torch.step()
        assert_same_rates(resumed_opt, resumed_torch_opt, resumed, resumed_torch, f"step {step + 21}")
        assert resumed.get_last_lr() == uninterrupted[step]


# -- what both refuse ---------------------------------------------------------------------
def test_one_cycle_refuses_a_step_past_total_steps_like_torch():
    opt, torch_opt = make_pair("SGD", {"lr": 0.1, "momentum": 0.9})
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=10)
    torch_sched = torch_lr_scheduler.OneCycleLR(torch_opt, max_lr=0.5, total_steps=10)
    for _ in range(10):                            # total_steps steps after construction: fine
        opt.step()
        torch_opt.step()
        sched.step()
        torch_sched.step()
    assert_same_rates(opt, torch_opt, sched, torch_sched, "after total_steps steps")
    with pytest.raises(ValueError, match="tried to step 11 times, but total_steps is 10"):
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 11 times"):
        torch_sched.step()


BAD_ONE_CYCLE = [
    ({"total_steps": 0}, "total_steps"),
    ({"total_steps": 2.5}, "total_steps"),
    ({}, "total_steps, or both epochs and steps_per_epoch"),
    ({"epochs": 3}, "total_steps, or both epochs and steps_per_epoch"),
    ({"epochs": 0, "steps_per_epoch": 10}, "epochs"),
    ({"epochs": 3, "steps_per_epoch": -1}, "steps_per_epoch"),
    ({"total_steps": 10, "pct_start": 1.5}, "pct_start"),
    ({"total_steps": 10, "pct_start": 1}, "pct_start"),                  # an int: torch wants a float
    ({"total_steps": 10, "anneal_strategy": "exp"}, "anneal_strategy"),
    ({"total_steps": 10, "max_lr": [0.1, 0.2]}, "max_lr has 2 values"),
    ({"total_steps": 10, "base_momentum": [0.8, 0.85]}, "base_momentum has 2 values"),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD_ONE_CYCLE)
def test_one_cycle_bad_arguments_are_refused_like_torch(kwargs, message):
    kwargs = {"max_lr": 0.5, **kwargs}
    opt, torch_opt = make_pair("SGD", {"lr": 0.1, "momentum": 0.9})
    with pytest.raises(ValueError, match=message):
        lr_scheduler.OneCycleLR(opt, **kwargs)
    with pytest.raises(ValueError):
        torch_lr_scheduler.OneCycleLR(torch_opt, **kwargs)


def test_one_cycle_momentum_needs_an_optimizer_with_momentum_like_torch():
    opt, torch_opt = make_pair("Adadelta", {"lr": 1.0})
    with pytest.raises(ValueError, match="cycle_momentum needs an optimizer with momentum or betas"):
        lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    with pytest.raises(ValueError):
        torch_lr_scheduler.OneCycleLR(torch_opt, max_lr=1.0, total_steps=10)
    lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10, cycle_momentum=False)
    torch_lr_scheduler.OneCycleLR(torch_opt, max_lr=1.0, total_steps=10, cycle_momentum=False)


@pytest.mark.parametrize(("sched_name", "kwargs"), [("StepLR", {"step_size": 3}),
                                                    ("CosineAnnealingLR", {"T_max": 3}),
                                                    ("OneCycleLR", {"max_lr": 0.1, "total_steps": 3})])
def test_schedulers_refuse_the_other_twins_optimizer(sched_name, kwargs):
    opt, torch_opt = make_pair("SGD", {"lr": 0.1})
    with pytest.raises(TypeError, match=r"must be a scratch\.optim Optimizer, got SGD"):
        getattr(lr_scheduler, sched_name)(torch_opt, **kwargs)
    with pytest.raises(TypeError):
        getattr(torch_lr_scheduler, sched_name)(opt, **kwargs)


def test_resume_without_initial_lr_is_refused_like_torch():
    opt, torch_opt = make_pair("SGD", {"lr": 0.1})
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, step_size=3, last_epoch=5)
    with pytest.raises(KeyError):
        torch_lr_scheduler.StepLR(torch_opt, step_size=3, last_epoch=5)


def test_scheduler_before_optimizer_warns_like_torch():
    opt, torch_opt = make_pair("SGD", {"lr": 0.1})
    sched = lr_scheduler.StepLR(opt, step_size=2)
    torch_sched = torch_lr_scheduler.StepLR(torch_opt, step_size=2)
    with pytest.warns(UserWarning, match="before `?optimizer.step"):
        sched.step()
    with pytest.warns(UserWarning, match="before `optimizer.step"):
        torch_sched.step()
    opt, _ = make_pair("SGD", {"lr": 0.1})
    sched = lr_scheduler.StepLR(opt, step_size=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")             # the right order warns of nothing
        opt.step()
        sched.step()


def test_initial_lr_is_recorded_in_the_groups():
    opt, torch_opt = make_pair("Adam", {"lr": 0.01}, groups=2)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=5)
    torch_sched = torch_lr_scheduler.CosineAnnealingLR(torch_opt, T_max=5)
    assert [g["initial_lr"] for g in opt.param_groups] == [g["initial_lr"] for g in torch_opt.param_groups]
    assert sched.last_epoch == torch_sched.last_epoch == 0
    assert sched.get_last_lr() == torch_sched.get_last_lr() == [0.01, 0.02]
    assert_close(np.array(sched.base_lrs), np.array(torch_sched.base_lrs), "base_lrs")
