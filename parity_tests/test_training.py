"""The training loop: scratch/training.py against torch_ref/training.py."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import scratch.training as st
import torch_ref.training as tt
from parity_tests.helpers import assert_close, copy_weights
from scratch.cross_entropy import CrossEntropyLoss
from scratch.linear import Linear
from scratch.losses import MSELoss
from scratch.optim import SGD
from torch_ref.cross_entropy import CrossEntropyLoss as TorchCrossEntropyLoss
from torch_ref.linear import Linear as TorchLinear
from torch_ref.losses import MSELoss as TorchMSELoss


def test_minibatches_follow_one_shared_permutation(rng):
    """Both twins, and torch's own DataLoader with the permutation as sampler, give the same
    batches; 10 samples in batches of 4 leave a last batch of 2."""
    x = rng.standard_normal((10, 3))
    target = rng.integers(0, 5, size=10)
    order = rng.permutation(10)
    ours = list(st.minibatches(x, target, 4, order))
    theirs = list(tt.minibatches(torch.from_numpy(x), torch.from_numpy(target), 4, order))
    loader = list(DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(target)),
                             batch_size=4, sampler=order.tolist()))
    assert [len(b[0]) for b in ours] == [4, 4, 2]
    assert len(theirs) == len(loader) == 3
    for (xb, tb), (txb, ttb), (lxb, ltb) in zip(ours, theirs, loader, strict=True):
        assert_close(xb, txb, "batch inputs")
        assert_close(xb, lxb, "batch inputs vs DataLoader")
        np.testing.assert_array_equal(tb, ttb.numpy())
        np.testing.assert_array_equal(tb, ltb.numpy())
    np.testing.assert_array_equal(np.concatenate([b[1] for b in ours]), target[order])
    # without an order, the samples in their own order
    assert_close(np.concatenate([b[0] for b in st.minibatches(x, target, 3)]), x, "unshuffled")


def test_train_epoch_is_one_sgd_step_per_batch(rng):
    """Each step: θ ← θ − lr·∂L/∂θ at the θ of that step, with ∂L/∂θ from torch's autograd."""
    torch.manual_seed(0)
    tmodel = TorchLinear(3, 2).double()
    model = Linear(3, 2).double()
    copy_weights(tmodel, model)
    x, target = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    order = np.array([4, 0, 5, 1, 3, 2])
    # the expected trajectory, by hand from autograd gradients (no optimizer involved)
    w = tmodel.weight.detach().clone().requires_grad_(True)
    b = tmodel.bias.detach().clone().requires_grad_(True)
    expected_losses = []
    for start in (0, 3):
        idx = order[start:start + 3]
        loss = torch.nn.functional.mse_loss(torch.from_numpy(x[idx]) @ w.T + b, torch.from_numpy(target[idx]))
        gw, gb = torch.autograd.grad(loss, (w, b))
        expected_losses.append(loss.item())
        with torch.no_grad():
            w -= 0.1 * gw
            b -= 0.1 * gb
    ours = st.train_epoch(model, MSELoss(), SGD(model.parameters(), lr=0.1),
                          st.minibatches(x, target, 3, order))
    theirs = tt.train_epoch(tmodel, TorchMSELoss(), torch.optim.SGD(tmodel.parameters(), lr=0.1),
                            tt.minibatches(torch.from_numpy(x), torch.from_numpy(target), 3, order))
    assert_close(np.array(ours), np.array(expected_losses), "scratch step losses")
    assert_close(np.array(theirs), np.array(expected_losses), "torch step losses")
    assert_close(model.weight.data, w, "scratch weight after the epoch")
    assert_close(model.bias.data, b, "scratch bias after the epoch")
    assert_close(tmodel.weight, w, "torch weight after the epoch")


def test_evaluate_matches_and_leaves_gradients_alone(rng):
    torch.manual_seed(1)
    tmodel = TorchLinear(4, 3).double()
    model = Linear(4, 3).double()
    copy_weights(tmodel, model)
    x, target = rng.standard_normal((7, 4)), rng.integers(0, 3, size=7)
    tx, ttarget = torch.from_numpy(x), torch.from_numpy(target)
    model.weight.grad[...] = 5.0                        # evaluate must not touch it
    predict = lambda out: out.argmax(1)                 # noqa: E731  the same lambda for both twins
    loss, accuracy = st.evaluate(model, CrossEntropyLoss(), st.minibatches(x, target, 3), predict)
    tloss, taccuracy = tt.evaluate(tmodel, TorchCrossEntropyLoss(), tt.minibatches(tx, ttarget, 3), predict)
    # batches of 3, 3, 1 weighted by size give the mean over all 7 samples, as one batch does
    full = TorchCrossEntropyLoss()(tmodel(tx), ttarget).item()
    assert_close(loss, full, "scratch mean loss over uneven batches")
    assert_close(tloss, full, "torch mean loss over uneven batches")
    expected_accuracy = float(np.mean(np.argmax(x @ model.weight.data.T + model.bias.data, 1) == target))
    assert accuracy == taccuracy == pytest.approx(expected_accuracy)
    assert np.all(model.weight.grad == 5.0)
    assert tmodel.weight.grad is None
    assert not model.training and not tmodel.training
    st.train_epoch(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), [(x, target)])
    assert model.training                               # train_epoch switches back


def test_evaluate_without_predict_gives_no_accuracy(rng):
    x, target = rng.standard_normal((4, 2)), rng.standard_normal((4, 1))
    model = Linear(2, 1, generator=rng).double()
    assert st.evaluate(model, MSELoss(), [(x, target)])[1] is None
