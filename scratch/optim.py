"""Optimizers: how parameters move once backward has filled their gradients.

twin: torch_ref/optim.py (torch.optim)

    model.zero_grad()                     # or optimizer.zero_grad()
    out = model(x)
    loss = criterion(out, target)
    model.backward(criterion.backward())  # fills every param.grad with ∂L/∂θ
    optimizer.step()                      # θ ← θ − lr · (a direction built from the gradients)

Every optimizer here follows torch.optim step for step: the same arguments and defaults, the
same per-group hyper-parameters (``param_groups``), the same per-parameter buffers
(``state``), the same checkpoint layout (``state_dict``), the same refusals of bad
hyper-parameters, and the same arithmetic in the same order, so a trajectory agrees with
torch's to float64 rounding over hundreds of steps.

Two rules of the house: updates happen in place on ``param.data``, so the arrays the model
holds stay the ones being trained; and float32 parameters stay float32 (hyper-parameters are
read as Python floats, which NumPy does not let widen a float32 array).

Where the tutorials go wrong: their ``SGD.update(weights, gradients)`` *returns* new weights
(``weights - lr * gradients``) instead of updating in place, so the caller must rebind every
weight array by hand and any other reference to the old array (the layer's own) silently
keeps the stale values. Their Adam keeps a single ``m`` and ``v`` array, so it needs one
optimizer object per weight array. Its arithmetic is torch's; see ``Adam``.
"""

from __future__ import annotations

import copy
import numbers
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from itertools import chain
from typing import Any

import numpy as np

from scratch.module import Module, Parameter, _to_numpy


class Optimizer:
    """Base class: parameter groups, per-parameter state, ``zero_grad``, ``step``, checkpoints.

    twin: torch.optim.Optimizer

    ``params``: an iterable of Parameters (one group), of ``(name, Parameter)`` pairs as
    ``model.named_parameters()`` yields them, or a list of dicts ``{"params": [...], **options}``
    whose options override ``defaults`` for that group (a smaller lr for the biases, say).

    ``step()`` visits every parameter that has a gradient and calls the subclass's
    ``_update(param, group)``: torch's ``_single_tensor_*`` functions, one parameter at a time.
    ``state[param]`` holds that parameter's buffers (momentum, Adam's moments: arrays of the
    parameter's shape and dtype; Adam's step counter), created on its first step, as torch's.
    """

    def __init__(self, params: Iterable, defaults: dict[str, Any]):
        self.defaults = defaults
        self.state: defaultdict[Parameter, dict[str, np.ndarray]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        name = type(self).__name__
        if isinstance(params, (Parameter, Module)):
            raise TypeError(
                f"{name}: params must be an iterable of Parameters or of dicts, got a "
                f"{type(params).__name__} (pass model.parameters())"
            )
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError(f"{name}: got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group; options it leaves out take the optimizer's defaults."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)               # a copy: the caller's dict stays theirs
        params = group["params"]
        if isinstance(params, Parameter):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(f"{name}: params must be an ordered collection (a list), not a set")
        params = list(params)
        named = [p for p in params if isinstance(p, tuple)]
        if named:
            if len(named) != len(params):
                raise ValueError(f"{name}: give all parameters with names or none")
            group["param_names"] = [n for n, _ in params]
            params = [p for _, p in params]
        for p in params:
            if not isinstance(p, Parameter):
                raise TypeError(f"{name}: can only optimize Parameters, got {type(p).__name__}")
        group["params"] = params
        for key, default in self.defaults.items():
            group.setdefault(key, default)
        if len(params) != len(set(params)):
            warnings.warn(f"{name}: a parameter group holds the same parameter twice; "
                          "it will be stepped twice", UserWarning, stacklevel=3)
        for other in self.param_groups:
            if ("param_names" in other) != ("param_names" in group):
                raise ValueError(f"{name}: give every parameter group with names or none")
            if not set(other["params"]).isdisjoint(params):
                raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self) -> None:
        """Set every gradient to zeros.

        torch's default ``zero_grad(set_to_none=True)`` leaves ``.grad`` as None instead. Here
        backward *adds* into ``.grad``, so it stays an array. The one visible difference: after
        torch's zero_grad a parameter that receives no gradient is skipped by ``step()``, while
        here it is stepped with a zero gradient (still decayed by weight_decay, still carried by
        momentum). Set ``param.grad = None`` to skip a parameter, as torch does.
        """
        for group in self.param_groups:
            for param in group["params"]:
                param.grad = np.zeros_like(param.data)

    def step(self, closure: Callable[[], float] | None = None):
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is not None:          # torch skips parameters without a gradient
                    self._update(param, group)
        self._opt_called = True                     # a scheduler stepped before us warns, as torch's
        return loss

    def _update(self, param: Parameter, group: dict[str, Any]) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _update")

    # -- checkpoints --------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """torch's checkpoint layout, with NumPy arrays where torch has tensors::

            {"state": {0: {"momentum_buffer": array}, 1: {...}},
             "param_groups": [{"lr": 0.01, "momentum": 0.9, ..., "params": [0, 1]}]}

        A parameter is named by its position, counted through the groups in order, so the
        checkpoint loads into any optimizer built the same way over the same parameters: a
        fresh scratch one, or torch's once the arrays become tensors. Arrays are copies
        (torch's are references), so the checkpoint does not change as training goes on.
        """
        index: dict[int, int] = {}
        start = 0
        param_groups = []
        for group in self.param_groups:
            packed = copy.deepcopy({k: v for k, v in group.items() if k != "params"})
            index.update({id(p): i for i, p in enumerate(group["params"], start) if id(p) not in index})
            packed["params"] = [index[id(p)] for p in group["params"]]
            start += len(packed["params"])
            param_groups.append(packed)
        state = {index[id(param)]: {k: np.array(v, copy=True) for k, v in buffers.items()}
                 for param, buffers in self.state.items()}
        return {"state": state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a checkpoint from ``state_dict()`` (scratch's, or torch's: tensors are read
        as arrays). Buffers take each parameter's dtype; hyper-parameters come from the
        checkpoint, so load it *after* building a scheduler, which rewrites ``lr``.
        """
        name = type(self).__name__
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the checkpoint has {len(saved_groups)} parameter "
                f"groups, this optimizer {len(self.param_groups)}"
            )
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {i} holds {len(saved['params'])} "
                    f"parameters in the checkpoint, {len(group['params'])} here"
                )
        params = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in self.param_groups), strict=True))
        state: defaultdict[Parameter, dict[str, np.ndarray]] = defaultdict(dict)
        for key, buffers in state_dict["state"].items():
            if key not in params:
                raise ValueError(f"{name}.load_state_dict: state for parameter {key!r}, "
                                 f"which no parameter group lists")
            param = params[key]
            for buffer_name, value in buffers.items():
                value = np.array(_to_numpy(value), copy=True)
                if buffer_name != "step" and np.issubdtype(value.dtype, np.floating):
                    value = value.astype(param.dtype)        # torch keeps "step" as saved, too
                state[param][buffer_name] = value
        for group, saved in zip(self.param_groups, saved_groups, strict=True):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
        self.state = state
        self.param_groups = saved_groups

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group)
                         if key not in ("params", "param_names"))
        lines.append(")")
        return "\n".join(lines)


def _new_step() -> np.ndarray:
    """The step counter as torch keeps it (a float32 scalar), so checkpoints convert one to one."""
    return np.array(0.0, dtype=np.float32)


class SGD(Optimizer):
    """Stochastic gradient descent, with momentum as torch writes it.

    twin: torch_ref/optim.py (torch.optim.SGD)

    For each parameter θ with gradient g (g ← −g if maximize):

        g ← g + λ·θ                                  weight_decay λ (an L2 penalty ½λ‖θ‖²)
        v ← g                            first step  momentum μ ≠ 0
        v ← μ·v + (1 − dampening)·g      later steps
        g ← g + μ·v   if nesterov,  else  g ← v
        θ ← θ − lr·g

    torch's momentum is not the textbook one. The classical form (Polyak; Sutskever et al.
    2013) folds the learning rate into the velocity:

        u ← μ·u − lr·g        θ ← θ + u

    At a constant lr they are the same algorithm: with u = −lr·v, induction gives
    u₁ = −lr·g₁ = −lr·v₁ and uₜ = μ·uₜ₋₁ − lr·gₜ = −lr·(μ·vₜ₋₁ + gₜ) = −lr·vₜ, so both
    take the step θ ← θ − lr·vₜ. When lr changes mid-run (a scheduler) they part: torch's
    new lr multiplies the whole accumulated velocity at once, while the classical form lets
    the old steps keep their old lr and decay away at rate μ. Both are tested against each
    other in parity_tests/test_optim.py.

    Nesterov (g + μ·v) is Sutskever's look-ahead rewritten so that it needs the gradient at
    θ only, not at θ + μ·u. ``dampening`` scales new gradients but not the first one.
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False):
        for arg, value in (("lr", lr), ("momentum", momentum), ("dampening", dampening),
                           ("weight_decay", weight_decay)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"SGD: {arg} must be a number, got {value!r}")
        # The same comparisons as torch's, so the same values (NaN included) are refused.
        if lr < 0.0:
            raise ValueError(f"SGD: lr must be >= 0, got {lr}")
        if momentum < 0.0:
            raise ValueError(f"SGD: momentum must be >= 0, got {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"SGD: weight_decay must be >= 0, got {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"SGD: nesterov needs momentum > 0 and dampening = 0, "
                             f"got momentum={momentum}, dampening={dampening}")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize}
        super().__init__(params, defaults)

    def _update(self, param: Parameter, group: dict[str, Any]) -> None:
        lr, momentum = float(group["lr"]), float(group["momentum"])
        dampening, weight_decay = float(group["dampening"]), float(group["weight_decay"])
        g = -param.grad if group["maximize"] else param.grad
        if weight_decay != 0:
            g = g + weight_decay * param.data                # a new array: param.grad stays ∂L/∂θ
        if momentum != 0:
            state = self.state[param]
            v = state.get("momentum_buffer")
            if v is None:
                v = state["momentum_buffer"] = g.copy()      # v₁ = g₁, undamped
            else:
                v *= momentum
                v += (1 - dampening) * g
            g = g + momentum * v if group["nesterov"] else v
        param.data -= lr * g


class Adam(Optimizer):
    """Adam: a step along the running mean of g, scaled per entry by its running RMS.

    twin: torch_ref/optim.py (torch.optim.Adam)

    For each parameter θ with gradient g (g ← −g if maximize), at step t = 1, 2, …:

        g ← g + λ·θ                     weight_decay λ (L2, coupled: it enters m and v)
        θ ← θ·(1 − lr·λ)                instead, if decoupled_weight_decay (that is AdamW)
        m ← β₁·m + (1 − β₁)·g           first moment
        v ← β₂·v + (1 − β₂)·g²          second moment
        vmax ← max(vmax, v)             if amsgrad; vmax then replaces v below
        θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)

    The bias corrections 1 − βᵗ undo the pull towards the zeros m and v start from. ε is
    added *after* the square root and *after* the bias correction of v; putting it inside
    the root, or before the correction, gives a different trajectory.

    The tutorial's Adam (``m_hat / (np.sqrt(v_hat) + epsilon)``) computes exactly this
    update: the same bias corrections, ε in the same place, only rounded differently
    (√(v/(1 − β₂ᵗ)) against √v/√(1 − β₂ᵗ)); a test runs it beside torch's. It lacks
    weight decay and amsgrad and returns new weights instead of updating them.
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 maximize: bool = False, decoupled_weight_decay: bool = False):
        name = type(self).__name__
        if not 0.0 <= lr:
            raise ValueError(f"{name}: lr must be >= 0, got {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"{name}: eps must be >= 0, got {eps}")
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"{name}: betas[0] must be in [0, 1), got {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"{name}: betas[1] must be in [0, 1), got {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"{name}: weight_decay must be >= 0, got {weight_decay}")
        defaults = {"lr": lr, "betas": (betas[0], betas[1]), "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _update(self, param: Parameter, group: dict[str, Any]) -> None:
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        g = -param.grad if group["maximize"] else param.grad
        state = self.state[param]
        if not state:
            state["step"] = _new_step()
            state["exp_avg"] = np.zeros_like(param.data)
            state["exp_avg_sq"] = np.zeros_like(param.data)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(param.data)
        state["step"] += 1
        step = float(state["step"])
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                param.data *= 1 - lr * weight_decay
            else:
                g = g + weight_decay * param.data
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1 - beta1) * (g - m)               # = β₁·m + (1 − β₁)·g, in torch's lerp form
        v *= beta2
        v += (1 - beta2) * g * g
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        step_size = lr / bias_correction1
        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        denom = np.sqrt(v) / bias_correction2**0.5 + eps
        param.data -= step_size * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter).

    twin: torch_ref/optim.py (torch.optim.AdamW)

        θ ← θ·(1 − lr·λ)                then the Adam step of ``Adam`` with λ = 0

    With Adam's L2 form the decay λ·θ is divided by √v̂ like any gradient, so parameters
    with large gradients are barely decayed; here every parameter shrinks by the same
    factor. Note the default weight_decay=1e-2 (Adam's is 0).
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:      # whatever the checkpoint says, AdamW decouples (as torch)
            group["decoupled_weight_decay"] = True


class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012): step sizes from the ratio of two running RMS.

    twin: torch_ref/optim.py (torch.optim.Adadelta)

    For each parameter θ with gradient g (g ← −g if maximize):

        g ← g + λ·θ                                   weight_decay λ
        s ← ρ·s + (1 − ρ)·g²                          running mean of g²
        Δ ← √(a + ε) / √(s + ε) · g                   a: running mean of Δ², from the last step
        a ← ρ·a + (1 − ρ)·Δ²
        θ ← θ − lr·Δ

    Zeiler's rule has no learning rate; torch's lr (default 1.0) scales Δ afterwards. The
    pytorch/examples MNIST recipe trains with Adadelta(lr=1.0) and StepLR(gamma=0.7).
    """

    def __init__(self, params: Iterable, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, *, maximize: bool = False):
        if not 0.0 <= lr:
            raise ValueError(f"Adadelta: lr must be >= 0, got {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Adadelta: rho must be in [0, 1], got {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Adadelta: eps must be >= 0, got {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Adadelta: weight_decay must be >= 0, got {weight_decay}")
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def _update(self, param: Parameter, group: dict[str, Any]) -> None:
        lr, rho = float(group["lr"]), float(group["rho"])
        eps, weight_decay = float(group["eps"]), float(group["weight_decay"])
        state = self.state[param]
        if not state:
            state["step"] = _new_step()
            state["square_avg"] = np.zeros_like(param.data)
            state["acc_delta"] = np.zeros_like(param.data)
        state["step"] += 1
        g = -param.grad if group["maximize"] else param.grad
        if weight_decay != 0:
            g = g + weight_decay * param.data
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        square_avg *= rho
        square_avg += (1 - rho) * g * g
        delta = np.sqrt(acc_delta + eps) / np.sqrt(square_avg + eps) * g
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta
        param.data -= lr * delta


# torch.optim.lr_scheduler is reachable from torch.optim; the same here. Imported last because
# lr_scheduler imports Optimizer from this module.
from scratch import lr_scheduler  # noqa: E402

__all__ = ["SGD", "Adadelta", "Adam", "AdamW", "Optimizer", "lr_scheduler"]
