"""The scratch module system (scratch/module.py) against torch.nn.Module's contract."""

import numpy as np
import pytest
import torch
from torch import nn

from parity_tests.helpers import assert_parity
from scratch.linear import Linear
from scratch.module import Module, Parameter
from scratch.sequential import Sequential
from torch_ref.linear import Linear as TorchLinear


class ScratchTwoLayer(Module):
    def __init__(self):
        super().__init__()
        self.fc1 = Linear(4, 5)
        self.body = Sequential(Linear(5, 3), Linear(3, 2, bias=False))

    def forward(self, x):
        return self.body(self.fc1(x))

    def backward(self, grad_out):
        return self.fc1.backward(self.body.backward(grad_out))


class TorchTwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = TorchLinear(4, 5)
        self.body = nn.Sequential(TorchLinear(5, 3), TorchLinear(3, 2, bias=False))

    def forward(self, x):
        return self.body(self.fc1(x))


def test_named_parameters_match_torch_in_name_order_and_shape():
    scratch_names = [(n, p.shape) for n, p in ScratchTwoLayer().named_parameters()]
    torch_names = [(n, tuple(p.shape)) for n, p in TorchTwoLayer().named_parameters()]
    assert scratch_names == torch_names


def test_nested_model_parity_through_sequential(rng):
    torch.manual_seed(0)
    assert_parity(ScratchTwoLayer(), TorchTwoLayer(), rng.standard_normal((6, 4)))


def test_state_dict_round_trip_scratch_to_torch(rng):
    scratch_model = ScratchTwoLayer()
    for p in scratch_model.parameters():
        p.data[...] = rng.standard_normal(p.shape)
    torch_model = TorchTwoLayer()
    torch_model.load_state_dict({k: torch.from_numpy(v) for k, v in scratch_model.state_dict().items()})
    x = rng.standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(
        scratch_model(x), torch_model(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6
    )


def test_state_dict_is_a_copy():
    model = ScratchTwoLayer()
    sd = model.state_dict()
    sd["fc1.weight"][...] = 7.0
    assert not np.any(model.fc1.weight.data == 7.0)


def test_load_state_dict_names_missing_and_unexpected_keys():
    model = ScratchTwoLayer()
    sd = model.state_dict()
    sd["fc9.weight"] = sd.pop("fc1.weight")
    with pytest.raises(KeyError, match=r"missing: \['fc1.weight'\].*unexpected: \['fc9.weight'\]"):
        model.load_state_dict(sd)


def test_load_state_dict_names_shape_mismatch_and_changes_nothing():
    model = ScratchTwoLayer()
    before = model.state_dict()
    sd = model.state_dict()
    sd["fc1.bias"] = np.zeros(9)
    sd["fc1.weight"] = np.ones((5, 4))
    with pytest.raises(ValueError, match=r"fc1.bias: checkpoint \(9,\), model \(5,\)"):
        model.load_state_dict(sd)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_load_state_dict_keeps_module_dtype_like_torch_copy():
    model = ScratchTwoLayer()
    model.load_state_dict({k: v.astype(np.float64) for k, v in model.state_dict().items()})
    assert all(p.dtype == np.float32 for p in model.parameters())


def test_double_float_convert_parameters_and_grads():
    model = ScratchTwoLayer()
    assert model.dtype == np.float32
    model.double()
    assert all(p.data.dtype == np.float64 and p.grad.dtype == np.float64 for p in model.parameters())
    model.float()
    assert all(p.data.dtype == np.float32 for p in model.parameters())
    with pytest.raises(TypeError, match="float32 or float64, got int32"):
        model.to(np.int32)


def test_train_eval_reach_every_submodule():
    model = ScratchTwoLayer()
    assert all(m.training for m in model.modules())
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_module_without_super_init_is_a_clear_error():
    class Broken(Module):
        def __init__(self):
            self.w = Parameter(np.zeros(2))

    with pytest.raises(AttributeError, match="must call super"):
        Broken()


def test_parity_helper_catches_a_wrong_backward(rng):
    """The harness itself must be able to fail: a Linear whose weight gradient is off by 1e-6."""

    class SlightlyWrong(Linear):
        def backward(self, grad_out):
            grad_x = super().backward(grad_out)
            self.weight.grad *= 1 + 1e-6
            return grad_x

    torch.manual_seed(0)
    with pytest.raises(AssertionError, match=r"weight.grad"):
        assert_parity(SlightlyWrong(3, 2), TorchLinear(3, 2), rng.standard_normal((4, 3)))


def test_parity_helper_catches_misnamed_parameters(rng):
    class Renamed(Module):
        def __init__(self):
            super().__init__()
            self.w = Parameter(np.zeros((2, 3)))

    with pytest.raises(AssertionError, match="state_dict keys differ"):
        assert_parity(Renamed(), TorchLinear(3, 2, bias=False), rng.standard_normal((4, 3)))
