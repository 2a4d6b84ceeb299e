"""Net, the MNIST CNN: scratch/cnn.py against torch_ref/cnn.py."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from parity_tests.helpers import assert_close, assert_numerical_grad, assert_parity
from scratch.cnn import Net
from torch_ref.cnn import Net as TorchNet

TINY = {"channels": (2, 3), "hidden": 5, "num_classes": 4}     # small enough for central differences


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch", [1, 5])
def test_net_parity(batch, dtype, rng):
    torch.manual_seed(0)
    x = rng.standard_normal((batch, 1, 28, 28))
    assert_parity(Net(), TorchNet(), x, dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_net_parity_other_sizes(dtype, rng):
    torch.manual_seed(1)
    x = rng.standard_normal((3, 1, 28, 28))
    assert_parity(Net(channels=(6, 10), hidden=7, num_classes=3),
                  TorchNet(channels=(6, 10), hidden=7, num_classes=3), x, dtype=dtype)


def test_net_parity_on_mnist_scale_inputs(rng):
    """Normalised MNIST pixels lie in [−0.42, 2.82], with many at the bottom value: ties in
    every max-pool window of the background, where the first maximum must take the gradient."""
    torch.manual_seed(2)
    x = np.full((4, 1, 28, 28), -0.4242)
    x[:, :, 6:22, 8:20] = rng.uniform(-0.4242, 2.8215, size=(4, 1, 16, 12))
    assert_parity(Net(), TorchNet(), x)


def test_net_numerical_gradient(rng):
    net = Net(**TINY, generator=rng)
    assert_numerical_grad(net, rng.standard_normal((1, 1, 28, 28)))


def test_net_state_dict_keys_are_torchs():
    keys = ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
            "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert list(Net().state_dict()) == keys
    assert list(TorchNet().state_dict()) == keys
    for key, value in Net().state_dict().items():
        assert value.shape == tuple(TorchNet().state_dict()[key].shape), key


def test_net_default_dtype_and_init(rng):
    net = Net(generator=rng)
    assert net.dtype == np.float32
    bound = 1 / np.sqrt(1 * 5 * 5)                     # torch's default: U(−1/√fan_in, 1/√fan_in)
    assert np.abs(net.conv1.weight.data).max() <= bound
    assert np.abs(net.conv1.weight.data).max() > 0.9 * bound


def test_net_backward_accumulates(rng):
    """Two backwards without zero_grad add up, as torch's .grad does."""
    net = Net(**TINY, generator=rng).double()
    x = rng.standard_normal((2, 1, 28, 28))
    g = rng.standard_normal((2, 4))
    net(x)
    net.backward(g)
    once = {name: p.grad.copy() for name, p in net.named_parameters()}
    net(x)
    net.backward(g)
    for name, p in net.named_parameters():
        np.testing.assert_allclose(p.grad, 2 * once[name], rtol=1e-12, err_msg=name)


def test_pool_before_relu_equals_relu_before_pool(rng):
    """The reordering scratch/cnn.py explains: ReLU(maxpool(x)) = maxpool(ReLU(x)), gradients
    included. Checked on torch alone, so the claim does not rest on our own layers."""
    x = torch.from_numpy(rng.standard_normal((3, 4, 8, 8)))
    x[0, 0, :2, :2] = -1.0                              # a window with nothing positive
    g = torch.from_numpy(rng.standard_normal((3, 4, 4, 4)))
    grads = []
    for f in (lambda t: F.relu(F.max_pool2d(t, 2)), lambda t: F.max_pool2d(F.relu(t), 2)):
        xi = x.clone().requires_grad_(True)
        out = f(xi)
        out.backward(g)
        grads.append((out.detach(), xi.grad))
    assert_close(grads[0][0], grads[1][0], "output", rtol=0, atol=0)
    assert_close(grads[0][1], grads[1][1], "input gradient", rtol=0, atol=0)


def test_net_rejects_wrong_input_like_torch():
    net, torch_net = Net(), TorchNet()
    with pytest.raises(ValueError, match=r"in_channels=1.*got shape \(2, 3, 28, 28\)"):
        net(np.zeros((2, 3, 28, 28), dtype=np.float32))
    with pytest.raises(RuntimeError):
        torch_net(torch.zeros(2, 3, 28, 28))
    with pytest.raises(ValueError, match=r"3-D or 4-D.*got 2-D"):
        net(np.zeros((2, 28), dtype=np.float32))
    with pytest.raises(RuntimeError):
        torch_net(torch.zeros(2, 28))


def test_net_rejects_other_image_sizes_like_torch():
    """fc1 expects C₂·4·4 inputs, which only 28×28 images give."""
    with pytest.raises(ValueError, match=r"in_features=512"):
        Net()(np.zeros((1, 1, 32, 32), dtype=np.float32))
    with pytest.raises(RuntimeError):
        TorchNet()(torch.zeros(1, 1, 32, 32))


def test_net_rejects_float64_input_to_float32_net_like_torch():
    with pytest.raises(TypeError, match=r"float64"):
        Net()(np.zeros((1, 1, 28, 28)))
    with pytest.raises(RuntimeError):
        TorchNet()(torch.zeros(1, 1, 28, 28, dtype=torch.float64))
