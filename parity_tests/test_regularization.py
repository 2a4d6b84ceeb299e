"""Regularisation: scratch/regularization.py against torch_ref/regularization.py."""

import numpy as np
import pytest
import torch

import scratch.optim as so
import scratch.regularization as sr
import scratch.training as st
import torch_ref.regularization as tr
import torch_ref.training as tt
from parity_tests.helpers import assert_close, copy_weights, numerical_grad
from scratch.losses import BCEWithLogitsLoss
from scratch.mlp import MoonsNet, two_moons
from torch_ref.mlp import MoonsNet as TorchMoonsNet


@pytest.fixture
def twins():
    """A MoonsNet pair with the same float64 weights."""
    torch.manual_seed(0)
    tmodel = TorchMoonsNet().double()
    model = MoonsNet().double()
    copy_weights(tmodel, model)
    return model, tmodel


@pytest.fixture
def moons_data():
    x, y = two_moons(np.random.default_rng(1), n=60)
    return x, y


# -- the penalties ---------------------------------------------------------------------------
@pytest.mark.parametrize(("Penalty", "TorchPenalty", "lam"), [
    (sr.L2Penalty, tr.L2Penalty, 0.3),
    (sr.L1Penalty, tr.L1Penalty, 0.05),
])
def test_penalty_value_and_gradient_match_autograd(Penalty, TorchPenalty, lam, twins):
    model, tmodel = twins
    with torch.no_grad():                                # exact zeros: L1's kink, in both twins
        tmodel.fc1.weight[0, 0] = 0.0
        tmodel.fc2.bias.zero_()
    copy_weights(tmodel, model)
    penalty = Penalty(lam)
    value = penalty(model.parameters())
    tvalue = TorchPenalty(lam)(tmodel.parameters())
    tvalue.backward()
    assert_close(value, tvalue, f"{Penalty.__name__} value")
    penalty.backward()
    for name, param in model.named_parameters():
        assert_close(param.grad, dict(tmodel.named_parameters())[name].grad, f"{Penalty.__name__} ∂R/∂{name}")
    assert model.fc1.weight.grad[0, 0] == 0.0            # the subgradient at 0 is 0, as torch's
    # by hand: R = ½λ Σθ² or λ Σ|θ|
    flat = np.concatenate([p.data.ravel() for p in model.parameters()])
    expected = 0.5 * lam * np.sum(flat**2) if Penalty is sr.L2Penalty else lam * np.sum(np.abs(flat))
    assert_close(value, expected, "R by hand")


@pytest.mark.parametrize("Penalty", [sr.L2Penalty, sr.L1Penalty])
def test_penalty_gradient_central_differences(Penalty, rng):
    model = MoonsNet(generator=rng).double()              # no entry within ε of L1's kink
    penalty = Penalty(0.2)
    penalty(model.parameters())
    penalty.backward()
    for name, param in model.named_parameters():
        expected = numerical_grad(lambda: float(penalty(model.parameters())), param.data)
        assert_close(param.grad, expected, f"∂R/∂{name} vs central differences", rtol=1e-6, atol=1e-8)


def test_penalties_refuse_negative_strength():
    for Penalty in (sr.L2Penalty, sr.L1Penalty, tr.L2Penalty, tr.L1Penalty):
        with pytest.raises(ValueError, match=">= 0"):
            Penalty(-0.1)
        with pytest.raises(ValueError, match=">= 0"):
            Penalty(float("nan"))


# -- weight decay is an L2 penalty (except in AdamW) ------------------------------------------
def trajectory(model, loss_fn, optimizer, x, y, steps, penalty=None, train_epoch=st.train_epoch):
    """The parameters after every full-batch step, flattened."""
    params = []
    for _ in range(steps):
        train_epoch(model, loss_fn, optimizer, [(x, y)], penalty)
        params.append(np.concatenate([np.asarray(v).ravel() for v in model.state_dict().values()]))
    return np.array(params)


OPTIMIZERS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"lr": 0.01}),
]


@pytest.mark.parametrize(("name", "options"), OPTIMIZERS)
def test_weight_decay_equals_half_lambda_theta_squared(name, options, twins, moons_data):
    """optimizer(weight_decay=λ) on L and optimizer(weight_decay=0) on L + (λ/2)‖θ‖² take the
    same steps, in each twin, and the twins agree with each other. 60 steps."""
    lam, steps = 0.05, 60
    x, y = moons_data
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    model, tmodel = twins
    start = {k: v.clone() for k, v in tmodel.state_dict().items()}
    runs = {}
    for label, decay, penalised in (("decay", lam, False), ("penalty", 0.0, True)):
        model.load_state_dict(start)
        tmodel.load_state_dict(start)
        opt = getattr(so, name)(model.parameters(), weight_decay=decay, **options)
        topt = getattr(torch.optim, name)(tmodel.parameters(), weight_decay=decay, **options)
        runs[label] = trajectory(model, BCEWithLogitsLoss(), opt, x, y, steps,
                                 sr.L2Penalty(lam) if penalised else None)
        runs["torch " + label] = trajectory(tmodel, torch.nn.BCEWithLogitsLoss(), topt, tx, ty, steps,
                                            tr.L2Penalty(lam) if penalised else None, tt.train_epoch)
    assert_close(runs["penalty"], runs["decay"], f"scratch {name}: L2 penalty vs weight_decay")
    assert_close(runs["torch penalty"], runs["torch decay"], f"torch {name}: L2 penalty vs weight_decay")
    assert_close(runs["decay"], runs["torch decay"], f"{name}(weight_decay): scratch vs torch")
    # and the decay did something: without it the weights end elsewhere
    model.load_state_dict(start)
    plain = trajectory(model, BCEWithLogitsLoss(), getattr(so, name)(model.parameters(), **options),
                       x, y, steps)
    assert not np.allclose(plain[-1], runs["decay"][-1], rtol=1e-3)


def test_adamw_decay_is_not_an_l2_penalty(twins, moons_data):
    """AdamW shrinks θ outside Adam's per-entry scaling: no penalty on the loss matches it."""
    x, y = moons_data
    model, _ = twins
    start = model.state_dict()
    adamw = trajectory(model, BCEWithLogitsLoss(), so.AdamW(model.parameters(), lr=0.01, weight_decay=0.5),
                       x, y, 30)
    model.load_state_dict(start)
    adam_l2 = trajectory(model, BCEWithLogitsLoss(), so.Adam(model.parameters(), lr=0.01), x, y, 30,
                         sr.L2Penalty(0.5))
    assert not np.allclose(adamw[-1], adam_l2[-1], rtol=1e-3)


def test_l1_training_lockstep(twins, moons_data):
    """SGD on L + λ‖θ‖₁ in both twins: the same loss curve (which includes R), and a smaller
    ‖θ‖₁ than without the penalty. 300 full-batch steps."""
    x, y = moons_data
    model, tmodel = twins
    start = model.state_dict()
    ours = st.train_epoch(model, BCEWithLogitsLoss(), so.SGD(model.parameters(), lr=0.1),
                          [(x, y)] * 300, sr.L1Penalty(0.01))
    theirs = tt.train_epoch(tmodel, torch.nn.BCEWithLogitsLoss(),
                            torch.optim.SGD(tmodel.parameters(), lr=0.1),
                            [(torch.from_numpy(x), torch.from_numpy(y))] * 300, tr.L1Penalty(0.01))
    assert_close(np.array(ours), np.array(theirs), "L1-penalised loss curve")
    for name, value in model.state_dict().items():
        assert_close(value, tmodel.state_dict()[name], f"{name} after L1 training")
    penalised = sum(np.abs(p.data).sum() for p in model.parameters())
    model.load_state_dict(start)
    st.train_epoch(model, BCEWithLogitsLoss(), so.SGD(model.parameters(), lr=0.1), [(x, y)] * 300)
    assert penalised < sum(np.abs(p.data).sum() for p in model.parameters())


# -- early stopping -------------------------------------------------------------------------
@pytest.mark.parametrize(("losses", "patience", "min_delta", "stop_at", "best_epoch"), [
    # 0.89 at epoch 3 is the best; 0.91, 0.92, 0.93 are three epochs without improvement
    ([1.0, 0.9, 0.95, 0.89, 0.91, 0.92, 0.93, 0.5], 3, 0.0, 6, 3),
    # with min_delta 0.02, 0.89 is no improvement on 0.9 (it must beat 0.88)
    ([1.0, 0.9, 0.95, 0.89, 0.91, 0.92, 0.93, 0.5], 3, 0.02, 4, 1),
    # patience 1: the first epoch without improvement stops
    ([3.0, 2.0, 2.0, 1.0], 1, 0.0, 2, 1),
    # a tie is not an improvement; NaN is not either
    ([1.0, 1.0, float("nan"), 0.4, 0.3], 2, 0.0, 2, 0),
    # always improving: never stops
    ([5.0, 4.0, 3.0, 2.0, 1.0], 2, 0.0, None, 4),
])
def test_early_stopping_on_a_sequence(losses, patience, min_delta, stop_at, best_epoch):
    stopper = sr.EarlyStopping(patience=patience, min_delta=min_delta)
    stopped = None
    for epoch, loss in enumerate(losses):
        if stopper.step(loss):
            stopped = epoch
            break
    assert stopped == stop_at
    assert stopper.best_epoch == best_epoch
    assert stopper.best == losses[best_epoch]


def test_early_stopping_refuses_bad_arguments():
    for patience in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="patience"):
            sr.EarlyStopping(patience=patience)
    with pytest.raises(ValueError, match="min_delta"):
        sr.EarlyStopping(min_delta=-1e-3)
    assert tr.EarlyStopping is sr.EarlyStopping


def test_early_stopping_takes_numpy_ints_and_names_its_arguments():
    assert sr.EarlyStopping(patience=np.int64(3)).patience == 3
    with pytest.raises(ValueError, match=r"EarlyStopping: patience must be a positive int, got 0"):
        sr.EarlyStopping(patience=0)
    with pytest.raises(ValueError, match=r"EarlyStopping: min_delta must be >= 0, got -0\.001"):
        sr.EarlyStopping(min_delta=-1e-3)
    with pytest.raises(ValueError, match=r"L2Penalty: weight_decay must be >= 0, got -0\.1"):
        sr.L2Penalty(-0.1)
    with pytest.raises(ValueError, match=r"L1Penalty: l1_lambda must be >= 0, got nan"):
        sr.L1Penalty(float("nan"))


def test_validation_split(rng):
    train, val = sr.validation_split(10, 0.3, rng)
    assert len(val) == 3 and len(train) == 7
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(10))
    with pytest.raises(ValueError, match=r"validation_split: validation_fraction must be in \(0, 1\), got 1"):
        sr.validation_split(10, 1.0, rng)


def test_early_stopping_run_stops_at_the_same_epoch_in_both_twins():
    """Noisy moons (10% labels flipped) overfit by a 2-32-1 net with Adam: the validation loss
    falls, then climbs. Both twins stop at the same epoch and restore the same best weights."""
    generator = np.random.default_rng(3)
    x, y = two_moons(generator, n=200)
    x = x + 0.15 * generator.standard_normal(x.shape)
    flip = generator.random(len(y)) < 0.1
    y[flip] = 1 - y[flip]
    train, val = sr.validation_split(len(x), 0.5, generator)
    model = MoonsNet(hidden=32, generator=generator).double()
    tmodel = TorchMoonsNet(hidden=32).double()
    tmodel.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    orders = [generator.permutation(len(train)) for _ in range(400)]   # one shuffle per epoch, shared

    stopper, tstopper = sr.EarlyStopping(patience=10), tr.EarlyStopping(patience=10)
    history = sr.fit(model, BCEWithLogitsLoss(), so.Adam(model.parameters(), lr=0.01),
                     lambda epoch: st.minibatches(x[train], y[train], 25, orders[epoch]),
                     [(x[val], y[val])], stopper, max_epochs=400)
    thistory = tr.fit(tmodel, torch.nn.BCEWithLogitsLoss(), torch.optim.Adam(tmodel.parameters(), lr=0.01),
                      lambda epoch: tt.minibatches(tx[train], ty[train], 25, orders[epoch]),
                      [(tx[val], ty[val])], tstopper, max_epochs=400)
    assert stopper.epoch == tstopper.epoch < 399               # stopped early, at the same epoch
    assert stopper.best_epoch == tstopper.best_epoch == stopper.epoch - 10
    assert_close(np.array(history["val_loss"]), np.array(thistory["val_loss"]), "validation losses")
    assert_close(np.array(history["train_loss"]), np.array(thistory["train_loss"]), "training losses")
    # the validation loss really turned: the last epochs are worse than the best
    assert history["val_loss"][-1] > stopper.best
    # the best weights are back: evaluating them gives the best validation loss
    for name, value in model.state_dict().items():
        assert_close(value, tmodel.state_dict()[name], f"restored {name}")
    val_loss, _ = st.evaluate(model, BCEWithLogitsLoss(), [(x[val], y[val])])
    assert_close(val_loss, stopper.best, "validation loss of the restored weights", rtol=1e-12)
