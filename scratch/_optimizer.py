"""The framework under optim.py: torch.optim's base class.

``Optimizer`` holds parameter groups, per-parameter state, ``zero_grad``, the loop of ``step``
and checkpoints; each algorithm in optim.py writes only ``_update(param, group)``, the update
of one parameter (torch's ``_single_tensor_*`` functions). The schedules' base class is in
_scheduler.py.

twin: torch.optim.Optimizer
"""

from __future__ import annotations

import copy
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from itertools import chain
from typing import Any

import numpy as np

from scratch import _checks as check
from scratch.module import Module, Parameter, to_numpy


class Optimizer:
    """Base class: parameter groups, per-parameter state, ``zero_grad``, ``step``, checkpoints.

    ``params``: Parameters (one group), ``(name, Parameter)`` pairs as ``named_parameters()``
    yields them, or dicts ``{"params": [...], **options}`` whose options override ``defaults``.
    ``step()`` calls the subclass's ``_update(param, group)`` for every parameter that has a
    gradient (torch's ``_single_tensor_*``, one parameter at a time); ``state[param]`` holds its
    buffers, arrays of its shape and dtype, made on its first step, as torch's.
    """

    def __init__(self, params: Iterable, defaults: dict[str, Any]):
        self.defaults = defaults
        check.cpu_flags(type(self).__name__, defaults)
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

    def zero_grad(self, set_to_none: bool = False) -> None:
        """Set every gradient to zeros: torch's ``zero_grad(set_to_none=False)``.

        torch's default ``zero_grad(set_to_none=True)`` leaves ``.grad`` as None instead. Here
        backward *adds* into ``.grad``, so it stays an array, and ``set_to_none=True`` is refused
        (the next backward would have nothing to add to). The one visible difference: after
        torch's zero_grad a parameter that receives no gradient is skipped by ``step()``, while
        here it is stepped with a zero gradient (still decayed by weight_decay, still carried by
        momentum). Set ``param.grad = None`` to skip a parameter, as torch does.
        """
        check.zero_grad(type(self).__name__, set_to_none)
        for group in self.param_groups:
            for param in group["params"]:
                param.grad = np.zeros_like(param.data)

    def step(self, closure: Callable[[], float] | None = None):
        """One update of every parameter that has a gradient; returns ``closure()`` if given.

        ``_update`` sees the group's hyper-parameters as numbers: a 1-element array (an lr, the
        betas) as the Python float it holds, as torch's step reads a tensor lr into the Scalar
        of ``param.add_(grad, alpha=-lr)``.
        """
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            numbers = {key: _number(value) for key, value in group.items()}
            for param in group["params"]:
                if param.grad is not None:          # torch skips parameters without a gradient
                    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                        self._update(param, numbers)    # inf and NaN go on silently, as in torch
        self._opt_called = True                     # a scheduler stepped before us warns, as torch's
        return loss

    def _gradient(self, param: Parameter, group: dict[str, Any], decay: bool = True):
        """g = ∂L/∂θ, negated if maximize, plus λ·θ (L2 weight decay λ) if decay; a new array,
        so that param.grad stays ∂L/∂θ."""
        g = -param.grad if group["maximize"] else param.grad
        if decay and group["weight_decay"] != 0:
            g = g + group["weight_decay"] * param.data
        return g

    def _state(self, param: Parameter, *buffers: str) -> dict[str, np.ndarray]:
        """``state[param]``, made on its first step as torch makes it: the step counter and a
        zero array of the parameter's shape and dtype for each buffer named."""
        state = self.state[param]
        if not state:
            state["step"] = new_step()
            state.update({name: np.zeros_like(param.data) for name in buffers})
        return state

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
        as arrays, a tensor lr or betas too). Buffers take each parameter's dtype;
        hyper-parameters come from the checkpoint, so load it *after* building a scheduler,
        which rewrites ``lr``.
        """
        name = type(self).__name__
        saved_groups = [{k: _from_torch(v) for k, v in group.items()}
                        for group in copy.deepcopy(state_dict["param_groups"])]
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
                value = np.array(to_numpy(value), copy=True)
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


def new_step() -> np.ndarray:
    """The step counter as torch keeps it (a float32 scalar), so checkpoints convert one to one."""
    return np.array(0.0, dtype=np.float32)


def lerp_(start: np.ndarray, end, weight: float) -> None:
    """start ← start + weight·(end − start), in place, as torch's ``start.lerp_(end, weight)``,
    which for weight ≥ 0.5 computes end − (end − start)·(1 − weight) instead (it rounds better)."""
    if abs(weight) < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1 - weight)


def _number(value):
    """A hyper-parameter as ``_update`` reads it: a 1-element array (or NumPy scalar) as its
    Python float, a tuple (betas) item by item, anything else as it is."""
    if isinstance(value, tuple):
        return tuple(_number(v) for v in value)
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "iuf" and value.size == 1:
        return float(value.reshape(()))
    return value


def _from_torch(value):
    """A hyper-parameter of torch's checkpoint with its tensors (lr, betas) as arrays."""
    if isinstance(value, tuple):
        return tuple(_from_torch(v) for v in value)
    return to_numpy(value)


def hyper(arguments: dict) -> dict:
    """An optimizer's defaults: its constructor's arguments (``locals()``) but params."""
    return {k: v for k, v in arguments.items() if k not in ("self", "params", "__class__")}
