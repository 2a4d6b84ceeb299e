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
            shown = kernel if len(set(kernel)) > 1 else kernel[0]
            raise ValueError(f"{name_of(where)}: padding must be at most half of kernel_size, got "
                             f"padding={padding} with kernel_size={shown}")


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


# -- conv, im2col, pooling -------------------------------------------------------------------
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
POOL_DTYPES = (np.float16, np.float32, np.float64)      # torch's CPU pools compute in half too


def conv_kernel(where, value) -> tuple[int, int]:
    """Conv2d's kernel_size: an int or a pair (torch makes a 1-tuple's weight 3-D, then refuses it)."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        raise ValueError(f"{name_of(where)}: kernel_size must be an int or a pair of ints ≥ 1, got {value!r}")
    return pair(where, "kernel_size", value, 1)


def conv_padding_mode(where, mode, padding) -> str:
    choice(where, "padding_mode", mode, PADDING_MODES)
    if mode != "zeros" and isinstance(padding, (tuple, list)) and len(padding) == 1:
        raise ValueError(f"{name_of(where)}: with padding_mode={mode!r}, padding must be an int or a pair of "
                         f"ints, got {padding!r} (torch then pads W alone, and refuses a batch)")
    return mode


def conv_mode_padding(where, padding, kernel_size, stride, dilation, mode) -> tuple[int, int, int, int]:
    """``conv_padding``; with padding_mode other than 'zeros', negative ints too (F.pad crops)."""
    if mode == "zeros" or isinstance(padding, str):
        return conv_padding(where, padding, kernel_size, stride, dilation)
    values = tuple(padding) if isinstance(padding, (tuple, list)) else (padding, padding)
    if len(values) == 1:
        values = values * 2
    if len(values) != 2 or not all(_is_int(v) for v in values):
        raise ValueError(f"{name_of(where)}: padding must be an int, a pair of ints, 'valid' or 'same', "
                         f"got {padding!r}")
    pad_h, pad_w = int(values[0]), int(values[1])
    return pad_h, pad_h, pad_w, pad_w


def conv_image(where, x, pads, mode) -> None:
    """What F.conv2d and F.pad refuse of a batched input (N, C, H, W), refused as they do."""
    if 0 in x.shape[2:]:
        raise ValueError(f"{name_of(where)}: input must have non-empty H and W (torch takes an empty batch "
                         f"or no channels, nothing else), got shape {x.shape}")
    conv_channels(where, x)
    for dim, size, (before, after) in (("H", x.shape[2], pads[:2]), ("W", x.shape[3], pads[2:])):
        if mode == "reflect" and max(before, after) >= size:
            raise ValueError(f"{name_of(where)}: reflect padding must be smaller than the input, got "
                             f"padding {(before, after)} on {dim}={size} (input shape {x.shape})")
        if mode == "circular" and max(before, after) > size:
            raise ValueError(f"{name_of(where)}: circular padding must be at most the input's size (it "
                             f"would wrap around more than once), got padding {(before, after)} on "
                             f"{dim}={size} (input shape {x.shape})")


def flag(where, name: str, value) -> bool:
    """A bool, as torch's pooling functions ask (an int or a NumPy bool is a TypeError there)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name_of(where)}: {name} must be a bool, got {value!r}")
    return value


def pool_stride(where, stride, kernel: tuple[int, int]) -> tuple[int, int]:
    """None or an empty sequence mean stride = kernel_size, as in torch (ATen: 'omitted')."""
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        return kernel
    return pair(where, "stride", stride, 1)


def pool_divisor(where, value):
    if value is not None and (not _is_int(value) or value == 0):
        raise ValueError(f"{name_of(where)}: divisor_override must be None or a non-zero int, got {value!r}")
    return value


def pool_image(where, x, *, ndim, layout: str) -> None:
    """``input`` for the pools, which take float16 as well (torch computes it on the CPU)."""
    if isinstance(x, np.ndarray) and x.dtype not in POOL_DTYPES:
        raise TypeError(f"{name_of(where)}: input must be float16, float32 or float64, got dtype {x.dtype} "
                        f"(convert with x.astype(np.float32))")
    if isinstance(x, np.ndarray) and x.dtype == np.float16:
        x = np.broadcast_to(np.float32(0), x.shape)      # a stand-in: rank and layout are checked
    input(where, x, ndim=ndim, layout=layout)


def pool_dtype(where, value) -> np.dtype:
    """``.to(dtype)`` of a layer without parameters: any dtype its input may have."""
    value = np.dtype(value)
    if value not in POOL_DTYPES:
        raise TypeError(f"{name_of(where)}: dtype must be float16, float32 or float64, got {value}")
    return value


# -- autograd (the lead's) --
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


# -- conv, im2col, pooling (continued) ------------------------------------------------------
def conv_window(where, kernel_size, stride, padding, dilation):
    """A convolution's stride, dilation and padding as (top, bottom, left, right)."""
    stride, dilation = pair(where, "stride", stride, 1), pair(where, "dilation", dilation, 1)
    return stride, dilation, conv_padding(where, padding, kernel_size, stride, dilation)


def conv_nonempty(where, x, weight) -> None:
    """torch's conv2d needs at least one filter, weight (C_out ≥ 1, …), and one input channel."""
    conv_channels(where, x)
    if weight.shape[0] == 0:
        raise ValueError(f"{name_of(where)}: weight must hold at least one filter (C_out ≥ 1), "
                         f"got shape {weight.shape}")


def exact_shape(where, name: str, value, expected, *, what: str = "", context: str = "") -> None:
    """value.shape == expected, said as "<name> must have <what>shape <expected><context>"."""
    if value.shape != tuple(expected):
        raise ValueError(f"{name_of(where)}: {name} must have {what}shape {tuple(expected)}{context}, "
                         f"got {value.shape}")


def fits_valid(where, image_shape, kernel_shape) -> None:
    """mode='valid' of a true convolution: the kernel must fit inside the image."""
    if image_shape[0] < kernel_shape[0] or image_shape[1] < kernel_shape[1]:
        raise ValueError(f"{name_of(where)}: mode='valid' needs an image at least as large as the kernel, "
                         f"got image {image_shape} and kernel {kernel_shape}")


# -- neuron, perceptron, init, regularization, dropout, flatten, batchnorm -----------------
def half_input(where, x) -> None:
    """``input`` for the layers torch also computes in float16 on the CPU (Flatten, Dropout)."""
    pool_image(where, x, ndim=None, layout="")


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


def unit_interval(where, name: str, value):
    """A real number in [0, 1] (not a bool, not NaN), returned as given: torch keeps Dropout(1)'s int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ValueError(f"{name_of(where)}: {name} must be between 0 and 1, got {value!r}")
    return value


def inside(where, name: str, value, low: float, high: float) -> None:
    """low < value < high."""
    if not low < value < high:
        raise ValueError(f"{name_of(where)}: {name} must be in ({low:g}, {high:g}), got {value!r}")


def mask(where, value, x) -> None:
    """Dropout's given mask: a boolean array (or NumPy bool, for a 0-d input) of the input's shape."""
    if not (isinstance(value, (np.ndarray, np.bool_)) and value.dtype == bool and value.shape == x.shape):
        raise ValueError(f"{name_of(where)}: mask must be a boolean array of the input's shape {x.shape}, "
                         f"got {getattr(value, 'dtype', type(value).__name__)} with shape {np.shape(value)}")


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


def one_per_output(where, target, out) -> None:
    if target.size != out.size:
        raise ValueError(f"{name_of(where)}: target must hold one value per output, {out.size} "
                         f"(output shape {out.shape}), got shape {target.shape}")


def fan_dims(where, array) -> None:
    """Fans need a weight (out, in, *kernel): at least 2 dimensions."""
    if array.ndim < 2:
        raise ValueError(f"{name_of(where)}: fan in and fan out need a weight with at least 2 dimensions, "
                         f"got shape {array.shape}")


def dropout_p(where, p):
    """Dropout's p, the probability of *dropping* a unit."""
    return unit_interval(where, "p (the drop probability)", p)


# -- augmentation (the lead's) --
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


def activation(where, value, names, module_type) -> None:
    """A neuron's φ: a name among ``names``, an instance of ``module_type``, or None (a = z)."""
    if value is None or isinstance(value, module_type):
        return
    if not isinstance(value, str):
        raise TypeError(f"{name_of(where)}: activation must be a name or a scratch Module, "
                        f"got {type(value).__name__}")
    if value not in names:
        raise ValueError(f"{name_of(where)}: activation must be one of {sorted(names)}, got {value!r}")


# -- optim, lr_scheduler --
def _array_number(value) -> bool:
    """A NumPy array or NumPy scalar of real numbers: scratch's stand-in for a torch tensor."""
    return isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "iuf"


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


def _python_int(where, name: str, value) -> int:
    """A positive Python int, as torch's OneCycleLR asks (``isinstance(value, int)``)."""
    if not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name_of(where)}: {name} must be a positive int, got {value!r}")
    return value


def steps(where, total_steps, epochs, steps_per_epoch) -> int:
    """OneCycleLR's length: total_steps, or epochs · steps_per_epoch."""
    if total_steps is not None:
        return _python_int(where, "total_steps", total_steps)
    if epochs is None or steps_per_epoch is None:
        raise ValueError(f"{name_of(where)}: give total_steps, or both epochs and steps_per_epoch")
    return _python_int(where, "epochs", epochs) * _python_int(where, "steps_per_epoch", steps_per_epoch)


def fraction(where, name: str, value) -> None:
    """A float in [0, 1], compared as torch's OneCycleLR compares (so NaN passes, as there)."""
    if value < 0 or value > 1 or not isinstance(value, float):
        raise ValueError(f"{name_of(where)}: {name} must be a float in [0, 1], got {value!r}")


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


# -- activations, losses, cross_entropy -----------------------------------------------------
def number_in(where, name: str, value, low: float, high: float) -> float:
    """A real number (not a bool) in [low, high] as a Python float; NaN is refused."""
    if not _is_number(value) or not low <= value <= high:
        raise ValueError(f"{name_of(where)}: {name} must be a number in [{low:g}, {high:g}], got {value!r}")
    return float(value)


def conv_channels(where, x) -> None:
    """At least one input channel. torch refuses none with the reflect and replicate modes, and
    otherwise returns an empty (N, 0, H_out, W_out): not the C_out maps of the bias it owes."""
    if x.shape[1] == 0:
        raise ValueError(f"{name_of(where)}: input must have at least one channel, got shape {x.shape} "
                         f"(torch refuses it with padding_mode 'reflect' or 'replicate' and otherwise "
                         f"returns an empty (N, 0, H_out, W_out), dropping the bias)")


def int64(where, name: str, value) -> int:
    """An int (not a bool) that fits in int64, as torch's C++ arguments must."""
    value = int_type(where, name, value)
    if not -2**63 <= value < 2**63:
        raise ValueError(f"{name_of(where)}: {name} must fit in int64, got {value}")
    return value


def module_dim(where: str, value) -> int:
    """``softmax_dim``, and as nn.Softmax's constructor a Python int only (np.int64 is refused)."""
    softmax_dim(where, value)
    if not isinstance(value, int):
        raise TypeError(f"{where}: dim must be an int, got {type(value).__name__}")
    return value


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


def conv_input(layer, x) -> bool:
    """Conv2d's input, (N, C_in, H, W) or (C_in, H, W), checked as torch checks it (the padded
    input at least as large as the dilated kernel); returns whether it came unbatched."""
    input(layer, x, ndim=(3, 4), dtype=layer.weight.dtype, layout="(N, C_in, H, W) or (C_in, H, W)")
    batched = x[None] if x.ndim == 3 else x
    channels(layer, batched, "in_channels", layer.in_channels, -3, shown=x.shape)
    kernel, _, dilation, pads, mode = layer._window
    conv_image(layer, batched, pads, mode)
    padded = (x.shape[-2] + pads[0] + pads[1], x.shape[-1] + pads[2] + pads[3])
    room = tuple(n - d * (k - 1) for n, k, d in zip(padded, kernel, dilation, strict=True))
    output_fits(layer, batched.shape, kernel, pads, dilation, room)     # room < 1: it does not fit
    return x.ndim == 3


# -- optim, lr_scheduler (continued) --
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


# -- sequential (the lead's) --
def submodule(where: str, index: int, module, kind: type) -> None:
    if not isinstance(module, kind):
        raise TypeError(f"{where}: argument {index} must be a scratch Module, got {type(module).__name__}")


def skips_input_grad(module) -> bool:
    """Whether a module's backward takes ``need_input_grad`` (Linear, Conv2d, the models)."""
    import inspect

    return "need_input_grad" in inspect.signature(module.backward).parameters
