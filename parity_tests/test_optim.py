"""Optimizers: scratch/optim.py against torch_ref/optim.py (torch.optim): trajectories.

The core is trajectory parity, through parity_tests/trajectory.py: both twins train the same
small model from the same initial weights, and after *every* one of 150 steps the parameters
must agree at float64 tolerance (rtol 1e-7, atol 1e-10), for every optimizer configuration and
for SGD and Adam under every scheduler. ``pytest -s parity_tests/test_optim.py`` prints each
trajectory's largest deviation at the end. Checkpoints are in test_optim_checkpoints.py, the
arguments both twins take or refuse in test_optim_arguments.py, RMSprop and Adagrad in
test_optim_rmsprop_adagrad.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from parity_tests.helpers import BIG, DTYPES, NONFINITE, assert_close, extreme_vector
from parity_tests.trajectory import (
    STEPS,
    Recorder,
    Side,
    lockstep,
    make_models,
    print_deviations,
    run_trajectory,
    scratch_loss_backward,
    torch_loss_backward,
)
from scratch import lr_scheduler, optim
from scratch.module import Parameter
from torch_ref import optim as torch_optim


@pytest.fixture(scope="module", autouse=True)
def deviation_table():
    yield
    print_deviations()


# -- trajectory parity: every optimizer configuration -------------------------------------
OPTIMIZER_CONFIGS = [
    # (id, optimizer, kwargs, per-group overrides for (weights, biases) or None)
    ("SGD plain", "SGD", {"lr": 0.05}, None),
    ("SGD momentum", "SGD", {"lr": 0.02, "momentum": 0.9}, None),
    ("SGD momentum+dampening", "SGD", {"lr": 0.02, "momentum": 0.9, "dampening": 0.3}, None),
    ("SGD nesterov", "SGD", {"lr": 0.02, "momentum": 0.9, "nesterov": True}, None),
    ("SGD weight_decay", "SGD", {"lr": 0.05, "weight_decay": 0.1}, None),
    ("SGD momentum+weight_decay", "SGD", {"lr": 0.02, "momentum": 0.8, "weight_decay": 0.05}, None),
    ("SGD maximize", "SGD", {"lr": 0.002, "momentum": 0.5, "maximize": True}, None),
    ("SGD param groups", "SGD", {"lr": 0.02, "momentum": 0.9},
     ({"lr": 0.05}, {"momentum": 0.5, "weight_decay": 0.01})),
    ("Adam", "Adam", {"lr": 0.01}, None),
    ("Adam amsgrad", "Adam", {"lr": 0.01, "amsgrad": True}, None),
    ("Adam weight_decay (L2)", "Adam", {"lr": 0.01, "weight_decay": 0.1}, None),
    ("Adam betas+eps", "Adam", {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-3}, None),
    ("Adam maximize", "Adam", {"lr": 0.001, "maximize": True}, None),
    ("Adam param groups", "Adam", {"lr": 0.01}, ({"amsgrad": True}, {"lr": 0.003})),
    ("AdamW (default weight_decay)", "AdamW", {"lr": 0.01}, None),
    ("AdamW amsgrad weight_decay=0.1", "AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}, None),
    ("Adadelta", "Adadelta", {}, None),
    ("Adadelta weight_decay rho", "Adadelta", {"lr": 0.5, "rho": 0.95, "weight_decay": 0.01}, None),
]


@pytest.mark.parametrize(("config_id", "name", "kwargs", "groups"), OPTIMIZER_CONFIGS,
                         ids=[c[0] for c in OPTIMIZER_CONFIGS])
def test_trajectory_parity(config_id, name, kwargs, groups):
    run_trajectory(config_id, name, kwargs, groups)


SCHEDULER_CONFIGS = [
    # (id, optimizer, kwargs, (scheduler, kwargs)), stepped once per optimizer step
    ("StepLR on SGD momentum", "SGD", {"lr": 0.05, "momentum": 0.9},
     ("StepLR", {"step_size": 30, "gamma": 0.5})),
    ("StepLR on Adam", "Adam", {"lr": 0.02}, ("StepLR", {"step_size": 30, "gamma": 0.5})),
    ("CosineAnnealingLR on SGD momentum", "SGD", {"lr": 0.05, "momentum": 0.9},
     ("CosineAnnealingLR", {"T_max": 30, "eta_min": 0.001})),
    ("CosineAnnealingLR on Adam", "Adam", {"lr": 0.02}, ("CosineAnnealingLR", {"T_max": 30})),
    ("CosineAnnealingLR on AdamW", "AdamW", {"lr": 0.02},
     ("CosineAnnealingLR", {"T_max": 40, "eta_min": 1e-4})),
    ("OneCycleLR on SGD (momentum cycled)", "SGD", {"lr": 0.01, "momentum": 0.9},
     ("OneCycleLR", {"max_lr": 0.1, "total_steps": STEPS})),
    ("OneCycleLR on Adam (beta1 cycled)", "Adam", {"lr": 0.01},
     ("OneCycleLR", {"max_lr": 0.05, "total_steps": STEPS})),
    ("OneCycleLR three_phase linear on SGD", "SGD", {"lr": 0.01, "momentum": 0.9, "nesterov": True},
     ("OneCycleLR", {"max_lr": 0.1, "epochs": 3, "steps_per_epoch": 50, "three_phase": True,
                     "anneal_strategy": "linear"})),
    ("OneCycleLR on SGD, momentum not cycled", "SGD", {"lr": 0.01},
     ("OneCycleLR", {"max_lr": 0.1, "total_steps": STEPS, "cycle_momentum": False})),
    ("StepLR on Adadelta", "Adadelta", {}, ("StepLR", {"step_size": 25, "gamma": 0.7})),
    ("OneCycleLR three_phase on Adam (beta1 cycled)", "Adam", {"lr": 0.01, "amsgrad": True},
     ("OneCycleLR", {"max_lr": 0.05, "total_steps": STEPS, "three_phase": True})),
]


@pytest.mark.parametrize(("config_id", "name", "kwargs", "scheduler"), SCHEDULER_CONFIGS,
                         ids=[c[0] for c in SCHEDULER_CONFIGS])
def test_trajectory_parity_with_scheduler(config_id, name, kwargs, scheduler):
    run_trajectory(config_id, name, kwargs, scheduler=scheduler)


def test_trajectory_parity_param_groups_with_one_cycle():
    """Per-group max_lr and momentum bounds, as lists."""
    run_trajectory("OneCycleLR per-group lists on SGD", "SGD", {"lr": 0.01, "momentum": 0.9},
                   group_overrides=({}, {"lr": 0.02}),
                   scheduler=("OneCycleLR", {"max_lr": [0.1, 0.05], "total_steps": STEPS,
                                             "base_momentum": [0.8, 0.85], "max_momentum": [0.9, 0.95]}))


FLOAT32_CONFIGS = [
    ("SGD momentum", "SGD", {"lr": 0.02, "momentum": 0.9}),
    ("Adam amsgrad", "Adam", {"lr": 0.01, "amsgrad": True}),
    ("AdamW", "AdamW", {"lr": 0.01}),
    ("Adadelta", "Adadelta", {}),
]


@pytest.mark.parametrize(("config_id", "name", "kwargs"), FLOAT32_CONFIGS,
                         ids=[c[0] for c in FLOAT32_CONFIGS])
def test_trajectory_parity_float32(config_id, name, kwargs):
    """float32 stays float32 (parameters, gradients and every buffer), and tracks torch."""
    ours, _ = run_trajectory(config_id, name, kwargs, steps=50, dtype=np.float32)
    for name_, param in ours.model.named_parameters():
        assert param.data.dtype == np.float32, name_


def test_float32_state_and_in_place_updates(rng):
    """The arrays the model holds are the ones updated; no buffer is widened to float64."""
    for name, kwargs in [("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1}),
                         ("Adam", {"amsgrad": True, "weight_decay": 0.1}), ("AdamW", {}), ("Adadelta", {}),
                         ("RMSprop", {"momentum": 0.5, "centered": True, "weight_decay": 0.1}),
                         ("Adagrad", {"lr_decay": 0.1, "weight_decay": 0.1})]:
        param = Parameter(rng.standard_normal((3, 4)).astype(np.float32))
        data = param.data
        opt = getattr(optim, name)([param], **kwargs)
        for _ in range(3):
            param.grad = rng.standard_normal((3, 4)).astype(np.float32)
            opt.step()
        assert param.data is data, f"{name} replaced param.data instead of updating it"
        assert param.data.dtype == np.float32
        for key, value in opt.state[param].items():
            expected = np.float32 if key == "step" else param.dtype
            assert value.dtype == expected, f"{name} state {key} is {value.dtype}"


def test_parameters_without_gradient_are_skipped_like_torch():
    """grad None: no step at all (no decay, Adam's step count does not move), as in torch."""
    model, torch_model, x, target = make_models()
    kwargs = {"lr": 0.01, "weight_decay": 0.1}

    def backward(m, loss_backward):
        def run(step):
            loss_backward(m, x, target)
            if step % 3 == 0:
                m[1].bias.grad = None
        return run

    ours = Side(optim.Adam(model.parameters(), **kwargs), model=model,
                backward=backward(model, scratch_loss_backward))
    theirs = Side(torch_optim.Adam(torch_model.parameters(), **kwargs), model=torch_model,
                  backward=backward(torch_model, torch_loss_backward))
    lockstep(ours, theirs, 40)
    assert float(ours.optimizer.state[model[1].bias]["step"]) == 40 - 13
    assert float(ours.optimizer.state[model[0].bias]["step"]) == 40


# -- extreme and non-finite gradients -----------------------------------------------------
NUMERICS = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1, "nesterov": True}),
    ("Adam", {"amsgrad": True, "weight_decay": 0.1}),
    ("AdamW", {}),
    ("Adadelta", {"weight_decay": 0.1}),
    ("RMSprop", {"momentum": 0.5, "weight_decay": 0.1}),
    ("RMSprop", {"centered": True}),
    ("Adagrad", {"lr_decay": 0.1}),
]


def three_steps(name, kwargs, grad):
    """Both twins, three steps with the same gradient, from the same parameters."""
    p = Parameter(np.linspace(-1, 1, grad.size).astype(grad.dtype))
    tp = nn.Parameter(torch.from_numpy(p.data.copy()))
    opt, torch_opt = getattr(optim, name)([p], **kwargs), getattr(torch_optim, name)([tp], **kwargs)
    for _ in range(3):
        p.grad, tp.grad = grad.copy(), torch.from_numpy(grad.copy())
        opt.step()
        torch_opt.step()
    return p.data, tp.detach().numpy()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("name", "kwargs"), NUMERICS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(NUMERICS)])
def test_nan_and_inf_gradients_propagate_as_torch(name, kwargs, dtype):
    """NaN and ±inf in a gradient reach the same parameters as in torch, without a warning
    (pytest turns RuntimeWarning into an error); NaN positions are compared too."""
    ours, theirs = three_steps(name, kwargs, NONFINITE.astype(dtype))
    assert_close(ours, theirs, f"{name} after NaN and inf gradients", dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("name", "kwargs"), NUMERICS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(NUMERICS)])
def test_extreme_finite_gradients_as_torch(name, kwargs, dtype):
    """Gradients up to the dtype's largest values: g² overflows to inf in both twins, without
    a warning. One difference, asserted as such: centered RMSprop's v − ḡ² where both v and
    ḡ² overflow is inf in torch, whose CPU kernel fuses the multiply and add (ḡ² is never
    rounded to inf), and inf − inf = NaN in NumPy, which has no fused multiply-add."""
    grad = extreme_vector(dtype)
    ours, theirs = three_steps(name, kwargs, grad)
    if kwargs.get("centered"):
        huge = np.abs(grad) == BIG[dtype]
        assert np.isnan(ours[huge]).all() and np.isfinite(theirs[huge]).all()
        ours, theirs = ours[~huge], theirs[~huge]
    assert_close(ours, theirs, f"{name} after extreme gradients", dtype=dtype)


# -- torch's momentum against the textbook's ---------------------------------------------
def classical_momentum_run(lrs, momentum, steps):
    """u ← μ·u − lr·g; θ ← θ + u, written by hand on the scratch model's gradients."""
    model, _, x, target = make_models()
    velocity = {name: np.zeros_like(p.data) for name, p in model.named_parameters()}
    history = []
    for step in range(steps):
        model.zero_grad()
        scratch_loss_backward(model, x, target)
        for name, p in model.named_parameters():
            velocity[name] = momentum * velocity[name] - lrs[step] * p.grad
            p.data += velocity[name]
        history.append({n: p.data.copy() for n, p in model.named_parameters()})
    return history, velocity


def torch_form_run(momentum, steps, scheduler=None):
    model, _, x, target = make_models()
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=momentum)
    sched = lr_scheduler.StepLR(opt, **scheduler) if scheduler else None
    history, lrs = [], []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.zero_grad()
        scratch_loss_backward(model, x, target)
        opt.step()
        if sched:
            sched.step()
        history.append({n: p.data.copy() for n, p in model.named_parameters()})
    return history, lrs, opt, model


def test_sgd_momentum_equals_classical_form_at_constant_lr():
    """v_torch = −u_classic / lr: the same parameters at every step."""
    history, lrs, opt, model = torch_form_run(0.9, STEPS)
    classic, velocity = classical_momentum_run(lrs, 0.9, STEPS)
    for step, (ours, theirs) in enumerate(zip(history, classic, strict=True)):
        for name in ours:
            assert_close(ours[name], theirs[name], f"{name} at step {step + 1}, torch vs classical form")
    for name, p in model.named_parameters():
        assert_close(-0.05 * opt.state[p]["momentum_buffer"], velocity[name], f"velocity of {name}")


def test_sgd_momentum_departs_from_classical_form_when_lr_changes():
    """With StepLR cutting lr tenfold at step 50 the two forms agree up to the cut, then part."""
    history, lrs, _, _ = torch_form_run(0.9, 100, scheduler={"step_size": 50, "gamma": 0.1})
    assert lrs[49] == 0.05 and lrs[50] == pytest.approx(0.005)
    classic, _ = classical_momentum_run(lrs, 0.9, 100)
    for step in range(50):
        for name in history[step]:
            assert_close(history[step][name], classic[step][name], f"{name} at step {step + 1}")
    gap = max(np.max(np.abs(history[-1][n] - classic[-1][n]) / np.abs(classic[-1][n])) for n in history[-1])
    assert gap > 1e-3, f"the forms should differ after an lr change; largest relative gap {gap:.2e}"


# -- the tutorial's Adam (seed 002) --------------------------------------------------------
class TutorialAdam:
    """The tutorial's update, rewritten functionally: one instance per weight array."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, variant="tutorial"):
        self.lr, self.beta1, self.beta2, self.epsilon = learning_rate, beta1, beta2, epsilon
        self.m = self.v = None
        self.t = 0
        self.variant = variant

    def update(self, weights, gradients):
        if self.m is None:
            self.m = np.zeros_like(gradients)
            self.v = np.zeros_like(gradients)
        self.t += 1
        self.m = self.beta1 * self.m + (1 - self.beta1) * gradients
        self.v = self.beta2 * self.v + (1 - self.beta2) * gradients**2
        m_hat = self.m / (1 - self.beta1**self.t)
        v_hat = self.v / (1 - self.beta2**self.t)
        if self.variant == "eps inside sqrt":
            return weights - self.lr * m_hat / np.sqrt(v_hat + self.epsilon)
        if self.variant == "eps before bias correction":
            v_hat_sqrt = (np.sqrt(self.v) + self.epsilon) / np.sqrt(1 - self.beta2**self.t)
            return weights - self.lr * m_hat / v_hat_sqrt
        return weights - self.lr * m_hat / (np.sqrt(v_hat) + self.epsilon)


def tutorial_adam_gap(variant, eps):
    """Largest relative gap between the tutorial-style Adam and torch's over 150 steps."""
    model, torch_model, x, target = make_models()
    torch_opt = torch_optim.Adam(torch_model.parameters(), lr=0.01, eps=eps)
    adams = {name: TutorialAdam(0.01, epsilon=eps, variant=variant) for name, _ in model.named_parameters()}
    gap = 0.0
    for _ in range(STEPS):
        model.zero_grad()
        scratch_loss_backward(model, x, target)
        for name, p in model.named_parameters():
            p.data = adams[name].update(p.data, p.grad)      # returns new weights: rebind by hand
        torch_opt.zero_grad()
        torch_loss_backward(torch_model, x, target)
        torch_opt.step()
        for name, tp in torch_model.named_parameters():
            expected = tp.detach().numpy()
            ours = dict(model.named_parameters())[name].data
            gap = max(gap, float(np.max(np.abs(ours - expected) / np.maximum(np.abs(expected), 1e-10))))
    return gap


def test_tutorial_adam_matches_torch():
    """Its bias corrections and ε placement are torch's: the trajectories agree to rounding."""
    assert tutorial_adam_gap("tutorial", 1e-8) < 1e-7


@pytest.mark.parametrize(("variant", "eps"),
                         [("eps inside sqrt", 1e-8), ("eps before bias correction", 1e-3)])
def test_eps_placement_is_visible(variant, eps):
    """The trajectory comparison would catch ε in the wrong place: these variants fail it."""
    assert tutorial_adam_gap(variant, eps) > 1e-4


# -- the rest of the interface ------------------------------------------------------------
def test_zero_grad_and_closure():
    model, torch_model, x, target = make_models()
    opt, torch_opt = optim.SGD(model.parameters(), lr=0.1), torch_optim.SGD(torch_model.parameters(), lr=0.1)
    scratch_loss_backward(model, x, target)
    opt.zero_grad()
    assert all(p.grad.shape == p.data.shape and not p.grad.any() for p in model.parameters())

    def closure():
        opt.zero_grad()
        return scratch_loss_backward(model, x, target)

    def torch_closure():
        torch_opt.zero_grad()
        return torch_loss_backward(torch_model, x, target)

    loss, torch_loss = opt.step(closure), torch_opt.step(torch_closure)
    assert loss == pytest.approx(torch_loss.item(), rel=1e-12)
    Recorder(np.float64).compare(model, torch_model, "after a step with a closure")


def test_lr_scheduler_is_reachable_from_optim_as_in_torch():
    assert optim.lr_scheduler.StepLR is lr_scheduler.StepLR
    assert torch_optim.lr_scheduler.StepLR is torch.optim.lr_scheduler.StepLR
    assert optim.Optimizer is lr_scheduler.Optimizer           # one base class for both files


def test_repr_lists_the_groups_like_torch():
    p = Parameter(np.zeros(3))
    text = repr(optim.SGD([p], lr=0.1, momentum=0.9))
    torch_text = repr(torch_optim.SGD([nn.Parameter(torch.zeros(3))], lr=0.1, momentum=0.9))
    for line in ("SGD (", "Parameter Group 0", "    lr: 0.1", "    momentum: 0.9"):
        assert line in text and line in torch_text
