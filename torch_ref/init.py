"""Weight initialisation: torch.nn.init.

The formulas are in scratch/init.py; torch.nn.init is the reference implementation.
``default_init_`` spells out what ``nn.Linear`` and ``nn.Conv2d`` do in ``reset_parameters``.

twin: scratch/init.py
"""

from __future__ import annotations

import math

import torch
from torch import nn

# torch.nn.init's own functions
calculate_gain = nn.init.calculate_gain
uniform_ = nn.init.uniform_
normal_ = nn.init.normal_
constant_ = nn.init.constant_
zeros_ = nn.init.zeros_
ones_ = nn.init.ones_
xavier_uniform_ = nn.init.xavier_uniform_
xavier_normal_ = nn.init.xavier_normal_
kaiming_uniform_ = nn.init.kaiming_uniform_
kaiming_normal_ = nn.init.kaiming_normal_


def default_init_(weight, bias=None,
                  generator=None):
    """nn.Linear's reset_parameters."""
    fans = nn.init._calculate_fan_in_and_fan_out
    with torch.no_grad():
        nn.init.kaiming_uniform_(
            weight, a=math.sqrt(5),
            generator=generator)
        if bias is not None:
            fan_in, _ = fans(weight)
            bound = 0.0
            if fan_in > 0:
                bound = 1 / math.sqrt(fan_in)
            nn.init.uniform_(
                bias, -bound, bound,
                generator=generator)
    return weight
