"""Optimizer arguments: what scratch/optim.py and torch_ref/optim.py (torch.optim) both take,
and what both refuse.

Every argument form torch accepts computes what torch computes (a trajectory through
parity_tests/trajectory.py): an lr or weight_decay as a 1-element array where torch takes a
1-element tensor, betas as arrays where torch takes tensors, ints for floats, ``foreach`` and
``fused`` (another CPU kernel for the same update). What torch refuses, scratch refuses with a
message that names the optimizer, the argument, what it expected and what it got; the few
cases torch accepts and scratch refuses on purpose are listed as such (``stricter``).
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
from torch import nn

from parity_tests.helpers import refusal, refusal_tests, stricter
from parity_tests.trajectory import print_deviations, run_trajectory
from scratch import optim
from scratch.linear import Linear
from scratch.module import Parameter
from torch_ref import optim as torch_optim

NAMES = ["SGD", "Adam", "AdamW", "Adadelta", "RMSprop", "Adagrad"]


@pytest.fixture(scope="module", autouse=True)
def deviation_table():
    yield
    print_deviations()


def t64(value):
    return torch.tensor(value, dtype=torch.float64)


def ours(*shape):
    return [Parameter(np.zeros(shape or (2,), dtype=np.float32))]


def theirs(*shape):
    return [nn.Parameter(torch.zeros(shape or (2,)))]


def torch_steps(opt):
    """Two steps with gradients: torch refuses some arguments only there."""
    for _ in range(2):
        for group in opt.param_groups:
            for p in group["params"]:
                p.grad = torch.ones_like(p)
        opt.step()


@pytest.mark.parametrize("name", NAMES)
def test_signatures_are_torchs(name):
    """The same arguments in the same order, of the same kind, with the same defaults."""
    def described(cls):
        return [(p.name, p.kind, p.default) for p in inspect.signature(cls).parameters.values()]

    assert described(getattr(optim, name)) == described(getattr(torch_optim, name))


# -- argument forms torch accepts: the same trajectory ------------------------------------
FORMS = [
    # (id, optimizer, scratch kwargs, torch kwargs where they differ)
    ("SGD lr 0-d array", "SGD", {"lr": np.array(0.05), "momentum": 0.9}, {"lr": t64(0.05), "momentum": 0.9}),
    ("SGD lr (1,) array", "SGD", {"lr": np.array([0.05])}, {"lr": t64([0.05])}),
    ("SGD weight_decay 0-d array", "SGD", {"lr": 0.05, "weight_decay": np.array(0.1)},
     {"lr": 0.05, "weight_decay": t64(0.1)}),
    ("SGD weight_decay int", "SGD", {"lr": 0.01, "weight_decay": 1}, None),
    ("SGD momentum+dampening, no nesterov", "SGD", {"lr": 0.02, "momentum": 0.9, "dampening": 0.5}, None),
    ("SGD foreach", "SGD", {"lr": 0.02, "momentum": 0.9, "foreach": True}, None),
    ("SGD fused", "SGD", {"lr": 0.02, "momentum": 0.9, "fused": True}, None),
    ("SGD lr array, foreach", "SGD", {"lr": np.array(0.05), "foreach": True},
     {"lr": t64(0.05), "foreach": True}),
    ("Adam lr 0-d array", "Adam", {"lr": np.array(0.01)}, {"lr": t64(0.01)}),
    ("Adam betas 0-d arrays", "Adam", {"lr": 0.01, "betas": (np.array(0.8), np.array(0.99))},
     {"lr": 0.01, "betas": (t64(0.8), t64(0.99))}),
    ("Adam betas (1,) arrays", "Adam", {"lr": 0.01, "betas": (np.array([0.8]), np.array([0.99]))},
     {"lr": 0.01, "betas": (t64([0.8]), t64([0.99]))}),
    ("Adam betas one array of 2", "Adam", {"lr": 0.01, "betas": np.array([0.8, 0.99])},
     {"lr": 0.01, "betas": t64([0.8, 0.99])}),
    ("Adam betas list", "Adam", {"lr": 0.01, "betas": [0.8, 0.99]}, None),
    ("Adam beta1 below 0.5 (lerp's other form)", "Adam", {"lr": 0.01, "betas": (0.3, 0.999)}, None),
    ("Adam weight_decay int", "Adam", {"lr": 0.001, "weight_decay": 1}, None),
    ("Adam amsgrad+maximize+weight_decay", "Adam",
     {"lr": 0.001, "amsgrad": True, "maximize": True, "weight_decay": 0.1}, None),
    ("Adam foreach", "Adam", {"lr": 0.01, "foreach": True}, None),
    ("Adam fused", "Adam", {"lr": 0.01, "fused": True}, None),
    ("Adam decoupled_weight_decay", "Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True},
     None),
    ("AdamW lr 0-d array", "AdamW", {"lr": np.array(0.01)}, {"lr": t64(0.01)}),
    ("AdamW fused amsgrad", "AdamW", {"lr": 0.01, "fused": True, "amsgrad": True}, None),
    ("Adadelta lr 0-d array", "Adadelta", {"lr": np.array(0.5)}, {"lr": t64(0.5)}),
    ("Adadelta rho int", "Adadelta", {"lr": 0.5, "rho": 1}, None),
    ("Adadelta foreach", "Adadelta", {"foreach": True}, None),
    ("RMSprop lr 0-d array", "RMSprop", {"lr": np.array(0.01)}, {"lr": t64(0.01)}),
    ("RMSprop foreach", "RMSprop", {"lr": 0.01, "foreach": True}, None),
    ("Adagrad lr 0-d array", "Adagrad", {"lr": np.array(0.05), "lr_decay": 0.01},
     {"lr": t64(0.05), "lr_decay": 0.01}),
    ("Adagrad foreach", "Adagrad", {"lr": 0.05, "foreach": True}, None),
    ("Adagrad fused", "Adagrad", {"lr": 0.05, "fused": True}, None),
]


@pytest.mark.parametrize(("config_id", "name", "kwargs", "torch_kwargs"), FORMS, ids=[f[0] for f in FORMS])
def test_argument_forms_follow_torchs_trajectory(config_id, name, kwargs, torch_kwargs):
    """150 steps at the float64 tolerance, the arrays staying arrays in param_groups."""
    ours_, theirs_ = run_trajectory(config_id, name, kwargs, torch_kwargs=torch_kwargs)
    group, torch_group = ours_.optimizer.param_groups[0], theirs_.optimizer.param_groups[0]
    assert isinstance(group["lr"], np.ndarray) == isinstance(torch_group["lr"], torch.Tensor)
    assert {k: v for k, v in group.items() if k in ("foreach", "fused")} == \
        {k: v for k, v in torch_group.items() if k in ("foreach", "fused")}


def test_float32_arrays_round_the_scalars_in_torch_only():
    """A float32 tensor lr and betas make torch compute Adam's bias corrections and step size
    in float32; scratch reads every array as the Python float it holds. The trajectories then
    agree to float32 rounding of those scalars (measured: 7e-6 relative), not to float64's."""
    kwargs = {"lr": np.array(0.01, np.float32), "betas": np.array([0.8, 0.99], np.float32)}
    torch_kwargs = {"lr": torch.tensor(0.01), "betas": torch.tensor([0.8, 0.99])}
    run_trajectory("Adam float32 lr and betas", "Adam", kwargs, torch_kwargs=torch_kwargs,
                   rtol=1e-4, atol=1e-5)
    with pytest.raises(AssertionError, match="differ beyond"):
        run_trajectory("Adam float32 lr and betas", "Adam", kwargs, torch_kwargs=torch_kwargs, record=False)


@pytest.mark.parametrize("name", NAMES)
def test_zero_size_parameters_step_like_torch(name):
    """An empty parameter beside a full one: both step, with empty buffers of its shape."""
    p, q = Parameter(np.zeros((0, 3))), Parameter(np.ones(3))
    tp = nn.Parameter(torch.zeros(0, 3, dtype=torch.float64))
    tq = nn.Parameter(torch.ones(3, dtype=torch.float64))
    opt, torch_opt = getattr(optim, name)([p, q], lr=0.1), getattr(torch_optim, name)([tp, tq], lr=0.1)
    for step in range(3):
        p.grad, q.grad = np.zeros((0, 3)), np.full(3, 0.5 + step)
        tp.grad = torch.zeros(0, 3, dtype=torch.float64)
        tq.grad = torch.full((3,), 0.5 + step, dtype=torch.float64)
        opt.step()
        torch_opt.step()
    assert p.data.shape == (0, 3)
    np.testing.assert_allclose(q.data, tq.detach().numpy(), rtol=1e-12)
    state, torch_state = opt.state_dict()["state"], torch_opt.state_dict()["state"]
    assert {i: {k: v.shape for k, v in s.items()} for i, s in state.items()} == \
        {i: {k: tuple(v.shape) for k, v in s.items()} for i, s in torch_state.items()}


def test_zero_grad_set_to_none_false_is_torchs():
    p, tp = Parameter(np.ones(3)), nn.Parameter(torch.ones(3, dtype=torch.float64))
    p.grad, tp.grad = np.full(3, 2.0), torch.full((3,), 2.0, dtype=torch.float64)
    optim.SGD([p], lr=0.1).zero_grad(set_to_none=False)
    torch_optim.SGD([tp], lr=0.1).zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad, tp.grad.numpy())
    assert p.grad.shape == (3,) and not p.grad.any()


# -- what both refuse ---------------------------------------------------------------------
BAD_HYPERPARAMETERS = [
    ("SGD", {"lr": -0.1}, "lr"),
    ("SGD", {"momentum": -0.5}, "momentum"),
    ("SGD", {"weight_decay": -1e-4}, "weight_decay"),
    ("SGD", {"nesterov": True}, "nesterov"),                              # without momentum
    ("SGD", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "nesterov"),
    ("Adam", {"lr": -1e-3}, "lr"),
    ("Adam", {"eps": -1e-8}, "eps"),
    ("Adam", {"betas": (1.0, 0.999)}, r"betas\[0\]"),
    ("Adam", {"betas": (-0.1, 0.999)}, r"betas\[0\]"),
    ("Adam", {"betas": (0.9, 1.0)}, r"betas\[1\]"),
    ("Adam", {"weight_decay": -0.1}, "weight_decay"),
    ("AdamW", {"betas": (0.9, 1.5)}, r"betas\[1\]"),
    ("AdamW", {"weight_decay": -0.01}, "weight_decay"),
    ("Adadelta", {"rho": 1.1}, "rho"),
    ("Adadelta", {"lr": -1.0}, "lr"),
    ("Adadelta", {"eps": -1e-6}, "eps"),
    ("Adadelta", {"weight_decay": -0.1}, "weight_decay"),
]


@pytest.mark.parametrize(("name", "kwargs", "arg"), BAD_HYPERPARAMETERS)
def test_bad_hyperparameters_are_refused_like_torch(name, kwargs, arg):
    with pytest.raises(ValueError, match=rf"{name}: {arg}"):
        getattr(optim, name)([Parameter(np.zeros(3))], **kwargs)
    with pytest.raises(ValueError):
        getattr(torch_optim, name)([nn.Parameter(torch.zeros(3))], **kwargs)


EDGE_HYPERPARAMETERS = [
    ("SGD", {"lr": 0.0, "momentum": 0.0, "weight_decay": 0.0}),
    ("SGD", {"momentum": 0.9, "dampening": 1.0}),
    ("SGD", {"momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": float("nan"), "momentum": float("nan")}),      # torch compares lr < 0.0
    ("SGD", {"momentum": 0.9, "dampening": -1.0}),                # torch checks no range
    ("Adam", {"lr": 0.0, "betas": (0.0, 0.0), "eps": 0.0}),
    ("Adadelta", {"rho": 1.0, "eps": 0.0}),
    ("Adadelta", {"rho": 0.0}),
    ("RMSprop", {"alpha": 2.0, "momentum": 0.0, "eps": 0.0}),     # torch: alpha ≥ 0 only
    ("Adagrad", {"lr_decay": 0.0, "initial_accumulator_value": 0.0, "eps": 0.0}),
]


@pytest.mark.parametrize(("name", "kwargs"), EDGE_HYPERPARAMETERS)
def test_edge_hyperparameters_are_accepted_like_torch(name, kwargs):
    getattr(optim, name)([Parameter(np.zeros(3))], **kwargs)
    getattr(torch_optim, name)([nn.Parameter(torch.zeros(3))], **kwargs)


def test_bad_params_are_refused_like_torch():
    p, q = Parameter(np.zeros(3)), Parameter(np.zeros(2))
    tp, tq = nn.Parameter(torch.zeros(3)), nn.Parameter(torch.zeros(2))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError):
        torch_optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="got a Parameter"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError):
        torch_optim.SGD(tp, lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Parameters, got ndarray"):
        optim.SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(TypeError):
        torch_optim.SGD([torch.zeros(3).numpy()], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [p, q]}, {"params": [q]}], lr=0.1)
    with pytest.raises(ValueError):
        torch_optim.SGD([{"params": [tp, tq]}, {"params": [tq]}], lr=0.1)


S, T = optim, torch.optim
REFUSED = [
    # moved from test_reliability.py
    refusal("SGD-negative-lr", lambda: S.SGD(ours(), lr=-0.1), lambda: T.SGD(theirs(), lr=-0.1),
            ValueError, "SGD: lr must be >= 0", "got -0.1"),
    refusal("SGD-negative-momentum", lambda: S.SGD(ours(), lr=0.1, momentum=-1),
            lambda: T.SGD(theirs(), lr=0.1, momentum=-1), ValueError, "SGD: momentum must be >= 0", "got -1"),
    refusal("SGD-negative-weight_decay", lambda: S.SGD(ours(), lr=0.1, weight_decay=-1),
            lambda: T.SGD(theirs(), lr=0.1, weight_decay=-1),
            ValueError, "SGD: weight_decay must be >= 0", "got -1"),
    refusal("SGD-nesterov-without-momentum", lambda: S.SGD(ours(), lr=0.1, nesterov=True),
            lambda: T.SGD(theirs(), lr=0.1, nesterov=True),
            ValueError, "SGD: nesterov needs momentum > 0 and dampening = 0", "got momentum=0"),
    refusal("SGD-empty-params", lambda: S.SGD([], lr=0.1), lambda: T.SGD([], lr=0.1),
            ValueError, "SGD: got an empty parameter list"),
    refusal("SGD-module-as-params", lambda: S.SGD(Linear(2, 2), lr=0.1),
            lambda: T.SGD(nn.Linear(2, 2), lr=0.1),
            TypeError, "SGD: params must be an iterable of Parameters or of dicts", "got a Linear",
            "(pass model.parameters())"),
    refusal("SGD-lr-str", lambda: S.SGD(ours(), lr="0.1"), lambda: T.SGD(theirs(), lr="0.1"),
            TypeError, "SGD: lr must be a number", "got '0.1'"),
    refusal("Adam-negative-lr", lambda: S.Adam(ours(), lr=-0.1), lambda: T.Adam(theirs(), lr=-0.1),
            ValueError, "Adam: lr must be >= 0", "got -0.1"),
    refusal("Adam-nan-lr", lambda: S.Adam(ours(), lr=float("nan")), lambda: T.Adam(theirs(), lr=float("nan")),
            ValueError, "Adam: lr must be >= 0", "got nan"),
    refusal("Adam-negative-eps", lambda: S.Adam(ours(), eps=-1), lambda: T.Adam(theirs(), eps=-1),
            ValueError, "Adam: eps must be >= 0", "got -1"),
    refusal("Adam-beta1-1", lambda: S.Adam(ours(), betas=(1.0, 0.999)),
            lambda: T.Adam(theirs(), betas=(1.0, 0.999)),
            ValueError, "Adam: betas[0] must be in [0, 1)", "got 1.0"),
    refusal("Adam-beta2-negative", lambda: S.Adam(ours(), betas=(0.9, -0.1)),
            lambda: T.Adam(theirs(), betas=(0.9, -0.1)),
            ValueError, "Adam: betas[1] must be in [0, 1)", "got -0.1"),
    refusal("Adam-negative-weight_decay", lambda: S.Adam(ours(), weight_decay=-1),
            lambda: T.Adam(theirs(), weight_decay=-1),
            ValueError, "Adam: weight_decay must be >= 0", "got -1"),
    refusal("Adam-one-beta", lambda: S.Adam(ours(), betas=(0.9,)), lambda: T.Adam(theirs(), betas=(0.9,)),
            (ValueError, TypeError), "Adam: betas must be a pair (beta1, beta2)", "got (0.9,)"),
    refusal("AdamW-negative-lr", lambda: S.AdamW(ours(), lr=-0.1), lambda: T.AdamW(theirs(), lr=-0.1),
            ValueError, "AdamW: lr must be >= 0", "got -0.1"),
    refusal("AdamW-beta1-above-1", lambda: S.AdamW(ours(), betas=(1.5, 0.999)),
            lambda: T.AdamW(theirs(), betas=(1.5, 0.999)),
            ValueError, "AdamW: betas[0] must be in [0, 1)", "got 1.5"),
    refusal("AdamW-negative-weight_decay", lambda: S.AdamW(ours(), weight_decay=-0.01),
            lambda: T.AdamW(theirs(), weight_decay=-0.01),
            ValueError, "AdamW: weight_decay must be >= 0", "got -0.01"),
    # argument forms: an array holds one number, betas are both floats or both arrays
    refusal("SGD-lr-two-elements", lambda: S.SGD(ours(), lr=np.array([0.1, 0.2])),
            lambda: T.SGD(theirs(), lr=torch.tensor([0.1, 0.2])),
            ValueError, "SGD: lr must be a number or a 1-element array", "shape (2,)"),
    refusal("Adam-lr-two-elements", lambda: S.Adam(ours(), lr=np.array([0.1, 0.2])),
            lambda: T.Adam(theirs(), lr=torch.tensor([0.1, 0.2])),
            ValueError, "Adam: lr must be a number or a 1-element array", "shape (2,)"),
    refusal("SGD-weight_decay-two-elements", lambda: S.SGD(ours(), lr=0.1, weight_decay=np.array([0.1, 0.2])),
            lambda: T.SGD(theirs(), lr=0.1, weight_decay=torch.tensor([0.1, 0.2])),
            ValueError, "SGD: weight_decay must be a number or a 1-element array", "shape (2,)"),
    refusal("Adam-lr-str", lambda: S.Adam(ours(), lr="0.1"), lambda: T.Adam(theirs(), lr="0.1"),
            TypeError, "Adam: lr must be a number", "got '0.1'"),
    refusal("Adam-betas-int-and-float", lambda: S.Adam(ours(), betas=(0, 0.999)),
            lambda: T.Adam(theirs(), betas=(0, 0.999)),
            ValueError, "Adam: betas must be both floats or both 1-element arrays", "got (0, 0.999)"),
    refusal("Adam-betas-float-and-array", lambda: S.Adam(ours(), betas=(0.9, np.array(0.999))),
            lambda: T.Adam(theirs(), betas=(0.9, torch.tensor(0.999))),
            ValueError, "Adam: betas must be both floats or both 1-element arrays"),
    refusal("Adam-beta-two-elements", lambda: S.Adam(ours(), betas=(np.array([0.9, 0.8]), np.array(0.999))),
            lambda: T.Adam(theirs(), betas=(torch.tensor([0.9, 0.8]), torch.tensor(0.999))),
            ValueError, "Adam: betas[0] must be a number or a 1-element array", "shape (2,)"),
    refusal("SGD-dampening-str", lambda: S.SGD(ours(), lr=0.1, momentum=0.9, dampening="0"),
            lambda: torch_steps(T.SGD(theirs(), lr=0.1, momentum=0.9, dampening="0")),
            TypeError, "SGD: dampening must be a number", "got '0'"),
    # torch's implementation switches
    refusal("SGD-fused-and-foreach", lambda: S.SGD(ours(), lr=0.1, fused=True, foreach=True),
            lambda: T.SGD(theirs(), lr=0.1, fused=True, foreach=True),
            ValueError, "SGD: fused and foreach cannot both be True"),
    refusal("Adam-fused-and-foreach", lambda: S.Adam(ours(), fused=True, foreach=True),
            lambda: T.Adam(theirs(), fused=True, foreach=True), ValueError, "Adam: fused and foreach"),
    refusal("Adam-capturable", lambda: S.Adam(ours(), capturable=True),
            lambda: torch_steps(T.Adam(theirs(), capturable=True)),
            ValueError, "Adam: capturable=True", "CUDA"),
    refusal("RMSprop-capturable", lambda: S.RMSprop(ours(), capturable=True),
            lambda: torch_steps(T.RMSprop(theirs(), capturable=True)),
            ValueError, "RMSprop: capturable=True"),
    refusal("Adadelta-capturable", lambda: S.Adadelta(ours(), capturable=True),
            lambda: torch_steps(T.Adadelta(theirs(), capturable=True)),
            ValueError, "Adadelta: capturable=True"),
    refusal("SGD-differentiable", lambda: S.SGD(ours(), lr=0.1, differentiable=True),
            lambda: torch_steps(T.SGD(theirs(), lr=0.1, differentiable=True)),
            ValueError, "SGD: differentiable=True", "no autograd"),
    refusal("Adagrad-differentiable", lambda: S.Adagrad(ours(), differentiable=True),
            lambda: torch_steps(T.Adagrad(theirs(), differentiable=True)),
            ValueError, "Adagrad: differentiable"),
    refusal("Adam-array-lr-with-foreach", lambda: S.Adam(ours(), lr=np.array(0.01), foreach=True),
            lambda: T.Adam(theirs(), lr=torch.tensor(0.01), foreach=True),
            ValueError, "Adam: lr and betas cannot be arrays with foreach=True"),
    refusal("AdamW-array-betas-with-foreach",
            lambda: S.AdamW(ours(), betas=(np.array(0.9), np.array(0.99)), foreach=True),
            lambda: T.AdamW(theirs(), betas=(torch.tensor(0.9), torch.tensor(0.99)), foreach=True),
            ValueError, "AdamW: lr and betas cannot be arrays with foreach=True"),
    refusal("SGD-capturable-keyword", lambda: S.SGD(ours(), lr=0.1, capturable=False),
            lambda: T.SGD(theirs(), lr=0.1, capturable=False), TypeError, "capturable"),
    refusal("Adadelta-fused-keyword", lambda: S.Adadelta(ours(), fused=False),
            lambda: T.Adadelta(theirs(), fused=False), TypeError, "fused"),
]
test_scratch_refuses, test_torch_agrees = refusal_tests(REFUSED)

STRICTER = [
    stricter("SGD-lr-bool", lambda: S.SGD(ours(), lr=True), lambda: T.SGD(theirs(), lr=True),
             TypeError, "SGD: lr must be a number", "got True"),
    stricter("Adam-lr-bool", lambda: S.Adam(ours(), lr=True), lambda: T.Adam(theirs(), lr=True),
             TypeError, "Adam: lr must be a number", "got True"),
    stricter("zero_grad-set_to_none", lambda: S.SGD(ours(), lr=0.1).zero_grad(set_to_none=True),
             lambda: T.SGD(theirs(), lr=0.1).zero_grad(set_to_none=True),
             ValueError, "SGD: zero_grad(set_to_none=True) is not supported", "adds into .grad"),
    stricter("Adam-three-betas", lambda: S.Adam(ours(), betas=(0.9, 0.999, 0.5)),   # torch drops the third
             lambda: T.Adam(theirs(), betas=(0.9, 0.999, 0.5)),
             ValueError, "Adam: betas must be a pair (beta1, beta2)", "got (0.9, 0.999, 0.5)"),
]
test_scratch_stricter, test_torch_accepts = refusal_tests(STRICTER)
