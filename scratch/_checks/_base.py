"""Constants and predicates every check shares."""

from __future__ import annotations

import numbers

import numpy as np

DEFAULT_DTYPE = np.float32                 # torch's default dtype


FLOAT_DTYPES = (np.float32, np.float64)


CLASS_TARGET_DTYPES = (np.dtype(np.int64), np.dtype(np.uint8))   # torch: Long or Byte


REDUCTIONS = ("none", "mean", "sum")


def name_of(where) -> str:
    """A layer's name in messages: a string as given, a module as it prints."""
    return where if isinstance(where, str) else repr(where)


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


POOL_DTYPES = (np.float16, np.float32, np.float64)      # torch's CPU pools compute in half too


def _array_number(value) -> bool:
    """A NumPy array or NumPy scalar of real numbers: scratch's stand-in for a torch tensor."""
    return isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "iuf"
