"""Argument checks for every scratch layer, loss, optimizer and scheduler, written once.

A layer reaches them in a line per argument::

    self.in_features = check.integer("Linear", "in_features", in_features, minimum=0)
    check.input(self, x, dtype=self.weight.dtype)

``where`` is the layer: a string (a constructor, before the layer exists) or the layer
itself (its ``repr`` then names it with its arguments, as torch prints it). Every message
names the layer, the argument, what it expected and what it got, so a refusal reads the
same wherever it comes from. Nothing here computes: the maths stays in the concept files.
"""

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


# -- arrays ----------------------------------------------------------------------------------
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


# -- numbers ---------------------------------------------------------------------------------
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


# -- windows: convolution and pooling --------------------------------------------------------
def pair(where, name: str, value, minimum: int) -> tuple[int, int]:
    """An int, or a tuple of one or two ints, each ≥ minimum, as two ints (torch's ``_pair``)."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(values) == 1:
        values = values * 2
    if len(values) != 2 or not all(_is_int(v) and v >= minimum for v in values):
        raise ValueError(f"{name_of(where)}: {name} must be an int or a pair of ints ≥ {minimum}, "
                         f"got {value!r}")
    return int(values[0]), int(values[1])


def conv_padding(where, padding, kernel_size, stride, dilation) -> tuple[int, int, int, int]:
    """``padding`` as (top, bottom, left, right).

    'valid' is no padding. 'same' pads d·(k − 1) in total per dimension, so that H_out = H at
    stride 1; when that total is odd the extra row (column) goes to the bottom (right), as torch
    does (ATen/native/Convolution.cpp, ``_convolution_mode``).
    """
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0, 0, 0
        if padding != "same":
            raise ValueError(f"{name_of(where)}: padding must be an int, a pair of ints, 'valid' or "
                             f"'same', got {padding!r}")
        if stride != (1, 1):
            raise ValueError(f"{name_of(where)}: padding='same' is not supported for strided "
                             f"convolutions (as in torch), got stride={stride}")
        total_h, total_w = (d * (k - 1) for d, k in zip(dilation, kernel_size, strict=True))
        return total_h // 2, total_h - total_h // 2, total_w // 2, total_w - total_w // 2
    pad_h, pad_w = pair(where, "padding", padding, 0)
    return pad_h, pad_h, pad_w, pad_w


def output_fits(where, x_shape, kernel_size, pads, dilation, out_size) -> None:
    """An input at least as large as the dilated kernel, as torch asks."""
    if min(out_size) < 1:
        H, W = x_shape[-2:]
        top, bottom, left, right = pads
        span = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel_size, strict=True))
        raise ValueError(f"{name_of(where)}: the padded input ({H + top + bottom} x {W + left + right}) is "
                         f"smaller than the dilated kernel ({span[0]} x {span[1]}); input shape "
                         f"{tuple(x_shape)}")


def conv_groups(where, in_channels: int, out_channels: int, groups) -> int:
    groups = integer(where, "groups", groups, minimum=1)
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"{name_of(where)}: in_channels={in_channels} and out_channels={out_channels} "
                         f"must both be divisible by groups={groups}")
    return groups


def conv_functional(where, x, weight, bias, groups) -> None:
    """The functional convolutions: shapes that fit together, one dtype."""
    input(where, x, ndim=4, layout="(N, C_in, H, W)")
    input(where, weight, name="weight", ndim=4, dtype=x.dtype, layout="(C_out, C_in / groups, kH, kW)")
    if bias is not None:
        input(where, bias, name="bias", ndim=1, dtype=x.dtype, layout="(C_out,)")
        if bias.shape[0] != weight.shape[0]:
            raise ValueError(f"{where}: bias must have C_out={weight.shape[0]} elements, "
                             f"got shape {bias.shape}")
    if not _is_int(groups) or groups < 1:
        raise ValueError(f"{where}: groups must be a positive int, got {groups!r}")
    if weight.shape[0] % groups:
        raise ValueError(f"{where}: weight's C_out={weight.shape[0]} must be divisible by groups={groups}")
    if x.shape[1] != weight.shape[1] * groups:
        raise ValueError(f"{where}: input must have C_in = groups · weight.shape[1] = "
                         f"{weight.shape[1] * groups} channels, got {x.shape[1]} (input shape {x.shape}, "
                         f"weight shape {weight.shape})")


def padding_mode(where, value) -> str:
    if value != "zeros":
        raise ValueError(f"{name_of(where)}: only padding_mode='zeros' is implemented here, got {value!r} "
                         f"(torch also offers 'reflect', 'replicate', 'circular')")
    return value


def pool_padding(where, padding, kernel, pads) -> None:
    for k, p in zip(kernel, pads, strict=True):
        if p > k // 2:             # torch refuses it too: a window could lie wholly in padding
            raise ValueError(f"{name_of(where)}: padding must be at most half of kernel_size, got "
                             f"padding={padding} with kernel_size={kernel if len(set(kernel)) > 1 else kernel[0]}")


def pool_input(where, x, out_size) -> None:
    if 0 in x.shape[-3:]:
        raise ValueError(f"{name_of(where)}: input must have non-empty C, H and W, got shape {x.shape}")
    if min(out_size) < 1:
        raise ValueError(f"{name_of(where)}: input of spatial size {x.shape[-2:]} is too small, "
                         f"the output would be {out_size}")


# -- dimensions ------------------------------------------------------------------------------
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


# -- losses ----------------------------------------------------------------------------------
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
