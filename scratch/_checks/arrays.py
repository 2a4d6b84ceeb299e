"""Checks of arrays: type, dtype, rank, shape, dims, and what forward saved."""

from __future__ import annotations

import numpy as np

from scratch._checks._base import DEFAULT_DTYPE, FLOAT_DTYPES, _is_int, name_of


def input(where, x, *, name: str = "input", ndim=None, dtype=None, layout: str = "") -> None:
    """Refuse what torch refuses: not an array, not float, the wrong rank, the wrong dtype.

    ``ndim``: the accepted ranks. ``dtype``: the dtype the input must have (the layer's
    parameters', since torch refuses float64 input to a float32 layer). ``layout``: the
    expected shape, e.g. ``"(N, C_in, H, W)"``.
    """
    where = name_of(where)
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{where}: {name} must be a NumPy array, got {type(x).__name__}")
    if x.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{where}: {name} must be float32 or float64, got dtype {x.dtype} "
                        f"(convert with x.astype(np.float32))")
    if ndim is not None:
        accepted = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if x.ndim not in accepted:
            wanted = " or ".join(f"{d}-D" for d in accepted)
            hint = f" {layout}" if layout else ""
            raise ValueError(f"{where}: {name} must be {wanted}{hint}, got {x.ndim}-D with shape {x.shape}")
    if dtype is not None and x.dtype != np.dtype(dtype):
        raise TypeError(f"{where}: {name} has dtype {x.dtype} but the layer's parameters are "
                        f"{np.dtype(dtype)}; convert the input or call .double()/.float() on the layer")


def dtype(where, value=None) -> np.dtype:
    """A layer's ``dtype=`` argument: None means float32 (torch's default); else float32/64."""
    if value is None:
        return np.dtype(DEFAULT_DTYPE)
    value = np.dtype(value)
    if value not in FLOAT_DTYPES:
        raise TypeError(f"{name_of(where)}: dtype must be float32 or float64, got {value}")
    return value


def last_dim(where, x, name: str, size: int) -> None:
    """x: (*, size), the layout of Linear and Neuron."""
    if x.ndim == 0 or x.shape[-1] != size:
        raise ValueError(f"{name_of(where)}: input must have shape (*, {name}={size}), got shape {x.shape}")


def channels(where, x, name: str, size: int, dim: int, shown=None) -> None:
    """x.shape[dim] == size: the channel dimension of Conv2d (−3) or BatchNorm (1)."""
    if x.shape[dim] != size:
        place = "(dimension -3)" if dim == -3 else f"in dimension {dim}"
        raise ValueError(f"{name_of(where)}: input must have {name}={size} channels {place}, "
                         f"got shape {x.shape if shown is None else shown}")


def same_shape(where, name: str, value: np.ndarray, expected: tuple) -> None:
    if value.shape != tuple(expected):
        raise ValueError(f"{name_of(where)}: {name} must have the shape {tuple(expected)}, got {value.shape}")


def cached(layer):
    """What the layer's forward saved, for its backward; refused if forward has not run."""
    if layer.cache is None:
        raise RuntimeError(f"{name_of(layer)}.backward was called before forward: nothing is "
                           f"saved to differentiate (call the layer on an input first)")
    return layer.cache


def dim(where, value: int, x: np.ndarray, name: str = "dim") -> int:
    """``value`` as a non-negative axis of x (a 0-d x has dims 0 and −1, as in torch)."""
    rank = max(x.ndim, 1)
    if not -rank <= value < rank:
        raise ValueError(f"{name_of(where)}: {name} must be in [{-rank}, {rank - 1}] for a {x.ndim}-D input "
                         f"of shape {x.shape}, got {name}={value}")
    return value % rank


def softmax_dim(where: str, value) -> int:
    if value is None:
        raise ValueError(
            f"{where}: dim=None is not supported; pass the dimension to normalise, e.g. "
            f"{where}(dim=1) for (N, C) scores. torch's implicit dim (0 for 0-, 1- and 3-D input, "
            f"1 otherwise) is deprecated and picks the batch dimension of 3-D input."
        )
    if not _is_int(value):
        raise TypeError(f"{where}: dim must be an int, got {type(value).__name__}")
    return int(value)


def tape_output(tensor, gradient) -> None:
    """Tensor.backward's output: it must require grad, and be a scalar unless a gradient is given."""
    if not tensor.requires_grad:
        raise RuntimeError("Tensor.backward: this tensor does not require grad: no tensor it was made "
                           "from has requires_grad=True")
    if gradient is None and tensor.data.size != 1:
        raise RuntimeError(f"Tensor.backward: grad can be implicitly created only for a scalar output, "
                           f"got shape {tensor.shape}; pass a gradient of that shape")
    if gradient is not None and np.shape(gradient) != tensor.shape:
        raise ValueError(f"Tensor.backward: gradient must have the output's shape {tensor.shape}, "
                         f"got {np.shape(gradient)} (it is ∂L/∂output, one number per element)")


def exact_shape(where, name: str, value, expected, *, what: str = "", context: str = "") -> None:
    """value.shape == expected, said as "<name> must have <what>shape <expected><context>"."""
    if value.shape != tuple(expected):
        raise ValueError(f"{name_of(where)}: {name} must have {what}shape {tuple(expected)}{context}, "
                         f"got {value.shape}")


def rank(where, x, ndims, layout: str) -> None:
    """x.ndim in ``ndims``; ``layout`` says them, e.g. "2-D (N, C) or 3-D (N, C, L)"."""
    if x.ndim not in ndims:
        raise ValueError(f"{name_of(where)}: input must be {layout}, got {x.ndim}-D with shape {x.shape}")


def axis(where, name: str, value: int, x) -> int:
    """Flatten's ``start_dim``/``end_dim`` as a non-negative axis (a 0-d x has one dim, as in torch)."""
    ndim = max(x.ndim, 1)
    if not -ndim <= value < ndim:
        raise ValueError(f"{name_of(where)}: {name}={value} is out of range for an input with {ndim} dims "
                         f"(expected {-ndim} ≤ {name} < {ndim})")
    return value % ndim


def dim_order(where, start: int, end: int, x) -> None:
    if start > end:
        raise ValueError(f"{name_of(where)}: start_dim must not come after end_dim, got dims {start} > {end} "
                         f"for an input of shape {x.shape}")


def mask(where, value, x) -> None:
    """Dropout's given mask: a boolean array (or NumPy bool, for a 0-d input) of the input's shape."""
    if not (isinstance(value, (np.ndarray, np.bool_)) and value.dtype == bool and value.shape == x.shape):
        raise ValueError(f"{name_of(where)}: mask must be a boolean array of the input's shape {x.shape}, "
                         f"got {getattr(value, 'dtype', type(value).__name__)} with shape {np.shape(value)}")


def module_dim(where: str, value) -> int:
    """``softmax_dim``, and as nn.Softmax's constructor a Python int only (np.int64 is refused)."""
    softmax_dim(where, value)
    if not isinstance(value, int):
        raise TypeError(f"{where}: dim must be an int, got {type(value).__name__}")
    return value


def submodule(where: str, index: int, module, kind: type) -> None:
    if not isinstance(module, kind):
        raise TypeError(f"{where}: argument {index} must be a scratch Module, got {type(module).__name__}")


def skips_input_grad(module) -> bool:
    """Whether a module's backward takes ``need_input_grad`` (Linear, Conv2d, the models)."""
    import inspect

    return "need_input_grad" in inspect.signature(module.backward).parameters
