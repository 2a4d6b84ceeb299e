"""Small networks: scratch/mlp.py against torch_ref/mlp.py, layer by layer and trained in lockstep.

The lockstep runs start both twins from the same weights (initialised once, copied into the
other twin), feed them the same batches in the same order (one seeded permutation per epoch)
and compare the loss of every step in float64 at rtol 1e-7, then the final weights.
Run sizes are trimmed for speed where said; the accuracies reached are asserted loosely
(they document what the run achieves, the parity is the test).
"""

import numpy as np
import pytest
import torch

import scratch.mlp as sm
import scratch.optim as so
import scratch.training as st
import torch_ref.mlp as tm
import torch_ref.training as tt
from parity_tests.helpers import assert_close, assert_numerical_grad, assert_parity, copy_weights
from scratch.cross_entropy import CrossEntropyLoss
from scratch.losses import BCEWithLogitsLoss, MSELoss


def load_into_torch(model, tmodel):
    """The scratch twin's initial weights into the torch twin: initialised once, copied."""
    tmodel.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})


def lockstep(model, tmodel, loss_fn, tloss_fn, optimizer, toptimizer, x, target, epochs,
             batch_size=None, generator=None):
    """Train both twins on the same batches; returns the two per-step loss curves.

    The permutations are drawn once from ``generator`` and feed both twins. Each twin runs its
    whole course in turn: interleaving them step by step gives the same numbers, but on a busy
    2-core machine NumPy's and torch's worker threads then wait on each other at every switch
    (measured: 4000 two-moons steps took minutes instead of seconds).
    """
    tx, ttarget = torch.from_numpy(x), torch.from_numpy(target)
    batch_size = batch_size or len(x)
    orders = [generator.permutation(len(x)) if generator is not None else None for _ in range(epochs)]
    ours, theirs = [], []
    for order in orders:
        ours += st.train_epoch(model, loss_fn, optimizer, st.minibatches(x, target, batch_size, order))
    for order in orders:
        theirs += tt.train_epoch(tmodel, tloss_fn, toptimizer, tt.minibatches(tx, ttarget, batch_size, order))
    return np.array(ours), np.array(theirs)


def assert_same_weights(model, tmodel, what, dtype=np.float64):
    torch_state = tmodel.state_dict()
    for name, value in model.state_dict().items():
        assert_close(value, torch_state[name], f"{what}: {name} after training", dtype=dtype)


# -- the networks, one forward and backward ----------------------------------------------------
NETS = [
    (lambda: sm.XORNet(), lambda: tm.XORNet(), (5, 2)),
    (lambda: sm.XORNet(hidden=3), lambda: tm.XORNet(hidden=3), (1, 2)),          # batch of 1
    (lambda: sm.MoonsNet(), lambda: tm.MoonsNet(), (7, 2)),
    (lambda: sm.MLP(), lambda: tm.MLP(), (4, 784)),
    (lambda: sm.MLP(6, (5, 3), 4), lambda: tm.MLP(6, (5, 3), 4), (3, 6)),       # odd sizes
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("make", "make_torch", "shape"), NETS)
def test_network_parity(make, make_torch, shape, dtype, rng):
    torch.manual_seed(0)
    assert_parity(make(), make_torch(), rng.standard_normal(shape), dtype=dtype)


@pytest.mark.parametrize(("make", "shape"), [
    (lambda: sm.XORNet(generator=np.random.default_rng(0)), (5, 2)),
    (lambda: sm.MoonsNet(generator=np.random.default_rng(0)), (4, 2)),
    (lambda: sm.MLP(6, (5, 4), 3, generator=np.random.default_rng(0)), (3, 6)),
])
def test_network_numerical_gradient(make, shape, rng):
    assert_numerical_grad(make(), rng.standard_normal(shape))


@pytest.mark.parametrize(("make", "shape"), [
    (lambda: sm.XORNet(generator=np.random.default_rng(0)), (5, 2)),
    (lambda: sm.MoonsNet(generator=np.random.default_rng(0)), (4, 2)),
    (lambda: sm.MLP(6, (5, 4), 3, generator=np.random.default_rng(0)), (3, 6)),
])
def test_backward_without_the_input_gradient(make, shape, rng):
    """need_input_grad=False (the training step's: the data need no gradient, as in torch)
    returns None and leaves every parameter gradient as the full backward makes it."""
    model = make().double()
    x = rng.standard_normal(shape)
    g = rng.standard_normal(model(x).shape)
    grad_x = model.backward(g)
    full = {name: p.grad.copy() for name, p in model.named_parameters()}
    assert grad_x.shape == shape
    model.zero_grad()
    model(x)
    assert model.backward(g, need_input_grad=False) is None
    for name, param in model.named_parameters():
        assert np.array_equal(param.grad, full[name]), name
        assert param.grad.any(), name


def test_state_dict_keys_match_torch():
    for make, make_torch, _ in NETS:
        assert list(make().state_dict()) == list(make_torch().state_dict())


def test_mlp_he_initialisation():
    """W ~ N(0, 2/fan_in), b = 0 in both twins (compared as distributions: the RNGs differ)."""
    model = sm.MLP(generator=np.random.default_rng(0))
    tmodel = tm.MLP(generator=torch.Generator().manual_seed(0))
    for name, fan_in in (("fc1", 784), ("fc2", 128), ("fc3", 64)):
        for w in (getattr(model, name).weight.data, getattr(tmodel, name).weight.detach().numpy()):
            n = w.size
            # the sample std of n normal draws is within 5/√(2n) of σ with overwhelming odds
            assert abs(w.std() / np.sqrt(2 / fan_in) - 1) < 5 / np.sqrt(2 * n), name
            assert abs(w.mean()) < 5 * np.sqrt(2 / fan_in) / np.sqrt(n), name
        assert not getattr(model, name).bias.data.any()
        assert not getattr(tmodel, name).bias.detach().any()


# -- XOR with squared error ----------------------------------------------------------------
def test_xor_lockstep():
    """2-4-1, MSE, SGD lr 0.5, 1000 full-batch epochs (tutorial 001's settings).

    Initial weights from default_rng(0) by torch's default init rule. Not every start learns
    XOR with 4 ReLU units: of seeds 0–19, 3 end at 75% or 50% (hidden units that die or
    collapse onto one another); seed 0 is one of the 17 that reach 100%.
    """
    x, y = sm.xor_data()
    model = sm.XORNet(generator=np.random.default_rng(0)).double()
    tmodel = tm.XORNet().double()
    load_into_torch(model, tmodel)
    ours, theirs = lockstep(model, tmodel, MSELoss(), torch.nn.MSELoss(),
                            so.SGD(model.parameters(), lr=0.5),
                            torch.optim.SGD(tmodel.parameters(), lr=0.5), x, y, epochs=1000)
    assert len(ours) == 1000
    assert_close(ours, theirs, "XOR loss curve")
    assert_same_weights(model, tmodel, "XOR")
    predict = lambda out: out > 0.5                     # noqa: E731
    _, accuracy = st.evaluate(model, MSELoss(), [(x, y)], predict)
    _, taccuracy = tt.evaluate(tmodel, torch.nn.MSELoss(), [(torch.from_numpy(x), torch.from_numpy(y))],
                               predict)
    assert accuracy == taccuracy == 1.0
    assert ours[-1] < 0.01 < 0.2 < ours[0]


def test_xor_lockstep_float32():
    """The float32 tier: 200 steps stay within float32 tolerances."""
    dtype = np.float32
    x, y = sm.xor_data(dtype=dtype)
    model = sm.XORNet(generator=np.random.default_rng(0))
    tmodel = tm.XORNet()
    load_into_torch(model, tmodel)
    ours, theirs = lockstep(model, tmodel, MSELoss(), torch.nn.MSELoss(),
                            so.SGD(model.parameters(), lr=0.5),
                            torch.optim.SGD(tmodel.parameters(), lr=0.5), x, y, epochs=200)
    assert model.fc1.weight.dtype == np.float32
    assert_close(ours, theirs, "XOR float32 loss curve", dtype=dtype)
    assert_same_weights(model, tmodel, "XOR float32", dtype=dtype)


def test_tutorial_xor_backward_is_the_bce_gradient_not_the_mse_one():
    """Tutorial 001 reports MSE but steps along dz₂ = output − y: the gradient of mean BCE."""
    x, y = sm.xor_data()
    model = sm.XORNet(generator=np.random.default_rng(3)).double()
    tmodel = tm.XORNet().double()
    load_into_torch(model, tmodel)
    # the tutorial's backward, transcribed (its W is our weight transposed)
    W1, b1 = model.fc1.weight.data.T, model.fc1.bias.data
    W2 = model.fc2.weight.data.T
    z1 = x @ W1 + b1
    a1 = np.maximum(z1, 0)
    output = model(x)
    m = x.shape[0]
    dz2 = output - y
    tutorial = {"fc2.weight": (a1.T @ dz2 / m).T, "fc2.bias": dz2.sum(0) / m}
    dz1 = (dz2 @ W2.T) * (z1 > 0)
    tutorial |= {"fc1.weight": (x.T @ dz1 / m).T, "fc1.bias": dz1.sum(0) / m}

    def autograd(loss_fn):
        tmodel.zero_grad()
        loss_fn(tmodel(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        return {name: p.grad.numpy().copy() for name, p in tmodel.named_parameters()}

    bce, mse = autograd(torch.nn.BCELoss()), autograd(torch.nn.MSELoss())
    for name, grad in tutorial.items():
        assert_close(grad, bce[name], f"tutorial's {name} gradient vs autograd of BCE")
        assert not np.allclose(grad, mse[name], rtol=1e-2), f"{name}: tutorial matches MSE?"
    # the MSE gradient differs by the per-sample factor 2·a₂(1 − a₂), at most ½
    factor = 2 * output * (1 - output)
    assert_close((a1.T @ (dz2 * factor) / m).T, mse["fc2.weight"], "MSE gradient via the factor")


# -- two moons with binary cross-entropy ---------------------------------------------------
@pytest.fixture(scope="module")
def moons():
    """Tutorial 000's data and initial weights: default_rng(1), W ~ N(0, 0.7²), b = 0."""
    generator = np.random.default_rng(1)
    x, y = sm.two_moons(generator)
    W1 = generator.normal(scale=0.7, size=(2, 8))       # the tutorial's (in, out) layout
    W2 = generator.normal(scale=0.7, size=(8, 1))
    state = {"fc1.weight": W1.T.copy(), "fc1.bias": np.zeros(8),
             "fc2.weight": W2.T.copy(), "fc2.bias": np.zeros(1)}
    return x, y, state


def test_moons_lockstep(moons):
    """2-8-1 ReLU, BCE on the logit, SGD lr 0.1, 4000 full-batch epochs: tutorial 000's run."""
    x, y, state = moons
    model = sm.MoonsNet().double()
    model.load_state_dict(state)
    tmodel = tm.MoonsNet().double()
    load_into_torch(model, tmodel)
    ours, theirs = lockstep(model, tmodel, BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss(),
                            so.SGD(model.parameters(), lr=0.1),
                            torch.optim.SGD(tmodel.parameters(), lr=0.1), x, y, epochs=4000)
    assert_close(ours, theirs, "two moons loss curve")
    assert_same_weights(model, tmodel, "two moons")
    predict = lambda out: out > 0                       # noqa: E731  logit > 0 ⇔ σ > ½
    _, accuracy = st.evaluate(model, BCEWithLogitsLoss(), [(x, y)], predict)
    _, taccuracy = tt.evaluate(tmodel, torch.nn.BCEWithLogitsLoss(),
                               [(torch.from_numpy(x), torch.from_numpy(y))], predict)
    assert accuracy == taccuracy
    assert accuracy >= 0.97                              # training accuracy, as the tutorial reports


def test_tutorial_moons_loop_takes_the_same_steps(moons):
    """Tutorial 000's own loop (transcribed, ε dropped from its loss) is a third witness:
    its dZ₂ = (ŷ − y)/N is ∂(mean BCE)/∂z₂, so its weights follow ours. 300 epochs."""
    x, y, state = moons
    model = sm.MoonsNet().double()
    model.load_state_dict(state)
    optimizer = so.SGD(model.parameters(), lr=0.1)
    for _ in range(300):
        st.train_epoch(model, BCEWithLogitsLoss(), optimizer, [(x, y)])
    W1, b1 = state["fc1.weight"].T.copy(), np.zeros((1, 8))
    W2, b2 = state["fc2.weight"].T.copy(), np.zeros((1, 1))
    for _ in range(300):
        Z1 = x @ W1 + b1
        A1 = np.maximum(0, Z1)
        Yhat = 1 / (1 + np.exp(-(A1 @ W2 + b2)))          # |z₂| stays far below overflow here
        dZ2 = (Yhat - y) / len(x)
        dW2, db2 = A1.T @ dZ2, dZ2.sum(0, keepdims=True)
        dZ1 = dZ2 @ W2.T * (Z1 > 0)
        dW1, db1 = x.T @ dZ1, dZ1.sum(0, keepdims=True)
        W2 -= 0.1 * dW2
        b2 -= 0.1 * db2
        W1 -= 0.1 * dW1
        b1 -= 0.1 * db1
    assert_close(model.fc1.weight.data, W1.T, "fc1.weight vs the tutorial's loop")
    assert_close(model.fc2.weight.data, W2.T, "fc2.weight vs the tutorial's loop")
    assert_close(model.fc1.bias.data, b1[0], "fc1.bias vs the tutorial's loop")


# -- the MLP on MNIST -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mnist(mnist_root):
    """2000 training and 1000 test images, pixels /255 then standardised, float64 (N, 784)."""
    from torchvision.datasets import MNIST

    def subset(train, n):
        data = MNIST(mnist_root, train=train, download=False)
        x = data.data[:n].reshape(n, 784).numpy().astype(np.float64) / 255
        return (x - 0.1307) / 0.3081, data.targets[:n].numpy().astype(np.int64)

    return subset(True, 2000), subset(False, 1000)


@pytest.mark.parametrize(("optimizer", "epochs"), [
    ("SGD", 5),       # momentum 0.9, lr 0.01: 5 epochs of 2000/64 → 160 steps
    ("Adam", 3),      # lr 1e-3: 96 steps
])
def test_mnist_mlp_lockstep(mnist, optimizer, epochs):
    """784-128-64-10, He init, CrossEntropyLoss on logits, batches of 64 shuffled by one
    generator whose permutation feeds both twins."""
    (x, target), (x_test, target_test) = mnist
    model = sm.MLP(generator=np.random.default_rng(0)).double()
    tmodel = tm.MLP().double()
    load_into_torch(model, tmodel)
    if optimizer == "SGD":
        opt = so.SGD(model.parameters(), lr=0.01, momentum=0.9)
        topt = torch.optim.SGD(tmodel.parameters(), lr=0.01, momentum=0.9)
    else:
        opt = so.Adam(model.parameters(), lr=1e-3)
        topt = torch.optim.Adam(tmodel.parameters(), lr=1e-3)
    ours, theirs = lockstep(model, tmodel, CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), opt, topt,
                            x, target, epochs, batch_size=64, generator=np.random.default_rng(0))
    assert len(ours) == epochs * 32
    assert_close(ours, theirs, f"MNIST MLP ({optimizer}) loss curve")
    assert_same_weights(model, tmodel, f"MNIST MLP ({optimizer})")
    predict = lambda out: out.argmax(1)                 # noqa: E731
    test_loss, accuracy = st.evaluate(model, CrossEntropyLoss(),
                                      st.minibatches(x_test, target_test, 500), predict)
    tx_test, ttarget_test = torch.from_numpy(x_test), torch.from_numpy(target_test)
    ttest_loss, taccuracy = tt.evaluate(tmodel, torch.nn.CrossEntropyLoss(),
                                        tt.minibatches(tx_test, ttarget_test, 500), predict)
    assert_close(test_loss, ttest_loss, "MNIST test loss")
    assert accuracy == taccuracy
    assert accuracy > 0.8                               # 2000 images, a few epochs: ≈ 0.85–0.9


# -- tutorial 002's backward -----------------------------------------------------------------
def tutorial_002_backward(weights, biases, activations, y_true, learning_rate):
    """Tutorial 002's backward, transcribed, returning the dw it used for each layer."""
    m = activations[0].shape[0]
    delta = activations[-1] - y_true
    used = [None] * len(weights)
    for i in range(len(weights) - 1, -1, -1):
        dw = np.dot(activations[i].T, delta) / m
        db = np.mean(delta, axis=0)
        used[i] = dw
        weights[i] -= learning_rate * dw
        biases[i] -= learning_rate * db
        if i > 0:
            delta = np.dot(delta, weights[i].T)         # through the weights it just updated
            delta *= (activations[i] > 0)
    return used


@pytest.mark.parametrize("learning_rate", [0.0, 0.5])
def test_tutorial_002_backward_uses_updated_weights(learning_rate, rng):
    """With lr = 0 its gradients are autograd's (so /m, mean and the a > 0 mask are right);
    with lr > 0 every layer below the top gets the gradient at already-moved weights."""
    x = rng.standard_normal((5, 6))
    target = rng.integers(0, 4, size=5)
    model = sm.MLP(6, (5, 4), 4, generator=rng).double()
    tmodel = tm.MLP(6, (5, 4), 4).double()
    load_into_torch(model, tmodel)
    torch.nn.CrossEntropyLoss()(tmodel(torch.from_numpy(x)), torch.from_numpy(target)).backward()
    weights = [fc.weight.data.T.copy() for fc in (model.fc1, model.fc2, model.fc3)]
    biases = [fc.bias.data.copy() for fc in (model.fc1, model.fc2, model.fc3)]
    a1 = np.maximum(x @ weights[0] + biases[0], 0)
    a2 = np.maximum(a1 @ weights[1] + biases[1], 0)
    z3 = a2 @ weights[2] + biases[2]
    softmax = np.exp(z3 - z3.max(1, keepdims=True))
    softmax /= softmax.sum(1, keepdims=True)
    used = tutorial_002_backward(weights, biases, [x, a1, a2, softmax], np.eye(4)[target], learning_rate)
    assert_close(used[2].T, tmodel.fc3.weight.grad, "top layer: right either way")
    for i, fc in ((1, tmodel.fc2), (0, tmodel.fc1)):
        if learning_rate == 0:
            assert_close(used[i].T, fc.weight.grad, f"layer {i}: right at lr = 0")
        else:
            assert not np.allclose(used[i].T, fc.weight.grad.numpy(), rtol=1e-3), f"layer {i}"


def test_copy_weights_direction_both_ways():
    """Initialised once, copied: torch → scratch with the parity helper, scratch → torch here."""
    model = sm.MoonsNet(generator=np.random.default_rng(5)).double()
    tmodel = tm.MoonsNet().double()
    load_into_torch(model, tmodel)
    assert_same_weights(model, tmodel, "scratch → torch")
    torch.manual_seed(7)
    tmodel = tm.MoonsNet().double()
    copy_weights(tmodel, model)
    assert_same_weights(model, tmodel, "torch → scratch")
