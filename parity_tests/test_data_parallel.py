"""scratch/_data_parallel.py: the training step with the batch split over the threads must be
training.train_step, with only the order of the sums over the batch changed.

Compared with the one-thread step from the same weights on the same batch, in float64: the
loss, the logits and every parameter gradient, then the weights after several Adam steps.
"""

from __future__ import annotations

import copy
import threading
import time

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import scratch.optim
from scratch import _threads
from scratch._data_parallel import DataParallel
from scratch.batchnorm import BatchNorm1d
from scratch.cnn import Net
from scratch.cross_entropy import CrossEntropyLoss
from scratch.dropout import Dropout
from scratch.linear import Linear
from scratch.module import Module
from scratch.sequential import Sequential
from scratch.training import train_step

# Float64 sums over a batch of 64 in another order: a few units in the last place.
RTOL, ATOL = 1e-12, 1e-15


def batch(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 1, 28, 28)), rng.integers(0, 10, n)


def two_nets():
    net = Net(generator=np.random.default_rng(1)).double()
    return net, copy.deepcopy(net)


@pytest.mark.parametrize("threads", [2, 3])
def test_one_step_gives_train_steps_loss_logits_and_gradients(threads):
    x, y = batch(64)
    plain, split = two_nets()
    loss_fn = CrossEntropyLoss(label_smoothing=0.1)
    # lr 0: the step leaves the weights alone and the gradients in param.grad
    loss_a, out_a = train_step(plain, loss_fn, scratch.optim.SGD(plain.parameters(), lr=0.0), x, y)
    loss_b, out_b = DataParallel(threads).step(split, loss_fn,
                                               scratch.optim.SGD(split.parameters(), lr=0.0), x, y)
    assert loss_b == pytest.approx(loss_a, rel=RTOL)
    np.testing.assert_allclose(out_b, out_a, rtol=RTOL, atol=ATOL)
    for (name, a), (_, b) in zip(plain.named_parameters(), split.named_parameters(), strict=True):
        scale = np.abs(a.grad).max()
        np.testing.assert_allclose(b.grad, a.grad, rtol=RTOL, atol=1e-13 * scale,
                                   err_msg=f"{name}.grad")


def test_adam_steps_stay_with_train_step():
    x, y = batch(64, seed=2)
    plain, split = two_nets()
    loss_fn = CrossEntropyLoss(label_smoothing=0.1)
    opt_a = scratch.optim.Adam(plain.parameters(), lr=1e-3)
    opt_b = scratch.optim.Adam(split.parameters(), lr=1e-3)
    data_parallel = DataParallel(2)
    for step in range(5):
        loss_a, _ = train_step(plain, loss_fn, opt_a, x, y)
        loss_b, _ = data_parallel.step(split, loss_fn, opt_b, x, y)
        assert loss_b == pytest.approx(loss_a, rel=1e-12), f"step {step}"
    for (name, a), (_, b) in zip(plain.named_parameters(), split.named_parameters(), strict=True):
        # Adam divides by √v, so a last-bit difference in a gradient near 0 moves a weight by
        # more than its own last bit (seen: 1e-14); 1e-13 is a ten-thousandth of one step's lr
        np.testing.assert_allclose(b.data, a.data, rtol=0, atol=1e-13, err_msg=name)


def test_the_same_step_twice_gives_the_same_bits():
    x, y = batch(64, seed=3)
    first, second = two_nets()
    loss_fn = CrossEntropyLoss(label_smoothing=0.1)
    for net in (first, second):
        DataParallel(2).step(net, loss_fn, scratch.optim.Adam(net.parameters(), lr=1e-3), x, y)
    for (name, a), (_, b) in zip(first.named_parameters(), second.named_parameters(), strict=True):
        np.testing.assert_array_equal(b.data, a.data, err_msg=name)


def test_a_batch_too_small_to_split_is_train_step_exactly():
    x, y = batch(15, seed=4)                       # two shares would hold fewer than 8 images
    plain, split = two_nets()
    loss_fn = CrossEntropyLoss()
    loss_a, out_a = train_step(plain, loss_fn, scratch.optim.SGD(plain.parameters(), lr=0.0), x, y)
    loss_b, out_b = DataParallel(2).step(split, loss_fn, scratch.optim.SGD(split.parameters(), lr=0.0),
                                         x, y)
    assert loss_b == loss_a
    np.testing.assert_array_equal(out_b, out_a)
    for (name, a), (_, b) in zip(plain.named_parameters(), split.named_parameters(), strict=True):
        np.testing.assert_array_equal(b.grad, a.grad, err_msg=f"{name}.grad")


def blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_the_copies_share_the_weights_and_the_settings_come_back(monkeypatch):
    x, y = batch(32, seed=5)
    net = Net(generator=np.random.default_rng(1)).double()
    data_parallel = DataParallel(2)
    monkeypatch.setattr(_threads, "THREADS", 3)         # neither 1 nor the step's count
    seen = []                                           # the settings inside the shares
    forward = Net.forward

    def spy(self, x):
        seen.append((_threads.THREADS, blas_threads()))
        return forward(self, x)

    monkeypatch.setattr(Net, "forward", spy)
    with threadpool_limits(3, user_api="blas"):
        blas_before = blas_threads()
        data_parallel.step(net, CrossEntropyLoss(), scratch.optim.Adam(net.parameters(), lr=1e-3),
                           x, y)
        assert blas_threads() == blas_before
    assert _threads.THREADS == 3
    assert len(seen) == 2 and all(t == 1 and set(b) == {1} for t, b in seen), seen
    (other,) = data_parallel._copies
    for mine, theirs in zip(net.parameters(), other.parameters(), strict=True):
        assert theirs.data is mine.data
    assert other.conv1.cache is None or other.conv1.cache is not net.conv1.cache


class Slow(Module):
    """x -> x (N, 3), slowly on the copy; raises on the model itself."""

    def __init__(self, finished: list):
        super().__init__()
        self.fc = Linear(3, 3)
        self.finished = finished
        self.raises = True

    def forward(self, x):
        if self.raises:
            raise RuntimeError("planted failure in the first share")
        time.sleep(0.2)
        self.finished.append(threading.current_thread().name)
        return self.fc(x)


def test_a_share_that_raises_waits_for_the_others_and_restores_the_settings(monkeypatch):
    finished: list = []
    model = Slow(finished)
    data_parallel = DataParallel(2)
    (other,) = data_parallel._copies_of(model, 2)[1:]
    other.raises, other.finished = False, finished     # (the copy got a copy of the list)
    monkeypatch.setattr(_threads, "THREADS", 3)
    rng = np.random.default_rng(6)
    with pytest.raises(RuntimeError, match="planted failure"):
        data_parallel.step(model, CrossEntropyLoss(), scratch.optim.SGD(model.parameters(), lr=0.1),
                           rng.standard_normal((32, 3)), rng.integers(0, 3, 32))
    assert finished == ["scratch-share_0"]              # the other share had ended
    assert _threads.THREADS == 3


@pytest.mark.parametrize("layer", [Dropout(0.5), BatchNorm1d(4)], ids=["Dropout", "BatchNorm1d"])
def test_a_model_with_buffers_or_randomness_is_refused(layer):
    model = Sequential(Linear(3, 4), layer, Linear(4, 2))
    rng = np.random.default_rng(7)
    expected = rf"DataParallel: 1 \({type(layer).__name__}\) keeps buffers or draws random"
    with pytest.raises(ValueError, match=expected):
        DataParallel(2).step(model, CrossEntropyLoss(), scratch.optim.SGD(model.parameters(), lr=0.1),
                             rng.standard_normal((32, 3)), rng.integers(0, 2, 32))


@pytest.mark.parametrize("threads", [0, -1, 2.0, True, "2"])
def test_a_thread_count_that_is_not_a_positive_int_is_refused(threads):
    with pytest.raises(ValueError, match=rf"DataParallel: threads must be a positive int, got {threads!r}"):
        DataParallel(threads)
