"""Gradient descent versus brute force: scratch/gradient_descent.py against
torch_ref/gradient_descent.py (autograd + torch.optim.SGD)."""

import numpy as np
import pytest
import torch

import scratch.gradient_descent as gd
import torch_ref.gradient_descent as tgd
from parity_tests.helpers import assert_close, numerical_grad


@pytest.fixture
def line():
    """Tutorial (a)'s data, drawn as the tutorial draws it."""
    return gd.line_data(np.random.default_rng(0))


@pytest.fixture
def guesses():
    """Tutorial (b)'s 10,000 random guesses, then w₀, from one generator."""
    generator = np.random.default_rng(42)
    candidates = gd.random_candidates(generator)
    w0 = 0.1 * generator.standard_normal(2)
    return candidates, w0


def assert_same_result(ours, theirs, what):
    assert ours.evaluations == theirs.evaluations, what
    assert ours.gradient_evaluations == theirs.gradient_evaluations, what
    assert_close(ours.history, theirs.history, f"{what}: loss history")
    assert_close(ours.weights, theirs.weights, f"{what}: weights")
    assert_close(ours.loss, theirs.loss, f"{what}: loss")


# -- the losses and their derivatives --------------------------------------------------------
def test_line_loss_and_gradient_match_autograd(line, rng):
    x, y = line
    for w in [-4.0, 0.0, 1.7, 3.3]:
        wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
        loss = tgd.line_loss(wt, torch.from_numpy(x), torch.from_numpy(y))
        loss.backward()
        assert_close(gd.line_loss(w, x, y), loss, f"line loss at w={w}")
        assert_close(gd.line_grad(w, x, y), wt.grad, f"line gradient at w={w}")
    candidates = rng.uniform(-5, 5, size=7)
    assert_close(gd.line_loss(candidates, x, y),
                 tgd.line_loss(torch.from_numpy(candidates), torch.from_numpy(x), torch.from_numpy(y)),
                 "line loss of a batch of candidates")


def test_line_gradient_central_differences(line):
    x, y = line
    for w in [-4.0, 0.3, 2.0]:
        w_arr = np.array([w])
        expected = numerical_grad(lambda w_arr=w_arr: float(gd.line_loss(w_arr[0], x, y)), w_arr)
        assert_close(gd.line_grad(w, x, y), expected[0], "dL/dw vs central differences",
                     rtol=1e-6, atol=1e-8)
        # L is quadratic in w, so its second derivative is the constant (2/N) Σ x²
        assert_close((gd.line_grad(w + 1e-3, x, y) - gd.line_grad(w - 1e-3, x, y)) / 2e-3,
                     2 * np.mean(x * x), "d²L/dw²", rtol=1e-8)


def test_sigmoid_loss_gradient_hessian_match_autograd(rng):
    for w in [np.zeros(2), rng.standard_normal(2), 5 * rng.standard_normal(2)]:
        wt = torch.tensor(w, requires_grad=True)
        loss = tgd.sigmoid_mse_loss(wt)
        loss.backward()
        assert_close(gd.sigmoid_mse_loss(w), loss, "sigmoid MSE loss")
        assert_close(gd.sigmoid_mse_grad(w), wt.grad, "sigmoid MSE gradient")
        assert_close(gd.sigmoid_mse_hessian(w), tgd.sigmoid_mse_hessian(torch.from_numpy(w)),
                     "sigmoid MSE Hessian")
    candidates = 2 * rng.standard_normal((9, 2))
    assert_close(gd.sigmoid_mse_loss(candidates), tgd.sigmoid_mse_loss(torch.from_numpy(candidates)),
                 "sigmoid MSE loss of a batch of candidates")


def test_sigmoid_gradient_and_hessian_central_differences(rng):
    for w in [np.array([-0.2, 0.1]), rng.standard_normal(2), np.array([-4.1, 4.9])]:
        w = w.copy()
        assert_close(gd.sigmoid_mse_grad(w), numerical_grad(lambda w=w: float(gd.sigmoid_mse_loss(w)), w),
                     "∇L vs central differences", rtol=1e-5, atol=1e-9)
        rows = [numerical_grad(lambda w=w, i=i: float(gd.sigmoid_mse_grad(w)[i]), w) for i in range(2)]
        assert_close(gd.sigmoid_mse_hessian(w), np.array(rows), "∇²L vs central differences",
                     rtol=1e-5, atol=1e-9)


# -- (a) the 1-D fit ---------------------------------------------------------------------------
def test_fit_line_twins_agree(line):
    x, y = line
    grid = gd.line_grid()
    ours, theirs = gd.fit_line(x, y, grid), tgd.fit_line(x, y, grid)
    for method in ours:
        assert_same_result(ours[method], theirs[method], f"fit_line {method}")


def test_fit_line_finds_the_closed_form(line):
    x, y = line
    w_star = gd.line_closed_form(x, y)
    # the least-squares solution by another road: NumPy's lstsq on the (N, 1) design matrix
    assert w_star == pytest.approx(np.linalg.lstsq(x[:, None], y, rcond=None)[0][0], rel=1e-12)
    assert abs(w_star - 1.7) < 0.05                      # noise 0.2 over 60 points moves it little
    grid = gd.line_grid()
    spacing = grid[1] - grid[0]
    result = gd.fit_line(x, y, grid)
    brute, descent = result["brute force"], result["gradient descent"]
    # the grid's best is the grid point nearest w* (L is a parabola), never closer than the grid
    assert abs(brute.weights - w_star) <= spacing / 2
    # each step shrinks w − w* by |1 − η·2·mean(x²)| ≈ 0.87; after 200 steps ≈ 1e-12 of the start
    factor = abs(1 - 0.05 * 2 * np.mean(x * x))
    assert abs(descent.weights - w_star) <= factor**200 * abs(-4.0 - w_star) * 1.0001 + 1e-14
    assert abs(descent.weights - w_star) < 1e-9
    assert descent.loss <= brute.loss
    assert (brute.evaluations, descent.evaluations, descent.gradient_evaluations) == (1000, 201, 200)


# -- (b) two weights: brute force versus gradient descent ------------------------------------
def test_fit_sigmoid_twins_agree(guesses):
    candidates, w0 = guesses
    ours, theirs = gd.fit_sigmoid(candidates, w0), tgd.fit_sigmoid(candidates, w0)
    for method in ours:
        assert_same_result(ours[method], theirs[method], f"fit_sigmoid {method}")


def test_tutorial_settings_lose_to_brute_force(guesses):
    """The tutorial's η = 0.5 for 100 steps ends far above the best of 10,000 guesses."""
    candidates, w0 = guesses
    result = gd.fit_sigmoid(candidates, w0, lr=0.5, n_iterations=100)
    assert result["gradient descent"].loss > 2 * result["brute force"].loss


def test_curvature_step_beats_brute_force_with_far_fewer_evaluations(guesses):
    """η = 1/λ_max at w₀: a lower loss than 10,000 guesses with ≥ 10× fewer evaluations."""
    candidates, w0 = guesses
    lr, _ = gd.curvature_learning_rate(gd.sigmoid_mse_hessian(w0))
    lr_torch, _ = tgd.curvature_learning_rate(tgd.sigmoid_mse_hessian(torch.from_numpy(w0)))
    assert lr == pytest.approx(lr_torch, rel=1e-7)
    ours = gd.fit_sigmoid(candidates, w0, lr=lr, n_iterations=100)
    theirs = tgd.fit_sigmoid(candidates, w0, lr=lr_torch, n_iterations=100)
    for result in (ours, theirs):
        brute, descent = result["brute force"], result["gradient descent"]
        assert descent.loss <= brute.loss
        # even counting a gradient as three loss evaluations the gap is > 10×
        assert 10 * (descent.evaluations + 3 * descent.gradient_evaluations) <= brute.evaluations
    assert_same_result(ours["gradient descent"], theirs["gradient descent"], "η = 1/λ_max")


# -- the learning rate -------------------------------------------------------------------------
def test_learning_rate_curves_twins_agree(guesses):
    _, w0 = guesses
    ours, theirs = gd.compare_learning_rates(w0), tgd.compare_learning_rates(w0)
    assert list(ours) == list(gd.LEARNING_RATES)
    for lr in ours:
        assert len(ours[lr].history) == 51
        assert_same_result(ours[lr], theirs[lr], f"learning rate {lr}")


def test_which_learning_rates_are_unstable(guesses):
    _, w0 = guesses
    _, limit = gd.curvature_learning_rate(gd.sigmoid_mse_hessian(w0))
    assert 2.0 < limit < 50.0                     # 2/λ_max ≈ 21: 2.0 is well inside, 50 outside
    curves = {lr: r.history for lr, r in tgd.compare_learning_rates(w0).items()}
    tutorial = (0.01, 0.1, 0.5, 2.0)
    for lr in tutorial:                           # the tutorial's four all descend at every step
        assert np.all(np.diff(curves[lr]) < 0), f"η = {lr} is not monotone"
    assert min(tutorial, key=lambda lr: curves[lr][-1]) == 2.0   # "UNSTABLE!" ends lowest
    # past the limit the first step overshoots and the curve zigzags
    assert curves[50.0][1] > curves[50.0][0]
    assert np.sum(np.diff(curves[50.0]) > 0) >= 2
    # far past it: stuck on the plateau where point 3 (label 0) is predicted 1 with certainty
    # and points 1, 2 are right, L = (1² + 0 + 0)/3, and σ' ≈ 0 gives no way back
    assert curves[200.0][-1] > curves[200.0][0]
    assert curves[200.0][-1] == pytest.approx(1 / 3, abs=1e-3)
