"""Argument checks for every scratch layer, loss, optimizer and scheduler, written once.

A layer reaches them in a line per argument::

    self.in_features = check.integer("Linear", "in_features", in_features, minimum=0)
    check.input(self, x, dtype=self.weight.dtype)

``where`` is the layer: a string (a constructor, before the layer exists) or the layer
itself (its ``repr`` then names it with its arguments, as torch prints it). Every message
names the layer, the argument, what it expected and what it got, so a refusal reads the
same wherever it comes from. Nothing here computes: the maths stays in the concept files.

The checks live in one module per kind of argument, each a short read; this package gathers
them under one name, ``check``:

    _base.py     the constants and predicates they share
    scalars.py   ints, reals, ranges, choices, generators
    arrays.py    type, dtype, rank, shape, dims, and what forward saved
    windows.py   convolution and pooling: kernels, strides, paddings, images
    losses.py    targets, weights, reductions, class indices
    layers.py    batch norm, dropout, init and augmentation arguments
    optim.py     optimizers' and schedulers' hyper-parameters
"""

from scratch._checks._base import *  # noqa: F403
from scratch._checks.arrays import *  # noqa: F403
from scratch._checks.layers import *  # noqa: F403
from scratch._checks.losses import *  # noqa: F403
from scratch._checks.optim import *  # noqa: F403
from scratch._checks.scalars import *  # noqa: F403
from scratch._checks.windows import *  # noqa: F403
