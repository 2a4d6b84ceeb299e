"""Checks of optimizers' and schedulers' hyper-parameters, as torch.optim checks them."""

from __future__ import annotations

import numpy as np

from scratch._checks._base import _array_number, _is_number, name_of
from scratch._checks.scalars import _python_int, at_least, between


def hyper(where, name: str, value, low=0.0, high=None, *, open_high: bool = False,
          nan_passes: bool = False):
    """An optimizer's or scheduler's number: a real (not a bool) or a 1-element NumPy array
    (torch takes a 1-element tensor), returned as given (torch keeps it so in param_groups).

    In [low, high] (``high=None``: no bound above; ``low=None``: no bound at all; [low, high)
    with ``open_high``), compared as torch compares: ``not low <= value`` refuses NaN, while
    with ``nan_passes`` ``value < low`` lets it through (SGD's comparisons).
    """
    if _array_number(value):
        if value.size != 1:
            raise ValueError(f"{name_of(where)}: {name} must be a number or a 1-element array, "
                             f"got an array of shape {value.shape}")
    elif not _is_number(value):
        raise TypeError(f"{name_of(where)}: {name} must be a number, got {value!r}")
    if low is None:
        return value
    if nan_passes:
        if value < low:
            raise ValueError(f"{name_of(where)}: {name} must be >= {low:g}, got {value}")
    elif high is None:
        at_least(where, name, value, low)
    else:
        between(where, name, value, low, high, open_high=open_high)
    return value


def betas(where, value) -> tuple:
    """Adam's (β₁, β₂): a pair (list, tuple or 2-element array) of floats, or of 1-element
    arrays, each in [0, 1); arrays come back 0-d, as torch's ``_to_scalar`` squeezes tensors."""
    pair = value if isinstance(value, (tuple, list)) else None
    if isinstance(value, np.ndarray) and value.ndim >= 1:
        pair = list(value)
    if pair is None or len(pair) != 2:
        raise ValueError(f"{name_of(where)}: betas must be a pair (beta1, beta2), got {value!r}")
    for i, beta in enumerate(pair):
        hyper(where, f"betas[{i}]", beta, 0.0, 1.0, open_high=True)
    if not (all(isinstance(b, float) for b in pair) or all(_array_number(b) for b in pair)):
        raise ValueError(f"{name_of(where)}: betas must be both floats or both 1-element arrays "
                         f"(as torch: both floats or both tensors), got {value!r}")
    return tuple(b.reshape(()) if isinstance(b, np.ndarray) else b for b in pair)


def nesterov(where, nesterov, momentum, dampening) -> None:
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError(f"{name_of(where)}: nesterov needs momentum > 0 and dampening = 0, "
                         f"got momentum={momentum}, dampening={dampening}")


def cpu_flags(where, defaults: dict) -> None:
    """torch's implementation switches, those of the optimizer's ``defaults``. ``foreach`` and
    ``fused`` choose another CPU kernel for the same update: accepted and kept in param_groups,
    as torch keeps them. ``capturable`` (CUDA graphs) and ``differentiable`` (autograd through
    the step) mean nothing in NumPy: refused, where torch refuses them on the CPU at the first
    step. With foreach, Adam's lr and betas must not be arrays (torch's foreach kernel takes no
    tensor lr or betas unless capturable)."""
    if defaults.get("fused") and defaults.get("foreach"):
        raise ValueError(f"{name_of(where)}: fused and foreach cannot both be True (as in torch)")
    if defaults.get("capturable"):
        raise ValueError(f"{name_of(where)}: capturable=True is for CUDA graphs; there is no graph "
                         f"to capture in NumPy (torch refuses it on the CPU at the first step)")
    if defaults.get("differentiable"):
        raise ValueError(f"{name_of(where)}: differentiable=True lets autograd differentiate through "
                         f"the step, and scratch has no autograd (torch refuses it for leaf "
                         f"parameters at the first step)")
    arrays = [defaults["lr"], *defaults["betas"]] if "betas" in defaults else []
    if defaults.get("foreach") and any(_array_number(a) and not isinstance(a, float) for a in arrays):
        raise ValueError(f"{name_of(where)}: lr and betas cannot be arrays with foreach=True (torch: "
                         f"not supported for capturable=False and foreach=True)")


def not_below(where, name: str, value, low: float = 0.0):
    """``hyper`` compared as torch's SGD compares, ``value < low``: NaN passes."""
    return hyper(where, name, value, low, nan_passes=True)


def optimizer(where, value, base: type) -> None:
    """A scheduler's optimizer: scratch's own (torch's belongs to torch's schedulers)."""
    if not isinstance(value, base):
        raise TypeError(f"{name_of(where)}: optimizer must be a scratch.optim Optimizer, "
                        f"got {type(value).__name__}")


def steps(where, total_steps, epochs, steps_per_epoch) -> int:
    """OneCycleLR's length: total_steps, or epochs · steps_per_epoch."""
    if total_steps is not None:
        return _python_int(where, "total_steps", total_steps)
    if epochs is None or steps_per_epoch is None:
        raise ValueError(f"{name_of(where)}: give total_steps, or both epochs and steps_per_epoch")
    return _python_int(where, "epochs", epochs) * _python_int(where, "steps_per_epoch", steps_per_epoch)


def per_group(where, name: str, value, groups) -> list:
    """One value per parameter group: a list or tuple of that length, or one value for all."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(groups):
            raise ValueError(f"{name_of(where)}: {name} has {len(value)} values, but the optimizer "
                             f"has {len(groups)} parameter groups")
        return list(value)
    return [value] * len(groups)


def cycles_momentum(where, optimizer) -> None:
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(f"{name_of(where)}: cycle_momentum needs an optimizer with momentum or "
                         f"betas, got {type(optimizer).__name__} (pass cycle_momentum=False)")


def within_total(where, step: int, total_steps: int) -> None:
    if step > total_steps:
        raise ValueError(f"{name_of(where)}: tried to step {step} times, but total_steps is "
                         f"{total_steps}; make total_steps (or epochs·steps_per_epoch) cover the "
                         f"whole run")


def zero_grad(where, set_to_none) -> None:
    """Scratch's backward adds into ``.grad``, so zero_grad leaves arrays of zeros."""
    if set_to_none:
        raise ValueError(f"{name_of(where)}: zero_grad(set_to_none=True) is not supported: a scratch "
                         f"backward adds into .grad, so it must stay an array (zero_grad() fills it "
                         f"with zeros, as torch's zero_grad(set_to_none=False); set param.grad = None "
                         f"to skip a parameter)")


def hypers(where, **values) -> None:
    """Several optimizer numbers at once, each ≥ 0 as ``hyper`` checks it, in the order given
    (the order torch checks them, so the first bad one is named first)."""
    for name, value in values.items():
        hyper(where, name, value)
