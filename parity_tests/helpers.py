"""The one parity helper every test uses, and the two witnesses beside it.

``assert_parity(scratch_module, torch_module, *inputs)``:

1. copies torch's weights and buffers into the scratch module by name (the name sets must be
   equal, so a misnamed parameter fails here, not later);
2. runs both in the requested dtype (float64 by default);
3. compares the forward output: shape first, then values;
4. feeds one *random* upstream gradient ∂L/∂out to both. Never ``.sum()`` or all-ones: under
   those the input gradient of softmax or batch norm is exactly zero, and a backward that
   returns zeros would pass;
5. compares every input gradient, every ``param.grad`` and every buffer by name.

``assert_numerical_grad(scratch_module, *inputs)`` is the third witness: central differences
of the scratch forward alone, float64 only (in float32 they are noise).

Tolerances are stated once, here, per dtype.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from scratch.module import Module

# float64: both sides do the same maths in a different order; 1e-7 relative leaves room for
# reductions over a few thousand terms and nothing more.
# float32: ~1e-7 machine epsilon times the depth of the sums.
# float16 (the few layers torch computes in half on the CPU): both twins compute in float32 and
# round once, so they may differ by one unit in the last place, 2⁻¹⁰ ≈ 9.8e-4 relative; atol is
# a few of float16's smallest subnormals (6e-8), for values that round to almost nothing.
TOLERANCES = {
    np.dtype(np.float64): {"rtol": 1e-7, "atol": 1e-10},
    np.dtype(np.float32): {"rtol": 1e-4, "atol": 1e-5},
    np.dtype(np.float16): {"rtol": 1e-3, "atol": 2e-7},
}
TORCH_DTYPES = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32,
                np.dtype(np.float16): torch.float16}


def tolerance(dtype) -> dict[str, float]:
    return TOLERANCES[np.dtype(dtype)]


def assert_close(actual, expected, what: str, dtype=np.float64, rtol=None, atol=None) -> None:
    """Shape, then values, with a message that says which quantity and where it is worst."""
    actual = _numpy(actual)
    expected = _numpy(expected)
    tol = tolerance(dtype)
    rtol = tol["rtol"] if rtol is None else rtol
    atol = tol["atol"] if atol is None else atol
    assert actual.shape == expected.shape, (
        f"{what}: shape {actual.shape} (scratch) != {expected.shape} (torch)"
    )
    if actual.size == 0:
        return
    actual64 = actual.astype(np.float64)
    expected64 = expected.astype(np.float64)
    ok = np.isclose(actual64, expected64, rtol=rtol, atol=atol, equal_nan=True)
    if not ok.all():
        error = np.abs(actual64 - expected64)
        error = np.where(np.isnan(error), np.inf, error)
        worst = np.unravel_index(np.argmax(error), error.shape)
        raise AssertionError(
            f"{what}: {int((~ok).sum())} of {ok.size} values differ beyond rtol={rtol}, atol={atol}; "
            f"worst at index {tuple(int(i) for i in worst)}: scratch {actual64[worst]!r}, "
            f"torch {expected64[worst]!r} (abs diff {error[worst]:.3e})"
        )


def copy_weights(torch_module: torch.nn.Module, scratch_module: Module) -> None:
    """torch's state_dict into the scratch module, by name; the key sets must match."""
    torch_state = torch_module.state_dict()
    scratch_keys = set(scratch_module.state_dict())
    assert set(torch_state) == scratch_keys, (
        f"state_dict keys differ: only in torch {sorted(set(torch_state) - scratch_keys)}, "
        f"only in scratch {sorted(scratch_keys - set(torch_state))}"
    )
    scratch_module.load_state_dict({k: v.detach().cpu().numpy() for k, v in torch_state.items()})


def assert_parity(
    scratch_module: Module,
    torch_module: torch.nn.Module,
    *inputs,
    dtype=np.float64,
    grad_inputs: Sequence[int] = (0,),
    seed: int = 0,
    rtol: float | None = None,
    atol: float | None = None,
    copy: bool = True,
) -> dict[str, np.ndarray]:
    """Forward and backward parity of a scratch module and its torch twin.

    ``inputs``: NumPy arrays. Floating ones are cast to ``dtype``; integer ones (class
    targets) pass unchanged. ``grad_inputs``: the positions of the inputs whose gradient
    the scratch ``backward`` returns (one array for one position, a tuple for several).
    ``copy=False`` keeps both modules' own weights (when the test set them itself).
    Returns the scratch forward output and gradients, for tests that check more.
    """
    dtype = np.dtype(dtype)
    torch_dtype = TORCH_DTYPES[dtype]
    torch_module = torch_module.to(torch_dtype)
    scratch_module.to(dtype)
    if copy:
        copy_weights(torch_module, scratch_module)
    tol = {"dtype": dtype, "rtol": rtol, "atol": atol}

    np_inputs = [_cast(x, dtype) for x in inputs]
    torch_inputs = []
    for i, x in enumerate(np_inputs):
        t = torch.from_numpy(np.array(x, copy=True))
        if i in grad_inputs:
            t.requires_grad_(True)
        torch_inputs.append(t)

    out = scratch_module(*np_inputs)
    torch_out = torch_module(*torch_inputs)
    assert_close(out, torch_out, f"{type(scratch_module).__name__} forward output", **tol)

    rng = np.random.default_rng(seed)
    grad_out = rng.standard_normal(np.shape(out)).astype(dtype)   # random ∂L/∂out, never ones
    if np.ndim(out) == 0:
        grad_out = dtype.type(grad_out)
    torch_out.backward(torch.from_numpy(np.array(grad_out, dtype=dtype)))
    grads = scratch_module.backward(grad_out)
    if len(grad_inputs) == 1:
        grads = (grads,)
    assert len(grads) == len(grad_inputs), (
        f"{type(scratch_module).__name__}.backward returned {len(grads)} gradients, "
        f"expected {len(grad_inputs)} (for inputs {tuple(grad_inputs)})"
    )
    for position, grad in zip(grad_inputs, grads, strict=True):
        assert_close(grad, torch_inputs[position].grad,
                     f"{type(scratch_module).__name__} gradient of input {position}", **tol)

    torch_params = dict(torch_module.named_parameters())
    scratch_params = dict(scratch_module.named_parameters())
    assert set(torch_params) == set(scratch_params), (
        f"parameter names differ: torch {sorted(torch_params)}, scratch {sorted(scratch_params)}"
    )
    for name, param in scratch_params.items():
        expected = torch_params[name].grad
        if expected is None:          # torch leaves .grad None where the output ignores it
            expected = torch.zeros_like(torch_params[name])
        assert_close(param.grad, expected, f"{type(scratch_module).__name__} {name}.grad", **tol)
    for name, buffer in torch_module.named_buffers():
        scratch_buffer = dict(scratch_module.named_buffers())[name]
        assert_close(scratch_buffer, buffer, f"{type(scratch_module).__name__} buffer {name}", **tol)
    return {"out": out, "grads": grads}


def numerical_grad(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences (f(x + ε) − f(x − ε)) / 2ε of a scalar function, element by element.

    Error O(ε²) from truncation plus O(machine ε / ε) from rounding: about 1e-10 in float64.
    ``x`` is perturbed in place and restored.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    flat = x.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        plus = f()
        flat[i] = old - eps
        minus = f()
        flat[i] = old
        grad.reshape(-1)[i] = (plus - minus) / (2 * eps)
    return grad


def assert_numerical_grad(
    scratch_module: Module,
    *inputs,
    grad_inputs: Sequence[int] = (0,),
    seed: int = 1,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-8,
) -> None:
    """The scratch backward against central differences of the scratch forward (float64).

    L(x, θ) = Σ g ⊙ module(x) with a fixed random g, so ∂L/∂x is the backward of g.
    Tolerance: the O(ε²) truncation error with ε = 1e-6 is ~1e-12 for smooth functions;
    rounding gives ~1e-10 absolute, hence atol 1e-8 and rtol 1e-5 with room for curvature.
    Inputs must keep away from kinks (ReLU at 0, max-pool ties) by more than ε.
    """
    scratch_module.double()
    xs = [_cast(x, np.float64).copy() if i in grad_inputs else _cast(x, np.float64)
          for i, x in enumerate(inputs)]
    out = scratch_module(*xs)
    g = np.random.default_rng(seed).standard_normal(np.shape(out))

    def loss() -> float:
        return float(np.sum(g * scratch_module(*xs)))

    scratch_module.zero_grad()
    scratch_module(*xs)
    grads = scratch_module.backward(g if np.ndim(out) else np.float64(g))
    if len(grad_inputs) == 1:
        grads = (grads,)
    name = type(scratch_module).__name__
    for position, grad in zip(grad_inputs, grads, strict=True):
        expected = numerical_grad(loss, xs[position], eps)
        assert_close(grad, expected, f"{name} gradient of input {position} vs central differences",
                     rtol=rtol, atol=atol)
    for pname, param in scratch_module.named_parameters():
        expected = numerical_grad(loss, param.data, eps)
        assert_close(param.grad, expected, f"{name} {pname}.grad vs central differences",
                     rtol=rtol, atol=atol)


def _cast(x, dtype):
    x = np.asarray(x)
    if np.issubdtype(x.dtype, np.floating):
        return x.astype(dtype)
    return x


def _numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


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
