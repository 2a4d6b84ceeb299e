"""What the parity suite's tests share: the harness, refusal tables, and extreme inputs.

The harness itself (``assert_parity``, ``assert_numerical_grad``, the tolerances) is
parity_tests/harness.py, importable as ``parity_tests`` by anyone's tests; this module
re-exports it beside the suite's own helpers.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from parity_tests.harness import (  # noqa: F401 (re-exported for the suite's tests)
    TOLERANCES,
    TORCH_DTYPES,
    assert_close,
    assert_numerical_grad,
    assert_parity,
    copy_weights,
    numerical_grad,
    tolerance,
)


# -- refusals: what torch refuses, scratch refuses, and says so -----------------------------
@dataclass
class Refusal:
    """One bad input: ``scratch()`` must raise ``error`` with every one of ``words`` in its
    message (the layer, the argument, what was expected, what was got); ``torch()`` must
    raise something (``refused``) or accept it (a deliberate difference: ``refused=False``)."""

    id: str
    scratch: Callable[[], object]
    torch: Callable[[], object]
    error: type[Exception] | tuple[type[Exception], ...]
    words: tuple[str, ...]
    refused: bool = True


def refusal(id: str, scratch, torch_call, error, *words: str) -> Refusal:
    """A case torch refuses too."""
    return Refusal(id, scratch, torch_call, error, words)


def stricter(id: str, scratch, torch_call, error, *words: str) -> Refusal:
    """A case torch accepts (promoting, broadcasting or warning) and scratch refuses on purpose."""
    return Refusal(id, scratch, torch_call, error, words, refused=False)


def assert_scratch_refuses(case: Refusal) -> None:
    with pytest.raises(case.error) as caught:
        case.scratch()
    message = str(caught.value)
    missing = [w for w in case.words if w not in message]
    assert not missing, f"{case.id}: the message does not say {missing}: {message!r}"


def assert_torch_agrees(case: Refusal) -> None:
    """torch refuses the case (any exception), or accepts it when scratch is stricter on purpose."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)       # torch may warn before refusing
        if case.refused:
            with pytest.raises(Exception):  # noqa: B017 (torch's types vary; refusing is what counts)
                case.torch()
        else:
            case.torch()


def refusal_tests(cases: Sequence[Refusal]):
    """Two parametrized tests over ``cases``, to bind at module level in a test file:

        test_scratch_refuses, test_torch_agrees = refusal_tests(REFUSED)
    """
    params = pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in cases])

    @params
    def test_scratch_refuses(case):
        assert_scratch_refuses(case)

    @params
    def test_torch_agrees(case):
        assert_torch_agrees(case)

    return test_scratch_refuses, test_torch_agrees


def f32(*shape) -> np.ndarray:
    return np.zeros(shape, dtype=np.float32)


def f64(*shape) -> np.ndarray:
    return np.zeros(shape, dtype=np.float64)


def i64(*values) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def t32(*shape) -> torch.Tensor:
    return torch.zeros(shape)


def tl(*values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.long)


# -- extreme and non-finite inputs, shared by the concepts' numerics tests ------------------
NAN, INF = np.nan, np.inf
NONFINITE = np.array([NAN, INF, -INF, 0, 1, -1])
NONFINITE_ROWS = np.array([[NAN, 0, 1], [INF, 0, 1], [-INF, 0, 1], [INF, INF, 0],
                           [-INF, -INF, -INF], [INF, -INF, 0]])
NONFINITE_IMAGE = np.array([[[[NAN, 1, 2, 3], [INF, 0, -INF, 1], [1, 2, 3, 4],
                              [-INF, -INF, 0, NAN]]]])
POSINF = np.array([NAN, INF, 0, 1, -1])
NEGINF = np.array([-INF, 0, 1])
BIG = {np.float32: 3e38, np.float64: 1e308}       # near the largest finite value of each dtype
DTYPES = [pytest.param(np.float32, id="float32"), pytest.param(np.float64, id="float64")]


def extreme_vector(dtype) -> np.ndarray:
    big = BIG[dtype]
    return np.array([-big, -1e4, -100, -1, 0, 1, 100, 1e4, big], dtype=dtype)


def extreme_rows(dtype) -> np.ndarray:
    """Rows of scores whose spread stays within the dtype's range (x − max(x) is finite)."""
    big = BIG[dtype]
    return np.array([[big, 0, -1e4], [1e4, -1e4, 0], [-big, -big, -big], [big, big, 0],
                     [-1e4, -1e4, 1e4]], dtype=dtype)


def assert_finite(result) -> None:
    """No NaN in an ``assert_parity`` result's output or gradients."""
    assert not np.isnan(result["out"]).any(), f"NaN in the output: {result['out']}"
    grads = result["grads"] if isinstance(result["grads"], tuple) else (result["grads"],)
    for grad in grads:
        assert not np.isnan(grad).any(), f"NaN in the gradient: {grad}"


# -- activations, losses, cross_entropy ---------------------------------------------------------
TIERS = [np.float64, np.float32]          # the float64 and float32 parity tiers
REDUCTIONS = ["none", "mean", "sum"]
# input shapes of the class losses: (N, C), (N, C, d1, d2), unbatched (C,), batch of 1
CLASS_SHAPES = [(5, 4), (2, 4, 3, 2), (4,), (1, 3)]


def as_tensor(array):
    """An optional array (a weight, a target) as torch's twin of it."""
    return None if array is None else torch.tensor(array)


def assert_dtype_kept(result, dtype):
    """float32 in, float32 out: no float64 temporaries leaked into the result."""
    assert result["out"].dtype == dtype
    assert result["grads"][0].dtype == dtype


def class_case(rng, shape, ignore):
    """Logits, class-index targets (some set to ``ignore``, if given) and per-class weights."""
    n_classes = shape[0] if len(shape) == 1 else shape[1]
    target_shape = () if len(shape) == 1 else shape[:1] + shape[2:]
    target = rng.integers(0, n_classes, target_shape)
    if ignore is not None:
        # at least one ignored and one kept target wherever there are two
        mask = rng.random(target_shape) < 0.4
        mask.flat[0] = True
        if mask.size > 1:
            mask.flat[-1] = False
        target = np.where(mask, ignore, target)
    return 3 * rng.standard_normal(shape), target, rng.uniform(0.5, 2.0, n_classes)
