"""Sequential: scratch/sequential.py against torch_ref/sequential.py (torch.nn.Sequential)."""

import numpy as np
import pytest
import torch
from torch import nn

from parity_tests.helpers import assert_parity
from scratch.activations import ReLU, Tanh
from scratch.linear import Linear
from scratch.module import Module
from scratch.sequential import Sequential
from torch_ref.linear import Linear as TorchLinear
from torch_ref.sequential import Sequential as TorchSequential


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sequential_parity(dtype, rng):
    torch.manual_seed(0)
    ours = Sequential(Linear(5, 4), Tanh(), Linear(4, 3), ReLU(), Linear(3, 2))
    theirs = TorchSequential(TorchLinear(5, 4), nn.Tanh(), TorchLinear(4, 3), nn.ReLU(), TorchLinear(3, 2))
    assert_parity(ours, theirs, rng.standard_normal((6, 5)), dtype=dtype)


def test_sequential_can_skip_the_input_gradient(rng):
    """The data need no gradient: the first layer skips ∂L/∂x, the parameter gradients stay."""
    seq = Sequential(Linear(3, 4, generator=rng), ReLU(), Linear(4, 2, generator=rng)).double()
    x, g = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    seq(x)
    grad_x = seq.backward(g)
    full = [p.grad.copy() for p in seq.parameters()]
    seq.zero_grad()
    seq(x)
    assert seq.backward(g, need_input_grad=False) is None
    assert grad_x.shape == (5, 3)
    for before, after in zip(full, (p.grad for p in seq.parameters()), strict=True):
        np.testing.assert_array_equal(after, before)
    first_without = Sequential(ReLU(), Linear(3, 2, generator=rng)).double()   # ReLU cannot skip
    first_without(x)
    assert first_without.backward(g, need_input_grad=False).shape == (5, 3)


def test_sequential_backward_runs_in_reverse():
    order = []

    class Tag(Module):
        def __init__(self, name):
            super().__init__()
            self.name = name

        def forward(self, x):
            order.append(("forward", self.name))
            return x

        def backward(self, grad_out):
            order.append(("backward", self.name))
            return grad_out

    seq = Sequential(Tag("a"), Tag("b"), Tag("c"))
    seq.backward(seq(np.zeros(1)))
    assert [name for _, name in order] == ["a", "b", "c", "c", "b", "a"]


def test_sequential_keys_match_torch():
    scratch_seq = Sequential(Linear(2, 3), Linear(3, 1))
    torch_seq = nn.Sequential(TorchLinear(2, 3), TorchLinear(3, 1))
    assert list(scratch_seq.state_dict()) == list(torch_seq.state_dict())


def test_sequential_refuses_non_modules():
    with pytest.raises(TypeError, match="argument 1 must be a scratch Module, got function"):
        Sequential(Linear(2, 2), lambda x: x)
