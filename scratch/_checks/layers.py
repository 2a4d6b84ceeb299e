"""Checks of the other layers' arguments: batch norm, dropout, init, augmentation."""

from __future__ import annotations

from scratch._checks._base import _is_number, name_of
from scratch._checks.scalars import unit_interval


def batch_eps(where, eps: float, batch_stats: bool) -> None:
    """Normalising with the batch's σ², a constant channel would give 0 / 0 at eps = 0 (torch refuses)."""
    if batch_stats and eps <= 0:                  # as torch compares: NaN passes
        raise ValueError(f"{name_of(where)}: eps must be positive when normalising with batch "
                         f"statistics, got {eps}")


def batch_values(where, x, M: int, batch_stats: bool) -> None:
    """One value per channel gives σ² = 0 and x̂ = 0: torch refuses it when training."""
    if batch_stats and M == 1:
        raise ValueError(f"{name_of(where)}: expected more than 1 value per channel when training, "
                         f"got input size {x.shape}")


def fan_dims(where, array) -> None:
    """Fans need a weight (out, in, *kernel): at least 2 dimensions."""
    if array.ndim < 2:
        raise ValueError(f"{name_of(where)}: fan in and fan out need a weight with at least 2 dimensions, "
                         f"got shape {array.shape}")


def dropout_p(where, p):
    """Dropout's p, the probability of *dropping* a unit."""
    return unit_interval(where, "p (the drop probability)", p)


def affine_args(translate, scale, shear):
    """torchvision's affine arguments: translate a pair, scale > 0, shear a number or one or two."""
    if not isinstance(translate, (list, tuple)) or len(translate) != 2:
        raise ValueError(f"affine: translate must be a sequence of two numbers (pixels), got {translate!r}")
    if not scale > 0:
        raise ValueError(f"affine: scale must be positive, got {scale!r}")
    if _is_number(shear):
        shear = [shear, 0.0]
    if not isinstance(shear, (list, tuple)) or len(shear) not in (1, 2):
        raise ValueError(f"affine: shear must be a number or a sequence of one or two, got {shear!r}")
    return [float(t) for t in translate], [float(shear[0]), float(shear[-1] if len(shear) == 2 else shear[0])]


def symmetric_range(where: str, name: str, value, sizes: tuple[int, ...]) -> tuple[float, ...]:
    """A number d as (−d, d), or a sequence of the given sizes (torchvision's _setup_angle)."""
    if _is_number(value):
        if value < 0:
            raise ValueError(f"{where}: if {name} is a single number, it must be positive, got {value}")
        return (-float(value), float(value))
    if not isinstance(value, (list, tuple)) or len(value) not in sizes:
        raise ValueError(f"{where}: {name} must be a number or a sequence of "
                         f"{' or '.join(map(str, sizes))} numbers, got {value!r}")
    return tuple(float(v) for v in value)


def fractions(where: str, value):
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or len(value) != 2 or not all(0 <= v <= 1 for v in value):
        raise ValueError(f"{where}: translate must be two fractions of the size in [0, 1], got {value!r}")
    return tuple(float(v) for v in value)


def scale_range(where: str, value):
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or len(value) != 2 or not all(v > 0 for v in value):
        raise ValueError(f"{where}: scale must be two positive numbers (lo, hi), got {value!r}")
    return tuple(float(v) for v in value)
