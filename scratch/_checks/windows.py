"""Checks of convolution and pooling: kernels, strides, paddings, windows, images."""

from __future__ import annotations

import numpy as np

from scratch._checks._base import PADDING_MODES, POOL_DTYPES, _is_int, name_of
from scratch._checks.arrays import channels, input
from scratch._checks.scalars import choice, integer


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


def fits_valid(where, image_shape, kernel_shape) -> None:
    """mode='valid' of a true convolution: the kernel must fit inside the image."""
    if image_shape[0] < kernel_shape[0] or image_shape[1] < kernel_shape[1]:
        raise ValueError(f"{name_of(where)}: mode='valid' needs an image at least as large as the kernel, "
                         f"got image {image_shape} and kernel {kernel_shape}")


def half_input(where, x) -> None:
    """``input`` for the layers torch also computes in float16 on the CPU (Flatten, Dropout)."""
    pool_image(where, x, ndim=None, layout="")


def conv_channels(where, x) -> None:
    """At least one input channel. torch refuses none with the reflect and replicate modes, and
    otherwise returns an empty (N, 0, H_out, W_out): not the C_out maps of the bias it owes."""
    if x.shape[1] == 0:
        raise ValueError(f"{name_of(where)}: input must have at least one channel, got shape {x.shape} "
                         f"(torch refuses it with padding_mode 'reflect' or 'replicate' and otherwise "
                         f"returns an empty (N, 0, H_out, W_out), dropping the bias)")


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
