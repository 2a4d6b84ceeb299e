"""Learning-rate schedulers: scratch/lr_scheduler.py against torch_ref/lr_scheduler.py.

Rates are Python floats computed by the same formulas in the same order, so the sequences
must equal torch's exactly (``==``), over at least two periods of each schedule, including
the momentum (SGD, RMSprop) or β₁ (Adam) that OneCycleLR cycles: parity_tests/trajectory.py's
``lockstep`` checks them after every step. Parameter trajectories under each scheduler are in
test_optim.py, checkpoints and resuming in test_lr_scheduler_checkpoints.py; here are the
rates, the argument forms and the refusals.
"""

from __future__ import annotations

import inspect
import math
import warnings

import numpy as np
import pytest
import torch

from parity_tests.helpers import assert_close, refusal, refusal_tests, stricter
from parity_tests.trajectory import Side, assert_same_rates, lockstep, rate_pair
from scratch import lr_scheduler, optim
from scratch.module import Parameter
from torch_ref import lr_scheduler as torch_lr_scheduler
from torch_ref import optim as torch_optim

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
    ("OneCycle three_phase Adam betas", "Adam", {"lr": 0.01}, 2, "OneCycleLR",
     {"max_lr": 0.02, "total_steps": 60, "three_phase": True}, 60),
    ("OneCycle three_phase linear Adam, pct_start=0.5", "Adam", {"lr": 0.01}, 1, "OneCycleLR",
     {"max_lr": 0.02, "total_steps": 30, "three_phase": True, "pct_start": 0.5,
      "anneal_strategy": "linear"}, 30),
    ("OneCycle RMSprop momentum", "RMSprop", {"lr": 0.01}, 1, "OneCycleLR",
     {"max_lr": 0.05, "total_steps": 50}, 50),
    ("OneCycle Adagrad, momentum not cycled", "Adagrad", {"lr": 0.01}, 1, "OneCycleLR",
     {"max_lr": 0.05, "total_steps": 50, "cycle_momentum": False}, 50),
    ("StepLR on RMSprop, two groups", "RMSprop", {"lr": 0.01, "momentum": 0.5}, 2, "StepLR",
     {"step_size": 5, "gamma": 0.5}, 20),
]


@pytest.mark.parametrize(("case", "name", "kwargs", "groups", "sched_name", "sched_kwargs", "steps"),
                         SEQUENCES, ids=[c[0] for c in SEQUENCES])
def test_rate_sequence_equals_torch(case, name, kwargs, groups, sched_name, sched_kwargs, steps):
    opt, torch_opt = rate_pair(name, kwargs, groups)
    sched = getattr(lr_scheduler, sched_name)(opt, **sched_kwargs)
    torch_sched = getattr(torch_lr_scheduler, sched_name)(torch_opt, **sched_kwargs)
    assert_same_rates(opt, torch_opt, sched, torch_sched, "after construction")
    assert sched.base_lrs == torch_sched.base_lrs
    lockstep(Side(opt, sched), Side(torch_opt, torch_sched), steps)


def t64(value):
    return torch.tensor(value, dtype=torch.float64)


FORMS = [
    # (id, scheduler, scratch kwargs, torch kwargs, optimizer lr for scratch, for torch)
    ("StepLR gamma int", "StepLR", {"step_size": 3, "gamma": 2}, None, 0.1, 0.1),
    ("StepLR gamma negative", "StepLR", {"step_size": 3, "gamma": -0.5}, None, 0.1, 0.1),
    ("StepLR gamma 0-d array", "StepLR", {"step_size": 3, "gamma": np.array(0.5)},
     {"step_size": 3, "gamma": t64(0.5)}, 0.1, 0.1),
    ("StepLR step_size NumPy int", "StepLR", {"step_size": np.int64(3)}, None, 0.1, 0.1),
    ("Cosine eta_min int", "CosineAnnealingLR", {"T_max": 5, "eta_min": 0}, None, 0.1, 0.1),
    ("StepLR over an array lr", "StepLR", {"step_size": 3, "gamma": 0.5}, None, np.array(0.1), t64(0.1)),
    ("Cosine over an array lr", "CosineAnnealingLR", {"T_max": 5, "eta_min": 0.01}, None,
     np.array(0.1), t64(0.1)),
    ("OneCycle over an array lr", "OneCycleLR", {"max_lr": 0.5, "total_steps": 20}, None,
     np.array(0.1), t64(0.1)),
    ("StepLR over a float32 array lr", "StepLR", {"step_size": 2, "gamma": 0.3}, None,
     np.array(0.1, np.float32), torch.tensor(0.1)),
    ("OneCycle max_lr 0-d array", "OneCycleLR", {"max_lr": np.array(0.5), "total_steps": 20},
     {"max_lr": t64(0.5), "total_steps": 20}, 0.1, 0.1),
]


@pytest.mark.parametrize(("case", "sched_name", "kwargs", "torch_kwargs", "lr", "torch_lr"), FORMS,
                         ids=[f[0] for f in FORMS])
def test_argument_forms_give_torchs_rates(case, sched_name, kwargs, torch_kwargs, lr, torch_lr):
    """The same rates, and an array lr stays that array, rewritten in place as torch fills a
    tensor lr; get_last_lr and base_lrs hold copies."""
    opt = optim.SGD([Parameter(np.zeros(3))], lr=lr, momentum=0.9)
    torch_opt = torch_optim.SGD([torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))], lr=torch_lr,
                                momentum=0.9)
    sched = getattr(lr_scheduler, sched_name)(opt, **kwargs)
    torch_sched = getattr(torch_lr_scheduler, sched_name)(torch_opt, **(torch_kwargs or kwargs))
    lockstep(Side(opt, sched), Side(torch_opt, torch_sched), 20)
    if isinstance(lr, np.ndarray):
        assert opt.param_groups[0]["lr"] is lr
        assert sched.get_last_lr()[0] is not lr and sched.base_lrs[0] is not lr


@pytest.mark.parametrize(("sched_name", "kwargs"), [("StepLR", {"step_size": 3, "gamma": 0.5}),
                                                    ("CosineAnnealingLR", {"T_max": 5, "eta_min": 0.01}),
                                                    ("OneCycleLR", {"max_lr": 0.5, "total_steps": 20})])
def test_step_with_an_epoch_is_deprecated_and_jumps_like_torch(sched_name, kwargs):
    """step(epoch) warns, sets last_epoch and takes the closed form where there is one (OneCycleLR
    has none: its get_lr at that step)."""
    opt, torch_opt = rate_pair("SGD", {"lr": 0.1, "momentum": 0.9})
    sched = getattr(lr_scheduler, sched_name)(opt, **kwargs)
    torch_sched = getattr(torch_lr_scheduler, sched_name)(torch_opt, **kwargs)
    for epoch in (1, 2, 7, 4, 4, 10, 3):
        opt.step()
        torch_opt.step()
        with pytest.warns(UserWarning, match="deprecated"):
            sched.step(epoch)
        with pytest.warns(UserWarning, match="deprecated"):
            torch_sched.step(epoch)
        assert_same_rates(opt, torch_opt, sched, torch_sched, f"after step({epoch})")


def test_cosine_step_uses_torch_recursion_not_the_closed_form():
    """step() follows the recursive formula; the closed form differs from it in the last bits."""
    opt, torch_opt = rate_pair("SGD", {"lr": 0.1})
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
    opt, _ = rate_pair("SGD", {"lr": 0.1})
    sched = lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    for _ in range(12):
        opt.step()
        sched.step()
        assert sched.get_last_lr() == sched._get_closed_form_lr()
    assert sched.get_last_lr() == [0.1 * 0.5**4]


@pytest.mark.parametrize("name", ["StepLR", "CosineAnnealingLR", "OneCycleLR"])
def test_signatures_are_torchs(name):
    def described(cls):
        return [(p.name, p.kind, p.default) for p in inspect.signature(cls).parameters.values()]

    assert described(getattr(lr_scheduler, name)) == described(getattr(torch_lr_scheduler, name))


def test_initial_lr_is_recorded_in_the_groups():
    opt, torch_opt = rate_pair("Adam", {"lr": 0.01}, groups=2)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=5)
    torch_sched = torch_lr_scheduler.CosineAnnealingLR(torch_opt, T_max=5)
    assert [g["initial_lr"] for g in opt.param_groups] == [g["initial_lr"] for g in torch_opt.param_groups]
    assert sched.last_epoch == torch_sched.last_epoch == 0
    assert sched.get_last_lr() == torch_sched.get_last_lr() == [0.01, 0.02]
    assert_close(np.array(sched.base_lrs), np.array(torch_sched.base_lrs), "base_lrs")


def test_scheduler_before_optimizer_warns_like_torch():
    opt, torch_opt = rate_pair("SGD", {"lr": 0.1})
    sched = lr_scheduler.StepLR(opt, step_size=2)
    torch_sched = torch_lr_scheduler.StepLR(torch_opt, step_size=2)
    with pytest.warns(UserWarning, match="before `?optimizer.step"):
        sched.step()
    with pytest.warns(UserWarning, match="before `optimizer.step"):
        torch_sched.step()
    opt, _ = rate_pair("SGD", {"lr": 0.1})
    sched = lr_scheduler.StepLR(opt, step_size=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")             # the right order warns of nothing
        opt.step()
        sched.step()


# -- what both refuse ---------------------------------------------------------------------
def test_one_cycle_refuses_a_step_past_total_steps_like_torch():
    opt, torch_opt = rate_pair("SGD", {"lr": 0.1, "momentum": 0.9})
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=10)
    torch_sched = torch_lr_scheduler.OneCycleLR(torch_opt, max_lr=0.5, total_steps=10)
    lockstep(Side(opt, sched), Side(torch_opt, torch_sched), 10)   # total_steps steps: fine
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
    ({"total_steps": np.int64(10)}, "total_steps"),                     # torch: isinstance(…, int)
]


@pytest.mark.parametrize(("kwargs", "message"), BAD_ONE_CYCLE)
def test_one_cycle_bad_arguments_are_refused_like_torch(kwargs, message):
    kwargs = {"max_lr": 0.5, **kwargs}
    opt, torch_opt = rate_pair("SGD", {"lr": 0.1, "momentum": 0.9})
    with pytest.raises(ValueError, match=message):
        lr_scheduler.OneCycleLR(opt, **kwargs)
    with pytest.raises(ValueError):
        torch_lr_scheduler.OneCycleLR(torch_opt, **kwargs)


@pytest.mark.parametrize("name", ["Adadelta", "Adagrad"])
def test_one_cycle_momentum_needs_an_optimizer_with_momentum_like_torch(name):
    opt, torch_opt = rate_pair(name, {"lr": 1.0})
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
    opt, torch_opt = rate_pair("SGD", {"lr": 0.1})
    with pytest.raises(TypeError, match=r"must be a scratch\.optim Optimizer, got SGD"):
        getattr(lr_scheduler, sched_name)(torch_opt, **kwargs)
    with pytest.raises(TypeError):
        getattr(torch_lr_scheduler, sched_name)(opt, **kwargs)


def ours():
    return optim.SGD([Parameter(np.zeros(2, dtype=np.float32))], lr=0.1, momentum=0.9)


def theirs():
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1, momentum=0.9)


def run_schedule(scheduler, steps: int = 3):
    """A few epochs: optimizer.step() then scheduler.step(), as both libraries ask."""
    for _ in range(steps):
        scheduler.optimizer.step()
        scheduler.step()


S, T = lr_scheduler, torch.optim.lr_scheduler
REFUSED = [
    # moved from test_reliability.py (torch refuses the first two at the first step)
    refusal("StepLR-step_size-0", lambda: run_schedule(S.StepLR(ours(), step_size=0)),
            lambda: run_schedule(T.StepLR(theirs(), step_size=0)),
            ValueError, "StepLR: step_size must be a positive int", "got 0"),
    refusal("CosineAnnealingLR-T_max-0", lambda: run_schedule(S.CosineAnnealingLR(ours(), T_max=0)),
            lambda: run_schedule(T.CosineAnnealingLR(theirs(), T_max=0)),
            ValueError, "CosineAnnealingLR: T_max must be a positive int", "got 0"),
    refusal("OneCycleLR-total_steps-0", lambda: S.OneCycleLR(ours(), max_lr=0.1, total_steps=0),
            lambda: T.OneCycleLR(theirs(), max_lr=0.1, total_steps=0),
            ValueError, "OneCycleLR: total_steps must be a positive int", "got 0"),
    refusal("OneCycleLR-negative-epochs",
            lambda: S.OneCycleLR(ours(), max_lr=0.1, epochs=-1, steps_per_epoch=10),
            lambda: T.OneCycleLR(theirs(), max_lr=0.1, epochs=-1, steps_per_epoch=10),
            ValueError, "OneCycleLR: epochs must be a positive int", "got -1"),
    refusal("OneCycleLR-no-length", lambda: S.OneCycleLR(ours(), max_lr=0.1),
            lambda: T.OneCycleLR(theirs(), max_lr=0.1),
            ValueError, "OneCycleLR: give total_steps, or both epochs and steps_per_epoch"),
    refusal("OneCycleLR-pct_start-above-1",
            lambda: S.OneCycleLR(ours(), max_lr=0.1, total_steps=10, pct_start=1.5),
            lambda: T.OneCycleLR(theirs(), max_lr=0.1, total_steps=10, pct_start=1.5),
            ValueError, "OneCycleLR: pct_start must be a float in [0, 1]", "got 1.5"),
    refusal("OneCycleLR-unknown-anneal",
            lambda: S.OneCycleLR(ours(), max_lr=0.1, total_steps=10, anneal_strategy="exp"),
            lambda: T.OneCycleLR(theirs(), max_lr=0.1, total_steps=10, anneal_strategy="exp"),
            ValueError, "OneCycleLR: anneal_strategy must be 'cos' or 'linear'", "got 'exp'"),
    refusal("OneCycleLR-optimizer-without-momentum",
            lambda: S.OneCycleLR(optim.Adadelta([Parameter(np.zeros(2))]), max_lr=0.1, total_steps=10),
            lambda: T.OneCycleLR(torch.optim.Adadelta([torch.nn.Parameter(torch.zeros(2))]), max_lr=0.1,
                                 total_steps=10),
            ValueError,
            "OneCycleLR: cycle_momentum needs an optimizer with momentum or betas", "got Adadelta"),
    refusal("OneCycleLR-stepped-past-the-end",
            lambda: run_schedule(S.OneCycleLR(ours(), max_lr=0.1, total_steps=2)),
            lambda: run_schedule(T.OneCycleLR(theirs(), max_lr=0.1, total_steps=2)),
            ValueError, "OneCycleLR: tried to step 3 times, but total_steps is 2"),
    refusal("StepLR-not-an-optimizer", lambda: S.StepLR(object(), step_size=2),
            lambda: T.StepLR(object(), step_size=2),
            TypeError, "StepLR: optimizer must be a scratch.optim Optimizer", "got object"),
    # numbers torch multiplies by at the first decay step, refused here when built
    refusal("StepLR-gamma-str", lambda: S.StepLR(ours(), step_size=1, gamma="0.5"),
            lambda: run_schedule(T.StepLR(theirs(), step_size=1, gamma="0.5")),
            TypeError, "StepLR: gamma must be a number", "got '0.5'"),
    refusal("CosineAnnealingLR-eta_min-str", lambda: S.CosineAnnealingLR(ours(), T_max=5, eta_min="0"),
            lambda: run_schedule(T.CosineAnnealingLR(theirs(), T_max=5, eta_min="0")),
            TypeError, "CosineAnnealingLR: eta_min must be a number", "got '0'"),
]
test_scratch_refuses, test_torch_agrees = refusal_tests(REFUSED)

STRICTER = [
    # torch's StepLR and CosineAnnealingLR check nothing: a float or negative period still runs
    stricter("StepLR-step_size-float", lambda: S.StepLR(ours(), step_size=2.5),
             lambda: run_schedule(T.StepLR(theirs(), step_size=2.5), 6),
             ValueError, "StepLR: step_size must be a positive int", "got 2.5"),
    stricter("StepLR-step_size-negative", lambda: S.StepLR(ours(), step_size=-1),
             lambda: run_schedule(T.StepLR(theirs(), step_size=-1), 6),
             ValueError, "StepLR: step_size must be a positive int", "got -1"),
    stricter("StepLR-step_size-bool", lambda: S.StepLR(ours(), step_size=True),
             lambda: run_schedule(T.StepLR(theirs(), step_size=True), 6),
             ValueError, "StepLR: step_size must be a positive int", "got True"),
    stricter("CosineAnnealingLR-T_max-float", lambda: S.CosineAnnealingLR(ours(), T_max=2.5),
             lambda: run_schedule(T.CosineAnnealingLR(theirs(), T_max=2.5), 6),
             ValueError, "CosineAnnealingLR: T_max must be a positive int", "got 2.5"),
]
test_scratch_stricter, test_torch_accepts = refusal_tests(STRICTER)
