"""Optimizer checkpoints: scratch/optim.py's state_dict against torch_ref/optim.py's.

The same layout as torch's (indices, buffers, hyper-parameters), a round trip that resumes
the uninterrupted trajectory bit for bit, and checkpoints that load across the twins: torch's
resumes scratch training and scratch's resumes torch's, on the same trajectory.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from parity_tests.helpers import assert_close
from parity_tests.trajectory import (
    Recorder,
    make_models,
    scratch_loss_backward,
    torch_loss_backward,
)
from scratch import optim
from scratch.module import Parameter
from torch_ref import optim as torch_optim

ROUND_TRIP_CONFIGS = [
    ("SGD", {"lr": 0.02, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01}),
    ("AdamW", {"lr": 0.01}),
    ("Adadelta", {"weight_decay": 0.01}),
    ("RMSprop", {"lr": 1e-3, "momentum": 0.5, "centered": True, "weight_decay": 1e-3}),   # 1e-2: chaotic
    ("RMSprop", {"lr": 0.01}),
    ("Adagrad", {"lr": 0.05, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
]
IDS = [f"{n}-{i}" for i, (n, _) in enumerate(ROUND_TRIP_CONFIGS)]


def to_tensors(value):
    """A scratch checkpoint as torch.save would want it: arrays become tensors."""
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value.copy())
    if isinstance(value, dict):
        return {k: to_tensors(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_tensors(v) for v in value]
    return value


def train_steps(model, opt, x, target, steps, sched=None):
    for _ in range(steps):
        opt.zero_grad()
        scratch_loss_backward(model, x, target)
        opt.step()
        if sched is not None:
            sched.step()


def torch_train_steps(torch_model, opt, x, target, steps):
    for _ in range(steps):
        opt.zero_grad()
        torch_loss_backward(torch_model, x, target)
        opt.step()


@pytest.mark.parametrize(("name", "kwargs"), ROUND_TRIP_CONFIGS, ids=IDS)
def test_state_dict_round_trip(name, kwargs):
    """Stop at step 50, save, restore into fresh objects, go on: the uninterrupted trajectory."""
    model, _, x, target = make_models()
    opt = getattr(optim, name)(model.parameters(), **kwargs)
    train_steps(model, opt, x, target, 50)
    checkpoint = {"model": model.state_dict(), "optimizer": opt.state_dict()}
    train_steps(model, opt, x, target, 100)                 # the checkpoint must not follow

    fresh, _, _, _ = make_models(seed=1)                    # other weights, overwritten below
    fresh.load_state_dict(checkpoint["model"])
    fresh_opt = getattr(optim, name)(fresh.parameters(), **kwargs)
    fresh_opt.load_state_dict(checkpoint["optimizer"])
    train_steps(fresh, fresh_opt, x, target, 100)
    for (n, p), (_, q) in zip(model.named_parameters(), fresh.named_parameters(), strict=True):
        np.testing.assert_array_equal(q.data, p.data, err_msg=f"{name} {n} after resuming")


@pytest.mark.parametrize(("name", "kwargs"), ROUND_TRIP_CONFIGS, ids=IDS)
def test_state_dict_layout_matches_torch(name, kwargs):
    """The same indices, buffers and hyper-parameters as torch's state_dict after 5 steps,
    torch's implementation switches (foreach, fused, ...) included."""
    model, torch_model, x, target = make_models()
    opt = getattr(optim, name)(model.parameters(), **kwargs)
    torch_opt = getattr(torch_optim, name)(torch_model.parameters(), **kwargs)
    train_steps(model, opt, x, target, 5)
    torch_train_steps(torch_model, torch_opt, x, target, 5)
    ours, theirs = opt.state_dict(), torch_opt.state_dict()
    assert set(ours) == {"state", "param_groups"}
    assert list(ours["state"]) == list(theirs["state"])
    for index, buffers in ours["state"].items():
        assert set(buffers) == set(theirs["state"][index])
        for key, value in buffers.items():
            assert isinstance(value, np.ndarray), f"state {index} {key} is {type(value).__name__}"
            assert_close(value, theirs["state"][index][key], f"state {index} {key}")
            assert value.dtype == theirs["state"][index][key].numpy().dtype, f"state {index} {key}"
    for group, torch_group in zip(ours["param_groups"], theirs["param_groups"], strict=True):
        assert set(group) == set(torch_group)
        for key, value in group.items():
            assert value == torch_group[key], f"param_groups {key}: {value!r} != {torch_group[key]!r}"


@pytest.mark.parametrize(("name", "kwargs"), ROUND_TRIP_CONFIGS, ids=IDS)
def test_checkpoints_load_across_the_twins(name, kwargs):
    """torch's checkpoint resumes scratch training, scratch's resumes torch's: same trajectory."""
    model, torch_model, x, target = make_models()
    opt = getattr(optim, name)(model.parameters(), **kwargs)
    torch_opt = getattr(torch_optim, name)(torch_model.parameters(), **kwargs)
    train_steps(model, opt, x, target, 50)
    torch_train_steps(torch_model, torch_opt, x, target, 50)

    swapped, swapped_torch, _, _ = make_models(seed=1)
    swapped.load_state_dict({k: v.detach().numpy() for k, v in torch_model.state_dict().items()})
    swapped_torch.load_state_dict(to_tensors(dict(model.state_dict())))
    swapped_opt = getattr(optim, name)(swapped.parameters(), **kwargs)
    swapped_torch_opt = getattr(torch_optim, name)(swapped_torch.parameters(), **kwargs)
    swapped_opt.load_state_dict(torch_opt.state_dict())                  # tensors, read as arrays
    swapped_torch_opt.load_state_dict(to_tensors(opt.state_dict()))

    train_steps(swapped, swapped_opt, x, target, 100)
    torch_train_steps(torch_model, torch_opt, x, target, 100)
    train_steps(model, opt, x, target, 100)
    torch_train_steps(swapped_torch, swapped_torch_opt, x, target, 100)
    recorder = Recorder(np.float64)
    recorder.compare(swapped, torch_model, "scratch resumed from torch's checkpoint")
    recorder.compare(model, swapped_torch, "torch resumed from scratch's checkpoint")


def test_tensor_hyperparameters_of_a_torch_checkpoint_are_read_as_arrays():
    """torch keeps a tensor lr and tensor betas in param_groups; loaded, they become arrays
    and train on as the floats they hold."""
    model, torch_model, x, target = make_models()
    torch_opt = torch_optim.Adam(torch_model.parameters(), lr=torch.tensor(0.01, dtype=torch.float64),
                                 betas=(torch.tensor(0.9, dtype=torch.float64),
                                        torch.tensor(0.99, dtype=torch.float64)))
    torch_train_steps(torch_model, torch_opt, x, target, 20)
    model.load_state_dict({k: v.detach().numpy().copy() for k, v in torch_model.state_dict().items()})
    opt = optim.Adam(model.parameters())
    opt.load_state_dict(torch_opt.state_dict())
    group = opt.param_groups[0]
    assert isinstance(group["lr"], np.ndarray) and group["lr"] == 0.01
    assert all(isinstance(b, np.ndarray) for b in group["betas"])
    train_steps(model, opt, x, target, 30)
    torch_train_steps(torch_model, torch_opt, x, target, 30)
    Recorder(np.float64).compare(model, torch_model, "30 steps after loading torch's tensor lr and betas")


def test_named_parameters_are_kept_in_param_names():
    model, torch_model, _, _ = make_models()
    opt = optim.Adam(model.named_parameters())
    torch_opt = torch_optim.Adam(torch_model.named_parameters())
    assert opt.state_dict()["param_groups"][0]["param_names"] == \
        torch_opt.state_dict()["param_groups"][0]["param_names"]


def test_load_state_dict_refuses_another_layout_like_torch():
    p, q = Parameter(np.zeros(3)), Parameter(np.zeros(2))
    tp, tq = nn.Parameter(torch.zeros(3)), nn.Parameter(torch.zeros(2))
    two_groups = optim.SGD([{"params": [p]}, {"params": [q]}], lr=0.1).state_dict()
    torch_two_groups = torch_optim.SGD([{"params": [tp]}, {"params": [tq]}], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="2 parameter groups"):
        optim.SGD([p, q], lr=0.1).load_state_dict(two_groups)
    with pytest.raises(ValueError):
        torch_optim.SGD([tp, tq], lr=0.1).load_state_dict(torch_two_groups)
    with pytest.raises(ValueError, match="group 0 holds 1 parameters"):
        optim.SGD([{"params": [p, q]}, {"params": [Parameter(np.zeros(1))]}],
                  lr=0.1).load_state_dict(two_groups)
    with pytest.raises(ValueError):
        torch_optim.SGD([{"params": [tp, tq]}, {"params": [nn.Parameter(torch.zeros(1))]}],
                        lr=0.1).load_state_dict(torch_two_groups)
