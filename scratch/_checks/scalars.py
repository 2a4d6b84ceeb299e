"""Checks of numbers: ints, reals, ranges, choices, generators."""

from __future__ import annotations

import numbers

import numpy as np

from scratch._checks._base import _is_int, _is_number, name_of


def integer(where, name: str, value, minimum: int = 0) -> int:
    """An int ≥ minimum (not a bool, not a float), as a Python int."""
    if not _is_int(value) or value < minimum:
        kind = {0: "a non-negative int", 1: "a positive int"}.get(minimum, f"an int ≥ {minimum}")
        raise ValueError(f"{name_of(where)}: {name} must be {kind}, got {value!r}")
    return int(value)


def int_type(where, name: str, value) -> int:
    """Any int (a TypeError otherwise, as torch raises for a float ``dim``)."""
    if not _is_int(value):
        raise TypeError(f"{name_of(where)}: {name} must be an int, got {value!r}")
    return int(value)


def number(where, name: str, value, error=TypeError) -> float:
    """A real number (not a bool) as a Python float, so float32 · value stays float32."""
    if not _is_number(value):
        raise error(f"{name_of(where)}: {name} must be a number, got {value!r}")
    return float(value)


def at_least(where, name: str, value, low: float = 0.0) -> None:
    """value ≥ low, compared as torch compares (so NaN is refused too)."""
    if not low <= value:
        raise ValueError(f"{name_of(where)}: {name} must be >= {low:g}, got {value}")


def between(where, name: str, value, low: float, high: float, *, open_high: bool = False) -> None:
    """low ≤ value ≤ high (or < high)."""
    ok = low <= value < high if open_high else low <= value <= high
    if not ok:
        right = ")" if open_high else "]"
        raise ValueError(f"{name_of(where)}: {name} must be in [{low:g}, {high:g}{right}, got {value}")


def choice(where, name: str, value, choices) -> None:
    if value not in choices:
        options = ", ".join(repr(c) for c in choices[:-1]) + f" or {choices[-1]!r}"
        raise ValueError(f"{name_of(where)}: {name} must be {options}, got {value!r}")


def generator(where, value) -> np.random.Generator:
    """Randomness comes in as an np.random.Generator; None means a fresh, unseeded one."""
    if value is None:
        return np.random.default_rng()
    if not isinstance(value, np.random.Generator):
        raise TypeError(f"{name_of(where)}: generator must be an np.random.Generator, "
                        f"got {type(value).__name__}")
    return value


def flag(where, name: str, value) -> bool:
    """A bool, as torch's pooling functions ask (an int or a NumPy bool is a TypeError there)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name_of(where)}: {name} must be a bool, got {value!r}")
    return value


def unit_interval(where, name: str, value):
    """A real number in [0, 1] (not a bool, not NaN), returned as given: torch keeps Dropout(1)'s int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ValueError(f"{name_of(where)}: {name} must be between 0 and 1, got {value!r}")
    return value


def inside(where, name: str, value, low: float, high: float) -> None:
    """low < value < high."""
    if not low < value < high:
        raise ValueError(f"{name_of(where)}: {name} must be in ({low:g}, {high:g}), got {value!r}")


def non_negative(where, name: str, value):
    """A real number ≥ 0 (not a bool; NaN passes, as torch lets it), returned as given (as torch
    keeps BatchNorm's eps=1 an int)."""
    if not _is_number(value) or value < 0:
        raise ValueError(f"{name_of(where)}: {name} must be a non-negative number, got {value!r}")
    return value


def number_or_none(where, name: str, value):
    """None, or a real number (not a bool), returned as given."""
    if value is not None and not _is_number(value):
        raise ValueError(f"{name_of(where)}: {name} must be a number or None, got {value!r}")
    return value


def activation(where, value, names, module_type) -> None:
    """A neuron's φ: a name among ``names``, an instance of ``module_type``, or None (a = z)."""
    if value is None or isinstance(value, module_type):
        return
    if not isinstance(value, str):
        raise TypeError(f"{name_of(where)}: activation must be a name or a scratch Module, "
                        f"got {type(value).__name__}")
    if value not in names:
        raise ValueError(f"{name_of(where)}: activation must be one of {sorted(names)}, got {value!r}")


def _python_int(where, name: str, value) -> int:
    """A positive Python int, as torch's OneCycleLR asks (``isinstance(value, int)``)."""
    if not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name_of(where)}: {name} must be a positive int, got {value!r}")
    return value


def fraction(where, name: str, value) -> None:
    """A float in [0, 1], compared as torch's OneCycleLR compares (so NaN passes, as there)."""
    if value < 0 or value > 1 or not isinstance(value, float):
        raise ValueError(f"{name_of(where)}: {name} must be a float in [0, 1], got {value!r}")


def number_in(where, name: str, value, low: float, high: float) -> float:
    """A real number (not a bool) in [low, high] as a Python float; NaN is refused."""
    if not _is_number(value) or not low <= value <= high:
        raise ValueError(f"{name_of(where)}: {name} must be a number in [{low:g}, {high:g}], got {value!r}")
    return float(value)


def int64(where, name: str, value) -> int:
    """An int (not a bool) that fits in int64, as torch's C++ arguments must."""
    value = int_type(where, name, value)
    if not -2**63 <= value < 2**63:
        raise ValueError(f"{name_of(where)}: {name} must fit in int64, got {value}")
    return value
