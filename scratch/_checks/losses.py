"""Checks of losses: targets, weights, reductions, class indices."""

from __future__ import annotations

import numpy as np

from scratch._checks._base import CLASS_TARGET_DTYPES, DEFAULT_DTYPE, FLOAT_DTYPES, name_of
from scratch._checks.arrays import input


def loss_weight(where: str, name: str, value):
    """A loss's class or element weight as an array: a NumPy float array keeps its dtype,
    anything else becomes float32 (as ``torch.tensor([1.0, 2.0])`` is float32); None stays None."""
    if value is None:
        return None
    if hasattr(value, "detach"):                       # a torch tensor
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray) and value.dtype in FLOAT_DTYPES:
        return value.copy()
    try:
        return np.asarray(value, dtype=DEFAULT_DTYPE)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{where}: {name} must be an array of numbers, got {value!r}") from error


def weight_dtype(where: str, name: str, weight, x: np.ndarray) -> None:
    if weight is not None and weight.dtype != x.dtype:
        raise TypeError(f"{where}: {name} has dtype {weight.dtype} but input has dtype {x.dtype}; "
                        f"call .float()/.double() on the loss or convert the input")


def float_target(where: str, x: np.ndarray, target) -> None:
    """The target of a regression-style loss: a float array of the input's shape and dtype."""
    input(where, target, name="target")
    if target.dtype != x.dtype:
        raise TypeError(f"{where}: target has dtype {target.dtype} but input has dtype {x.dtype}; "
                        f"convert one of them (torch refuses or silently promotes to float64)")
    if target.shape != x.shape:
        raise ValueError(f"{where}: target must have the input's shape {x.shape}, got {target.shape} "
                         f"(broadcasting (N, 1) against (N,) would silently build an (N, N) loss)")


def probabilities(where: str, name: str, values: np.ndarray, hint: str = "") -> None:
    inside = (values >= 0) & (values <= 1)                  # False for NaN, as torch
    if not inside.all():
        raise ValueError(f"{where}: {name} must be probabilities in [0, 1]{hint}, "
                         f"got {values[~inside].flat[0]!r}")


def broadcasts(where: str, name: str, weight, x: np.ndarray) -> None:
    if weight is None:
        return
    try:
        shape = np.broadcast_shapes(weight.shape, x.shape)
    except ValueError:
        shape = None
    if shape != x.shape:
        raise ValueError(f"{where}: {name} of shape {weight.shape} does not broadcast to the input's "
                         f"shape {x.shape}")


def class_scores(where: str, x) -> None:
    input(where, x)
    if x.ndim == 0:
        raise ValueError(f"{where}: input must be (C,), (N, C) or (N, C, d1, …), got a 0-d array")


def class_input(where: str, x, weight) -> None:
    """What NLLLoss and CrossEntropyLoss check first: the scores, and one weight per class."""
    class_scores(where, x)
    weight_dtype(where, "weight", weight, x)
    class_weight(where, weight, x)
    some_classes(where, x)


def class_target(where: str, x: np.ndarray, target, ignore_index: int) -> None:
    """Class indices (int64 or uint8, as torch) of shape (N, d1, …), or () for a (C,) input."""
    if not isinstance(target, np.ndarray):
        raise TypeError(f"{where}: target must be a NumPy array of class indices, got "
                        f"{type(target).__name__}")
    if target.dtype not in CLASS_TARGET_DTYPES:
        raise TypeError(f"{where}: target must hold class indices as int64 (or uint8), got dtype "
                        f"{target.dtype}; convert with target.astype(np.int64)")
    expected = () if x.ndim == 1 else x.shape[:1] + x.shape[2:]
    if target.shape != expected:
        layout = "()" if x.ndim == 1 else "(N, d1, …)"
        raise ValueError(f"{where}: for input of shape {x.shape} the target must have shape "
                         f"{layout} = {expected}, got {target.shape}")
    n_classes = x.shape[0] if x.ndim == 1 else x.shape[1]
    valid = ((target >= 0) & (target < n_classes)) | (target == ignore_index)
    if not valid.all():
        bad = target[~valid].flat[0]
        raise ValueError(f"{where}: target holds class index {int(bad)}, out of range: the input has "
                         f"{n_classes} classes, so targets must be in [0, {n_classes - 1}] "
                         f"(or ignore_index={ignore_index})")


def class_weight(where: str, weight, x: np.ndarray) -> None:
    n_classes = x.shape[0] if x.ndim == 1 else x.shape[1]
    if weight is not None and weight.shape != (n_classes,):
        raise ValueError(f"{where}: weight must have one entry per class, shape ({n_classes},), "
                         f"got {weight.shape}")


def loss_grad_out(where: str, grad_out, shape: tuple, reduction: str):
    """∂L/∂(the loss) for backward: None means 1.0 (not for 'none'); its shape must be the loss's."""
    if grad_out is None:
        if reduction == "none":
            raise ValueError(f"{where}.backward: with reduction='none' the loss is an array of shape "
                             f"{shape}; pass grad_out of that shape (torch too needs a gradient for a "
                             f"non-scalar output)")
        return 1.0
    expected = shape if reduction == "none" else ()
    if np.shape(grad_out) != expected:
        raise ValueError(f"{where}.backward: grad_out must have the loss's shape {expected}, "
                         f"got {np.shape(grad_out)}")
    return grad_out


def one_per_output(where, target, out) -> None:
    if target.size != out.size:
        raise ValueError(f"{name_of(where)}: target must hold one value per output, {out.size} "
                         f"(output shape {out.shape}), got shape {target.shape}")


def some_classes(where: str, x) -> None:
    """A loss over classes needs one: C ≥ 1 (torch computes 0 or NaN without any)."""
    n_classes = x.shape[0] if x.ndim == 1 else x.shape[1]
    if n_classes == 0:
        raise ValueError(f"{where}: input has no classes (C = 0) for input of shape {x.shape}; "
                         f"a loss over classes needs at least one")


def soft_target_ignore_index(where: str, ignore_index: int) -> None:
    """torch refuses any ignore_index ≥ 0 with class-probability targets (a negative one is unused)."""
    if ignore_index >= 0:
        raise ValueError(f"{where}: ignore_index={ignore_index} is not supported with class-probability "
                         f"targets (torch refuses any ignore_index >= 0 there; leave the default -100)")
