"""Optimizers: scratch/optim.py against torch_ref/optim.py (torch.optim).

The core is trajectory parity. Both twins train the same small model (two Linear layers,
6 → 5 → 3, mean squared error on fixed random data: a non-convex problem whose gradient
changes at every step) from the same initial weights, the scratch side with its own forward
and backward, the torch side with autograd. After *every* one of 150 steps the parameters
must agree at float64 tolerance (rtol 1e-7, atol 1e-10), for every optimizer configuration
and for SGD and Adam under every scheduler. Each trajectory test records its largest
deviation; ``pytest -s parity_tests/test_optim.py`` prints the table at the end.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from parity_tests.helpers import TORCH_DTYPES, assert_close, tolerance
from scratch import lr_scheduler, optim
from scratch.linear import Linear
from scratch.module import Parameter, Sequential
from torch_ref import lr_scheduler as torch_lr_scheduler
from torch_ref import optim as torch_optim
from torch_ref.linear import Linear as TorchLinear

STEPS = 150
N, IN, HIDDEN, OUT = 32, 6, 5, 3

# config id -> (steps, largest |scratch − torch|, largest |scratch − torch| / |torch|)
DEVIATIONS: dict[str, tuple[int, float, float]] = {}


@pytest.fixture(scope="module", autouse=True)
def deviation_table():
    yield
    if DEVIATIONS:
        print("\n\nTrajectory parity: largest deviation from torch over every step (float64 unless noted)")
        print(f"{'configuration':<44} {'steps':>5} {'max abs':>10} {'max rel':>10}")
        for name, (steps, worst_abs, worst_rel) in DEVIATIONS.items():
            print(f"{name:<44} {steps:>5} {worst_abs:>10.2e} {worst_rel:>10.2e}")


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


class Recorder:
    """Compares parameters after a step and keeps the largest deviation seen."""

    def __init__(self, dtype):
        self.dtype = dtype
        self.worst_abs = 0.0
        self.worst_rel = 0.0
        self.steps = 0

    def compare(self, model, torch_model, where: str) -> None:
        torch_params = dict(torch_model.named_parameters())
        names = [n for n, _ in model.named_parameters()]
        assert set(torch_params) == set(names)
        ours = np.concatenate([p.data.ravel() for p in model.parameters()]).astype(np.float64)
        theirs = np.concatenate([torch_params[n].detach().numpy().ravel() for n in names]).astype(np.float64)
        tol = tolerance(self.dtype)
        error = np.abs(ours - theirs)
        if not np.all(error <= tol["atol"] + tol["rtol"] * np.abs(theirs)):   # isclose, all at once
            for name, param in model.named_parameters():                       # then say where
                assert_close(param.data, torch_params[name], f"{name} {where}", dtype=self.dtype)
        big = np.abs(theirs) >= tol["atol"]
        self.worst_abs = max(self.worst_abs, float(error.max()))
        self.worst_rel = max(self.worst_rel, float((error[big] / np.abs(theirs[big])).max()))

    def save(self, name: str) -> None:
        DEVIATIONS[name] = (self.steps, self.worst_abs, self.worst_rel)


def compare_groups(optimizer, torch_optimizer, where: str) -> None:
    """The hyper-parameters a scheduler rewrites must be torch's to the bit."""
    for i, (group, torch_group) in enumerate(zip(optimizer.param_groups, torch_optimizer.param_groups,
                                                 strict=True)):
        for key in ("lr", "momentum", "betas"):
            if key in torch_group:
                assert group[key] == torch_group[key], (
                    f"group {i} {key} {where}: scratch {group[key]!r}, torch {torch_group[key]!r}"
                )


def run_trajectory(config_id, name, kwargs, group_overrides=None, scheduler=None, steps=STEPS,
                   dtype=np.float64, record=True):
    """Train both twins in lockstep; compare parameters (and scheduled rates) after every step."""
    model, torch_model, x, target = make_models(dtype)
    opt = build(optim, name, model, kwargs, group_overrides)
    torch_opt = build(torch_optim, name, torch_model, kwargs, group_overrides)
    sched = torch_sched = None
    if scheduler is not None:
        sched_name, sched_kwargs = scheduler
        sched = getattr(lr_scheduler, sched_name)(opt, **sched_kwargs)
        torch_sched = getattr(torch_lr_scheduler, sched_name)(torch_opt, **sched_kwargs)
    recorder = Recorder(dtype)
    for step in range(1, steps + 1):
        opt.zero_grad()
        scratch_loss_backward(model, x, target)
        opt.step()
        torch_opt.zero_grad()
        torch_loss_backward(torch_model, x, target)
        torch_opt.step()
        if sched is not None:
            sched.step()
            torch_sched.step()
            assert sched.get_last_lr() == torch_sched.get_last_lr()
        recorder.compare(model, torch_model, f"after step {step} ({config_id})")
        compare_groups(opt, torch_opt, f"after step {step}")
        recorder.steps = step
    if record:
        recorder.save(config_id if dtype == np.float64 else f"{config_id} [{np.dtype(dtype).name}]")
    return model, torch_model


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
    model, _ = run_trajectory(config_id, name, kwargs, steps=50, dtype=np.float32)
    for name_, param in model.named_parameters():
        assert param.data.dtype == np.float32, name_


def test_float32_state_and_in_place_updates(rng):
    """The arrays the model holds are the ones updated; no buffer is widened to float64."""
    for name, kwargs in [("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1}),
                         ("Adam", {"amsgrad": True, "weight_decay": 0.1}), ("AdamW", {}), ("Adadelta", {})]:
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


# -- state_dict: layout, round trip, and across the twins ---------------------------------
ROUND_TRIP_CONFIGS = [
    ("SGD", {"lr": 0.02, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01}),
    ("AdamW", {"lr": 0.01}),
    ("Adadelta", {"weight_decay": 0.01}),
]


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


@pytest.mark.parametrize(("name", "kwargs"), ROUND_TRIP_CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in
                                                                      enumerate(ROUND_TRIP_CONFIGS)])
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


@pytest.mark.parametrize(("name", "kwargs"), ROUND_TRIP_CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in
                                                                      enumerate(ROUND_TRIP_CONFIGS)])
def test_state_dict_layout_matches_torch(name, kwargs):
    """The same indices, buffers and hyper-parameters as torch's state_dict after 5 steps."""
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
    torch_only = {"foreach", "fused", "capturable", "differentiable"}
    for group, torch_group in zip(ours["param_groups"], theirs["param_groups"], strict=True):
        assert set(torch_group) - set(group) <= torch_only
        assert set(group) <= set(torch_group)
        for key, value in group.items():
            assert value == torch_group[key], f"param_groups {key}: {value!r} != {torch_group[key]!r}"


@pytest.mark.parametrize(("name", "kwargs"), ROUND_TRIP_CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in
                                                                      enumerate(ROUND_TRIP_CONFIGS)])
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


def test_named_parameters_are_kept_in_param_names():
    model, torch_model, _, _ = make_models()
    opt = optim.Adam(model.named_parameters())
    torch_opt = torch_optim.Adam(torch_model.named_parameters())
    assert opt.state_dict()["param_groups"][0]["param_names"] == \
        torch_opt.state_dict()["param_groups"][0]["param_names"]


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
    ("Adam", {"lr": 0.0, "betas": (0.0, 0.0), "eps": 0.0}),
    ("Adadelta", {"rho": 1.0, "eps": 0.0}),
    ("Adadelta", {"rho": 0.0}),
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


# -- the rest of the interface ------------------------------------------------------------
def test_parameters_without_gradient_are_skipped_like_torch():
    """grad None: no step at all (no decay, Adam's step count does not move), as in torch."""
    model, torch_model, x, target = make_models()
    kwargs = {"lr": 0.01, "weight_decay": 0.1}
    opt = optim.Adam(model.parameters(), **kwargs)
    torch_opt = torch_optim.Adam(torch_model.parameters(), **kwargs)
    recorder = Recorder(np.float64)
    for step in range(1, 41):
        opt.zero_grad()
        scratch_loss_backward(model, x, target)
        torch_opt.zero_grad()
        torch_loss_backward(torch_model, x, target)
        if step % 3 == 0:
            model[1].bias.grad = None
            torch_model[1].bias.grad = None
        opt.step()
        torch_opt.step()
        recorder.compare(model, torch_model, f"after step {step}")
    assert float(opt.state[model[1].bias]["step"]) == 40 - 13
    assert float(opt.state[model[0].bias]["step"]) == 40


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


def test_repr_lists_the_groups_like_torch():
    p = Parameter(np.zeros(3))
    text = repr(optim.SGD([p], lr=0.1, momentum=0.9))
    torch_text = repr(torch_optim.SGD([nn.Parameter(torch.zeros(3))], lr=0.1, momentum=0.9))
    for line in ("SGD (", "Parameter Group 0", "    lr: 0.1", "    momentum: 0.9"):
        assert line in text and line in torch_text
