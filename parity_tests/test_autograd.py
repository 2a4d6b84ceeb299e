"""The tape: scratch/autograd.py against torch.autograd (torch_ref/autograd.py).

Each operation's gradient is compared with torch's for one random upstream gradient, in
float64; then the graph's own rules (broadcasting undone, a tensor used twice, non-scalar
outputs), the MLP of the issue to 1e-10, and the MNIST CNN's gradient three ways: by the tape,
by the hand-written ``Net.backward``, and by torch's autograd.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import torch_ref.autograd as TA
from parity_tests.helpers import assert_close
from scratch.autograd import Tensor, conv2d, max_pool2d, mlp_nll
from scratch.cnn import Net
from torch_ref.cnn import Net as TorchNet


def check_op(scratch_fn, torch_fn, *arrays, seed: int = 0) -> None:
    """Forward values, then the gradient of every input for one random upstream gradient."""
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = scratch_fn(*ours), torch_fn(*theirs)
    assert_close(out.data, expected, "forward")
    g = np.random.default_rng(seed).standard_normal(expected.shape)     # never all ones
    out.backward(g)
    expected.backward(torch.from_numpy(g))
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert_close(a.grad, b.grad, f"gradient of input {i}")


@pytest.fixture
def arrays(rng):
    def make(*shapes, positive=False):
        out = [rng.standard_normal(s) for s in shapes]
        return [np.abs(a) + 0.5 for a in out] if positive else out
    return make


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_arithmetic(op, arrays):
    fn = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b,
          "mul": lambda a, b: a * b, "div": lambda a, b: a / b}[op]
    check_op(fn, fn, *arrays((3, 4), (3, 4), positive=op == "div"))


@pytest.mark.parametrize("op", ["radd", "rsub", "rmul", "rdiv", "add", "sub", "mul", "div", "neg"])
def test_with_python_numbers(op, arrays):
    fn = {"radd": lambda a: 2.5 + a, "rsub": lambda a: 2.5 - a, "rmul": lambda a: 2.5 * a,
          "rdiv": lambda a: 2.5 / a, "add": lambda a: a + 2.5, "sub": lambda a: a - 2.5,
          "mul": lambda a: a * 2.5, "div": lambda a: a / 2.5, "neg": lambda a: -a}[op]
    check_op(fn, fn, *arrays((3, 4), positive=True))


@pytest.mark.parametrize(("a", "b"), [((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((4,), ())],
                         ids=["row", "outer", "inner-axis", "scalar-array"])
@pytest.mark.parametrize("op", ["add", "mul", "div"])
def test_broadcasting_is_undone_in_backward(a, b, op, arrays):
    """The smaller input gets the gradient summed over the axes broadcasting stretched."""
    fn = {"add": lambda x, y: x + y, "mul": lambda x, y: x * y, "div": lambda x, y: x / y}[op]
    check_op(fn, fn, *arrays(a, b, positive=True))


@pytest.mark.parametrize(("a", "b"), [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)),
                                      ((2, 1, 3, 4), (5, 4, 2))],
                         ids=["2d", "batch-left", "batched", "broadcast"])
def test_matmul(a, b, arrays):
    check_op(lambda x, y: x @ y, lambda x, y: x @ y, *arrays(a, b))


def test_transpose_and_reshape(arrays):
    check_op(lambda x: x.T.reshape(6, 2), lambda x: x.T.reshape(6, 2), *arrays((3, 4)))
    check_op(lambda x: x.reshape((2, 6)), lambda x: x.reshape((2, 6)), *arrays((3, 4)))


@pytest.mark.parametrize("reduce", ["sum", "mean"])
@pytest.mark.parametrize(("dim", "keepdim"), [(None, False), (0, False), (1, True), (-1, False),
                                              ((0, 2), False), ((0, 2), True)])
def test_sum_and_mean(reduce, dim, keepdim, arrays):
    def fn(x):
        return getattr(x, reduce)() if dim is None else getattr(x, reduce)(dim=dim, keepdim=keepdim)
    check_op(fn, fn, *arrays((2, 3, 4)))


@pytest.mark.parametrize("op", ["exp", "log", "relu", "sigmoid", "tanh"])
def test_elementwise(op, arrays):
    x = arrays((4, 5), positive=op == "log")[0]
    if op in ("relu", "sigmoid", "tanh"):
        x = x * 3                                   # both signs, away from ReLU's kink
    check_op(lambda a: getattr(a, op)(), lambda a: getattr(a, op)(), x)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_log_softmax(dim, arrays):
    check_op(lambda a: a.log_softmax(dim=dim), lambda a: a.log_softmax(dim=dim), *arrays((3, 5)))


@pytest.mark.parametrize(("stride", "padding", "bias"), [(1, 0, True), (2, 1, True), (1, 2, False)])
def test_conv2d_reuses_the_layer(stride, padding, bias, arrays):
    x, w, b = arrays((2, 3, 7, 6), (4, 3, 3, 3), (4,))
    if bias:
        check_op(lambda x, w, b: conv2d(x, w, b, stride, padding),
                 lambda x, w, b: TA.conv2d(x, w, b, stride, padding), x, w, b)
    else:
        check_op(lambda x, w: conv2d(x, w, None, stride, padding),
                 lambda x, w: TA.conv2d(x, w, None, stride, padding), x, w)


@pytest.mark.parametrize(("kernel", "stride", "padding"), [(2, None, 0), (3, 2, 1), (2, 1, 0)])
def test_max_pool2d_reuses_the_layer(kernel, stride, padding, arrays):
    check_op(lambda x: max_pool2d(x, kernel, stride, padding),
             lambda x: TA.max_pool2d(x, kernel, stride, padding), *arrays((2, 3, 6, 7)))


# -- the graph's own rules ---------------------------------------------------------------------
def test_a_tensor_used_twice_sums_its_gradients(arrays):
    """x feeds three consumers; its gradient is the sum of the three paths."""
    def fn(x, w):
        h = x * w
        return (h * h + h.exp() - x) @ w.T
    check_op(fn, fn, *arrays((3, 4), (3, 4)))


def test_gradient_by_hand_on_a_shared_node():
    """y = x·x + x at x = 3: dy/dx = 2x + 1 = 7, by hand, not by our own code."""
    x = Tensor(np.array(3.0), requires_grad=True)
    (x * x + x).backward()
    assert x.grad == 7.0


def test_non_scalar_backward_needs_an_explicit_gradient(arrays):
    x = Tensor(arrays((3, 4))[0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"only for a scalar output, got shape \(3, 4\)"):
        (x * 2.0).backward()
    with pytest.raises(ValueError, match=r"gradient must have the output's shape \(3, 4\), got \(4,\)"):
        (x * 2.0).backward(np.ones(4))
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(np.ones(3)).sum().backward()


def test_leaf_gradients_accumulate_over_backward_calls(arrays):
    """As in torch: a second backward adds into a leaf's .grad; a non-leaf keeps its gradient
    only when asked to (retain_grad)."""
    a = arrays((3, 4))[0]
    x, t = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    for _ in range(2):
        hidden, t_hidden = (x * 3.0).retain_grad(), t * 3.0
        t_hidden.retain_grad()
        (hidden * hidden).sum().backward()
        (t_hidden * t_hidden).sum().backward()
    assert_close(x.grad, t.grad, "accumulated leaf gradient")
    assert_close(hidden.grad, t_hidden.grad, "retained gradient")
    product = x * 2.0
    product.sum().backward()
    assert product.grad is None and not product.is_leaf and x.is_leaf


def test_constants_keep_the_dtype(arrays):
    x = Tensor(arrays((3,))[0].astype(np.float32), requires_grad=True)
    y = (2.0 * x + 1.0) / 3.0 - x
    assert y.data.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_the_issue_mlp_equals_torch_to_1e_10(rng):
    """(x @ W1.T + b1).relu(), (h @ W2.T + b2).log_softmax(dim=1), times one-hot targets, summed
    and scaled: every gradient equals torch.autograd's to 1e-10."""
    arrays = [rng.standard_normal(s) for s in [(16, 10), (12, 10), (12,), (4, 12), (4,)]]
    onehot = np.eye(4)[rng.integers(0, 4, 16)]
    ours = [Tensor(a, requires_grad=i > 0) for i, a in enumerate(arrays)]
    theirs = [torch.tensor(a, requires_grad=i > 0) for i, a in enumerate(arrays)]
    loss = mlp_nll(*ours, Tensor(onehot))
    expected = TA.mlp_nll(*theirs, torch.tensor(onehot))
    loss.backward()
    expected.backward()
    assert_close(loss.data, expected, "loss", rtol=0, atol=1e-10)
    for name, a, b in zip(["W1", "b1", "W2", "b2"], ours[1:], theirs[1:], strict=True):
        assert_close(a.grad, b.grad, f"∂L/∂{name}", rtol=0, atol=1e-10)


def test_cnn_gradient_three_ways(rng):
    """The MNIST CNN's loss gradient by the tape, by Net.backward and by torch's autograd."""
    torch.manual_seed(0)
    torch_net = TorchNet().double()
    params = {k: v.detach().numpy() for k, v in torch_net.state_dict().items()}
    x = rng.standard_normal((6, 1, 28, 28))
    target = rng.integers(0, 10, 6)

    loss = F.cross_entropy(torch_net(torch.from_numpy(x)), torch.from_numpy(target))
    loss.backward()
    by_torch = {k: p.grad.numpy() for k, p in torch_net.named_parameters()}

    net = Net().double()
    net.load_state_dict(params)
    logits = net(x)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    net.backward((p - np.eye(10)[target]) / len(x))       # ∂(mean NLL)/∂logits = (p − y)/N
    by_hand = {k: param.grad for k, param in net.named_parameters()}

    w = {k: Tensor(v, requires_grad=True) for k, v in params.items()}
    h = max_pool2d(conv2d(Tensor(x), w["conv1.weight"], w["conv1.bias"]), 2).relu()
    h = max_pool2d(conv2d(h, w["conv2.weight"], w["conv2.bias"]), 2).relu()
    h = (h.reshape(6, -1) @ w["fc1.weight"].T + w["fc1.bias"]).relu()
    log_p = (h @ w["fc2.weight"].T + w["fc2.bias"]).log_softmax(dim=1)
    tape_loss = (log_p * np.eye(10)[target]).sum() * (-1 / 6)
    tape_loss.backward()
    assert_close(tape_loss.data, loss, "CNN loss, tape vs torch", rtol=1e-9, atol=0)
    for key in by_torch:
        scale = np.abs(by_torch[key]).max()
        assert_close(w[key].grad, by_torch[key], f"{key}.grad tape vs torch", rtol=0, atol=1e-9 * scale)
        assert_close(by_hand[key], by_torch[key], f"{key}.grad by hand vs torch", rtol=0, atol=1e-9 * scale)
        assert_close(w[key].grad, by_hand[key], f"{key}.grad tape vs by hand", rtol=0, atol=1e-9 * scale)
