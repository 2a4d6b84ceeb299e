"""The parity harness: one helper that proves a from-scratch layer equals its torch twin.

``assert_parity(scratch_module, torch_module, *inputs)``:

1. works on copies of both modules, converted to ``dtype`` (float64 by default): the
   caller's modules, their weights, dtype and gradients, stay as they were;
2. copies torch's weights and buffers into the scratch copy by name (the name sets must be
   equal, so a misnamed parameter fails here, not later);
3. compares the forward output: shape first, then values;
4. feeds one *random* upstream gradient ∂L/∂out to both. Never ``.sum()`` or all-ones: under
   those the input gradient of softmax or batch norm is exactly zero, and a backward that
   returns zeros would pass;
5. checks the scratch contract: backward *adds* into ``param.grad`` (each one starts filled
   with random numbers, which must still be there under the gradient), and a backward called
   before any forward raises an error that names the layer;
6. compares every input gradient, every ``param.grad`` and every buffer by name, shapes
   first: a gradient that would merely broadcast to its input's shape is refused.

``assert_numerical_grad(scratch_module, *inputs)`` is the third witness: central differences
of the scratch forward alone, float64 only (in float32 they are noise).

Every message names the quantity, the witnesses (scratch, torch, central differences) and
where the worst difference is. Tolerances are stated once, here, per dtype.
"""

from __future__ import annotations

import copy as _copy
from collections.abc import Sequence

import numpy as np
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


def assert_close(actual, expected, what: str, dtype=np.float64, rtol=None, atol=None,
                 witnesses: tuple[str, str] = ("scratch", "torch")) -> None:
    """Shape, then values, with a message that says which quantity and where it is worst.

    ``witnesses`` name the two sides in the message: ("scratch", "torch") by default.
    """
    actual = _numpy(actual)
    expected = _numpy(expected)
    tol = tolerance(dtype)
    rtol = tol["rtol"] if rtol is None else rtol
    atol = tol["atol"] if atol is None else atol
    mine, theirs = witnesses
    assert actual.shape == expected.shape, (
        f"{what}: shape {actual.shape} ({mine}) != {expected.shape} ({theirs})"
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
            f"worst at index {tuple(int(i) for i in worst)}: {mine} {actual64[worst]!r}, "
            f"{theirs} {expected64[worst]!r} (abs diff {error[worst]:.3e})"
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
) -> dict:
    """Forward and backward parity of a scratch module and its torch twin (see the module's
    docstring for what is compared).

    ``inputs``: NumPy arrays. Floating ones are cast to ``dtype``; integer ones (class
    targets) pass unchanged. ``grad_inputs``: the positions of the inputs whose gradient
    the scratch ``backward`` returns (one array for one position, a tuple for several).
    ``copy=False`` keeps both modules' own weights (when the test set them itself) instead of
    copying torch's into scratch. The modules given are never changed: both run as copies.
    Returns the scratch output and gradients, and the two copies that ran ("scratch",
    "torch"), for tests that check more.
    """
    dtype = np.dtype(dtype)
    torch_module = _copy.deepcopy(torch_module).to(TORCH_DTYPES[dtype])
    scratch_module = _copy.deepcopy(scratch_module).to(dtype)
    if copy:
        copy_weights(torch_module, scratch_module)
    name = type(scratch_module).__name__
    tol = {"dtype": dtype, "rtol": rtol, "atol": atol}
    torch_module.zero_grad(set_to_none=True)          # a module used before brings its .grad
    untouched = _copy.deepcopy(scratch_module)        # for the backward-before-forward check

    np_inputs = [_cast(x, dtype) for x in inputs]
    torch_inputs = []
    for i, x in enumerate(np_inputs):
        t = torch.from_numpy(np.array(x, copy=True))
        if i in grad_inputs:
            t.requires_grad_(True)
        torch_inputs.append(t)

    out = scratch_module(*np_inputs)
    torch_out = torch_module(*torch_inputs)
    assert_close(out, torch_out, f"{name} forward output", **tol)

    rng = np.random.default_rng(seed)
    grad_out = rng.standard_normal(np.shape(out)).astype(dtype)   # random ∂L/∂out, never ones
    if np.ndim(out) == 0:
        grad_out = dtype.type(grad_out)
    prefilled = _prefill(scratch_module, rng)            # backward must add to these
    torch_out.backward(torch.from_numpy(np.array(grad_out, dtype=dtype)))
    grads = scratch_module.backward(grad_out)
    if len(grad_inputs) == 1:
        grads = (grads,)
    assert len(grads) == len(grad_inputs), (
        f"{name}.backward returned {len(grads)} gradients, "
        f"expected {len(grad_inputs)} (for inputs {tuple(grad_inputs)})"
    )
    for position, grad in zip(grad_inputs, grads, strict=True):
        assert_close(grad, torch_inputs[position].grad, f"{name} gradient of input {position}", **tol)

    torch_params = dict(torch_module.named_parameters())
    scratch_params = dict(scratch_module.named_parameters())
    assert set(torch_params) == set(scratch_params), (
        f"parameter names differ: torch {sorted(torch_params)}, scratch {sorted(scratch_params)}"
    )
    for pname, param in scratch_params.items():
        expected = torch_params[pname].grad
        if expected is None:          # torch leaves .grad None where the output ignores it
            expected = torch.zeros_like(torch_params[pname])
        assert_close(np.asarray(param.grad) - prefilled[pname], expected,
                     f"{name} {pname}.grad (what backward added to it)", **tol)
    scratch_buffers = dict(scratch_module.named_buffers())
    for bname, buffer in torch_module.named_buffers():
        assert_close(scratch_buffers[bname], buffer, f"{name} buffer {bname}", **tol)
    _assert_backward_needs_forward(untouched, grad_out)
    return {"out": out, "grads": grads, "scratch": scratch_module, "torch": torch_module}


def _prefill(module: Module, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Fill every param.grad with random numbers, kept: a backward that overwrites the
    gradient instead of adding to it (``=`` for ``+=``) then shows."""
    prefilled = {}
    for pname, param in module.named_parameters():
        values = rng.standard_normal(param.data.shape).astype(param.data.dtype)
        param.grad = values.copy()
        prefilled[pname] = values
    return prefilled


def _assert_backward_needs_forward(module: Module, grad_out) -> None:
    """A backward before any forward has nothing to differentiate: it must raise, naming the
    layer (or the sub-layer that found nothing saved)."""
    names = {type(m).__name__ for m in module.modules()}
    for m in module.modules():               # as if new: nothing saved by an earlier forward
        object.__setattr__(m, "cache", None)
    try:
        module.backward(grad_out)
    except Exception as error:
        message = f"{type(error).__name__}: {error}"
        assert any(n in message for n in names), (
            f"{type(module).__name__}.backward before forward raised, but the message names no "
            f"layer ({', '.join(sorted(names))}): {message}"
        )
        return
    raise AssertionError(f"{type(module).__name__}.backward ran before any forward: it should "
                         f"refuse, since nothing is saved to differentiate")


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
    """The scratch backward against central differences of the scratch forward (float64),
    on a copy of the module (the one given is not changed).

    L(x, θ) = Σ g ⊙ module(x) with a fixed random g, so ∂L/∂x is the backward of g.
    Tolerance: the O(ε²) truncation error with ε = 1e-6 is ~1e-12 for smooth functions;
    rounding gives ~1e-10 absolute, hence atol 1e-8 and rtol 1e-5 with room for curvature.
    Inputs must keep away from kinks (ReLU at 0, max-pool ties) by more than ε.
    """
    scratch_module = _copy.deepcopy(scratch_module).double()
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
    witnesses = ("scratch backward", "central differences")
    for position, grad in zip(grad_inputs, grads, strict=True):
        expected = numerical_grad(loss, xs[position], eps)
        assert_close(grad, expected, f"{name} gradient of input {position} vs central differences",
                     rtol=rtol, atol=atol, witnesses=witnesses)
    for pname, param in scratch_module.named_parameters():
        expected = numerical_grad(loss, param.data, eps)
        assert_close(param.grad, expected, f"{name} {pname}.grad vs central differences",
                     rtol=rtol, atol=atol, witnesses=witnesses)


def _cast(x, dtype):
    x = np.asarray(x)
    if np.issubdtype(x.dtype, np.floating):
        return x.astype(dtype)
    return x


def _numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


__all__ = ["TOLERANCES", "assert_close", "assert_numerical_grad", "assert_parity", "copy_weights",
           "numerical_grad", "tolerance"]
