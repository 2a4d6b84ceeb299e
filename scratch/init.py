"""Weight initialisation.                       twin: torch_ref/init.py (torch.nn.init)

Every function fills a Parameter (or array) in place, as torch's trailing underscore says,
and draws from an ``np.random.Generator`` (``generator=``; a fresh unseeded one if None).
RNG streams differ between NumPy and torch, so the parity tests compare distributions
(bounds, mean, standard deviation), never individual draws.

fan_in  = C_in  · kH · kW   (for Linear: in_features)
fan_out = C_out · kH · kW   (for Linear: out_features)

xavier_uniform_ : U(−a, a),  a = gain · √(6 / (fan_in + fan_out))        (Glorot & Bengio 2010)
xavier_normal_  : N(0, σ²),  σ = gain · √(2 / (fan_in + fan_out))
kaiming_uniform_: U(−b, b),  b = gain · √(3 / fan_mode)                    (He et al. 2015)
kaiming_normal_ : N(0, σ²),  σ = gain / √fan_mode
gain for ReLU = √2; for leaky ReLU with slope a: √(2 / (1 + a²)); for tanh 5/3.

Where the tutorials go wrong: one of them labels ``randn(fan_in, fan_out) * sqrt(2 / fan_in)``
"Xavier initialization". That is He (Kaiming) normal initialisation with mode fan_in for
ReLU: σ = √2/√fan_in. Xavier would be σ = √(2 / (fan_in + fan_out)).

torch's default for Linear and Conv2d (``default_init_`` here) is ``kaiming_uniform_`` with
a = √5, which works out to W ~ U(−1/√fan_in, 1/√fan_in), and b ~ U(−1/√fan_in, 1/√fan_in).
"""

from __future__ import annotations

import math

import numpy as np

from scratch.module import Parameter


def _array(tensor) -> np.ndarray:
    if isinstance(tensor, Parameter):
        return tensor.data
    if isinstance(tensor, np.ndarray):
        return tensor
    raise TypeError(f"init: tensor must be a Parameter or np.ndarray, got {type(tensor).__name__}")


def _generator(generator) -> np.random.Generator:
    if generator is None:
        return np.random.default_rng()
    if not isinstance(generator, np.random.Generator):
        raise TypeError(
            f"init: generator must be an np.random.Generator, got {type(generator).__name__}"
        )
    return generator


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that keeps activations' variance steady through ``nonlinearity``."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
              "conv_transpose2d", "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"calculate_gain: negative_slope {slope!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(array: np.ndarray) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel), as torch computes them."""
    if array.ndim < 2:
        raise ValueError(
            f"init: fan in and fan out need a weight with at least 2 dimensions, got shape {array.shape}"
        )
    receptive_field = int(np.prod(array.shape[2:])) if array.ndim > 2 else 1
    return array.shape[1] * receptive_field, array.shape[0] * receptive_field


def _fan(array: np.ndarray, mode: str) -> int:
    mode = mode.lower() if isinstance(mode, str) else mode      # torch accepts 'FAN_IN' too
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(array)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a: float = 0.0, b: float = 1.0, generator=None):
    """Fill with U(a, b)."""
    array = _array(tensor)
    array[...] = _generator(generator).uniform(a, b, size=array.shape)
    return tensor


def normal_(tensor, mean: float = 0.0, std: float = 1.0, generator=None):
    """Fill with N(mean, std²)."""
    array = _array(tensor)
    array[...] = _generator(generator).normal(mean, std, size=array.shape)
    return tensor


def constant_(tensor, val: float):
    _array(tensor)[...] = val
    return tensor


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor, gain: float = 1.0, generator=None):
    """U(−a, a) with a = gain · √(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(_array(tensor))
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain: float = 1.0, generator=None):
    """N(0, σ²) with σ = gain · √(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(_array(tensor))
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None):
    """U(−b, b) with b = gain · √(3 / fan); gain = calculate_gain(nonlinearity, a)."""
    if 0 in _array(tensor).shape:
        return tensor      # torch warns and leaves a zero-element tensor alone
    fan = _fan(_array(tensor), mode)
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None):
    """N(0, σ²) with σ = gain / √fan; gain = calculate_gain(nonlinearity, a)."""
    if 0 in _array(tensor).shape:
        return tensor
    fan = _fan(_array(tensor), mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


def default_init_(weight, bias=None, generator=None):
    """torch's ``reset_parameters`` for Linear and Conv2d.

    W ~ kaiming_uniform_(a=√5) = U(−1/√fan_in, 1/√fan_in);  b ~ U(−1/√fan_in, 1/√fan_in).
    """
    generator = _generator(generator)
    kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(_array(weight))
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        uniform_(bias, -bound, bound, generator)
    return weight
