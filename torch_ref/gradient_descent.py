"""Gradient descent versus brute force, and the learning rate.

θₜ₊₁ = θₜ − η ∇L(θₜ)     here ∇L comes from autograd and the step from torch.optim.SGD

The data, the random candidates and w₀ are the scratch twin's NumPy arrays, so both twins
see the same draws, and both return the same ``SearchResult``.

twin: scratch/gradient_descent.py
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from scratch.gradient_descent import (
    LEARNING_RATES,
    SIGMOID_X,
    SIGMOID_Y,
    SearchResult,
)


def _tensor(a) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a, dtype=np.float64))


# -- (a) the 1-D least-squares fit
def line_loss(w, x, y):
    """L(w) = (1/N) Σᵢ (w xᵢ − yᵢ)²"""
    pred = w[..., None] * x   # (N,) or (K, N)
    loss = F.mse_loss(pred, y.expand_as(pred),
                      reduction="none")
    return loss.mean(dim=-1)


# -- (b) two weights through a sigmoid
def sigmoid_mse_loss(w, X=None, y=None):
    """L(w) = (1/n) Σᵢ (σ(xᵢ·w) − yᵢ)²"""
    X = _tensor(SIGMOID_X) if X is None else X
    y = _tensor(SIGMOID_Y) if y is None else y
    p = torch.sigmoid(w @ X.T)  # (n,), (K, n)
    loss = F.mse_loss(p, y.expand_as(p),
                      reduction="none")
    return loss.mean(dim=-1)


def sigmoid_mse_hessian(w, X=None, y=None):
    """∇²L(w) by autograd (the gradient,
    differentiated once more)."""
    def loss(v):
        return sigmoid_mse_loss(v, X, y)

    return torch.autograd.functional.hessian(
        loss, w)


def curvature_learning_rate(hessian):
    """(1/λ_max, 2/λ_max)"""
    eigenvalues = torch.linalg.eigvalsh(hessian)
    lam_max = eigenvalues[-1].item()
    return 1.0 / lam_max, 2.0 / lam_max


# -- the two methods
def brute_force(loss_fn, candidates,
                method="brute force"):
    """L at every candidate; keep the best."""
    with torch.no_grad():
        losses = loss_fn(candidates)   # (K,)
    best = int(torch.argmin(losses))
    weights = candidates[best].numpy().copy()
    return SearchResult(
        method, weights, losses[best].item(),
        evaluations=len(candidates),
        gradient_evaluations=0,
        history=losses.numpy())


def gradient_descent(loss_fn, w0, lr,
                     n_iterations,
                     method="gradient descent"):
    """n steps of torch.optim.SGD from w₀."""
    w = _tensor(w0).clone()
    w.requires_grad_(True)
    optimizer = torch.optim.SGD([w], lr=lr)
    history = []
    for _ in range(n_iterations):
        optimizer.zero_grad()
        loss = loss_fn(w)        # L(wₜ)
        loss.backward()          # w.grad = ∇L
        optimizer.step()         # w − η w.grad
        history.append(loss.item())
    with torch.no_grad():        # L(wₙ)
        history.append(loss_fn(w).item())
    weights = w.detach().numpy().copy()
    return SearchResult(
        method, weights, history[-1],
        evaluations=n_iterations + 1,
        gradient_evaluations=n_iterations,
        history=np.array(history))


# -- the tutorials' experiments
def fit_line(x, y, grid, w0=-4.0, lr=0.05,
             n_iterations=200):
    """Tutorial (a): grid versus gradient."""
    x, y = _tensor(x), _tensor(y)

    def loss(w):
        return line_loss(w, x, y)

    descent = gradient_descent(loss, w0, lr,
                               n_iterations)
    brute = brute_force(loss, _tensor(grid))
    return {"brute force": brute,
            "gradient descent": descent}


def fit_sigmoid(candidates, w0, lr=0.5,
                n_iterations=100,
                X=SIGMOID_X, y=SIGMOID_Y):
    """Tutorial (b): guesses vs gradient."""
    X, y = _tensor(X), _tensor(y)

    def loss(w):
        return sigmoid_mse_loss(w, X, y)

    descent = gradient_descent(loss, w0, lr,
                               n_iterations)
    candidates = _tensor(candidates)
    brute = brute_force(loss, candidates)
    return {"brute force": brute,
            "gradient descent": descent}


def compare_learning_rates(
        w0, learning_rates=LEARNING_RATES,
        n_iterations=50,
        X=SIGMOID_X, y=SIGMOID_Y):
    """Each rate's loss curve from w₀."""
    X, y = _tensor(X), _tensor(y)

    def loss(w):
        return sigmoid_mse_loss(w, X, y)

    return {lr: gradient_descent(
                loss, w0, lr, n_iterations,
                method=f"η = {lr}")
            for lr in learning_rates}
