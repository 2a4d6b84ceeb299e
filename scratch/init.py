"""Weight initialisation.

fan_in  = C_in  · kH · kW   (for Linear: in_features)
fan_out = C_out · kH · kW   (for Linear: out_features)

xavier_uniform_ : U(−a, a),  a = gain · √(6 / (fan_in + fan_out))
xavier_normal_  : N(0, σ²),  σ = gain · √(2 / (fan_in + fan_out))
kaiming_uniform_: U(−b, b),  b = gain · √(3 / fan_mode)
kaiming_normal_ : N(0, σ²),  σ = gain / √fan_mode
gain: ReLU √2, leaky ReLU (slope a) √(2 / (1 + a²)), tanh 5/3

Each fills a Parameter (or array) in place, drawing from an
np.random.Generator (``generator=``; None: a fresh one).

twin: torch_ref/init.py (torch.nn.init)
story: docs/init.md (Glorot, He, and the tutorial's "Xavier")
"""

from __future__ import annotations

import math

import numpy as np

from scratch import _checks as check
from scratch.module import Parameter


def _array(tensor) -> np.ndarray:
    """The array a Parameter holds, or the array itself."""
    if isinstance(tensor, Parameter):
        return tensor.data
    if isinstance(tensor, np.ndarray):
        return tensor
    raise TypeError(f"init: tensor must be a Parameter or "
                    f"np.ndarray, got {type(tensor).__name__}")


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The factor that keeps activations' variance steady
    through ``nonlinearity``."""
    linear = ("linear", "conv1d", "conv2d", "conv3d",
              "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(
                slope, (int, float)):
            raise ValueError(f"calculate_gain: negative_slope "
                             f"{slope!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported "
                     f"nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(array):
    """(fan_in, fan_out) of a weight (out, in, *kernel)."""
    check.fan_dims("init", array)
    # ∏ kernel, 1 for a 2-D weight
    receptive_field = int(np.prod(array.shape[2:]))
    return (array.shape[1] * receptive_field,
            array.shape[0] * receptive_field)


def _fan(array: np.ndarray, mode: str) -> int:
    if isinstance(mode, str):
        mode = mode.lower()          # torch takes 'FAN_IN' too
    check.choice("init", "mode", mode, ("fan_in", "fan_out"))
    fan_in, fan_out = _calculate_fan_in_and_fan_out(array)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with U(a, b)."""
    array = _array(tensor)
    rng = check.generator("init", generator)
    array[...] = rng.uniform(a, b, size=array.shape)
    return tensor


def normal_(tensor, mean=0.0, std=1.0,
            generator=None):
    """Fill with N(mean, std²)."""
    array = _array(tensor)
    rng = check.generator("init", generator)
    array[...] = rng.normal(mean, std,
                            size=array.shape)
    return tensor


def constant_(tensor, val: float):
    _array(tensor)[...] = val
    return tensor


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor, gain=1.0,
                    generator=None):
    """U(−a, a),
    a = gain · √(6 / (fan_in + fan_out))"""
    fans = _calculate_fan_in_and_fan_out(
        _array(tensor))
    a = gain * math.sqrt(6.0 / sum(fans))
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, σ²), σ = gain · √(2 / (fan_in + fan_out))"""
    fans = _calculate_fan_in_and_fan_out(_array(tensor))
    std = gain * math.sqrt(2.0 / sum(fans))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor, a=0,
                     mode="fan_in",
                     nonlinearity="leaky_relu",
                     generator=None):
    """U(−b, b), b = gain · √(3 / fan)"""
    array = _array(tensor)
    if 0 in array.shape:  # torch warns, no-op
        return tensor
    fan = _fan(array, mode)
    gain = calculate_gain(nonlinearity, a)
    bound = gain * math.sqrt(3.0 / fan)
    return uniform_(tensor, -bound, bound,
                    generator)


def kaiming_normal_(tensor, a=0,
                    mode="fan_in",
                    nonlinearity="leaky_relu",
                    generator=None):
    """N(0, σ²), σ = gain / √fan"""
    array = _array(tensor)
    if 0 in array.shape:  # torch warns, no-op
        return tensor
    fan = _fan(array, mode)
    gain = calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


def default_init_(weight, bias=None, generator=None):
    """nn.Linear's and nn.Conv2d's reset_parameters:

    W ~ kaiming_uniform_(a=√5) = U(−1/√fan_in, 1/√fan_in)
    b ~ U(−1/√fan_in, 1/√fan_in)
    """
    generator = check.generator("init", generator)
    kaiming_uniform_(weight, a=math.sqrt(5),
                     generator=generator)
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(
            _array(weight))
        bound = 0.0
        if fan_in > 0:
            bound = 1 / math.sqrt(fan_in)
        uniform_(bias, -bound, bound, generator)
    return weight
