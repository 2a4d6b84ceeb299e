"""Gradient descent versus brute force, and the learning rate.   twin: scratch/gradient_descent.py

θₜ₊₁ = θₜ − η ∇L(θₜ)          here ∇L comes from autograd and the step from torch.optim.SGD

The problems, the findings about the tutorial (its η = 2.0 is not unstable; its η = 0.5 does
not beat brute force in 100 steps) and the meaning of every number are in the scratch twin.
The data, the random candidates and w₀ are the scratch twin's NumPy arrays, so both twins see
the same draws, and both return the same ``SearchResult``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from scratch.gradient_descent import LEARNING_RATES, SIGMOID_X, SIGMOID_Y, SearchResult


def _tensor(a) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a, dtype=np.float64))


# -- problem (a): the 1-D least-squares fit ----------------------------------------------------
def line_loss(w: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """L(w) = (1/N) Σᵢ (w xᵢ − yᵢ)². w: () or candidates (K,) -> () or (K,)."""
    pred = w[..., None] * x                                        # (N,) or (K, N)
    return F.mse_loss(pred, y.expand_as(pred), reduction="none").mean(dim=-1)


# -- problem (b): two weights through a sigmoid ------------------------------------------------
def sigmoid_mse_loss(w: torch.Tensor, X: torch.Tensor | None = None,
                     y: torch.Tensor | None = None) -> torch.Tensor:
    """L(w) = (1/n) Σᵢ (σ(xᵢ·w) − yᵢ)². w: (2,) or candidates (K, 2) -> () or (K,)."""
    X = _tensor(SIGMOID_X) if X is None else X
    y = _tensor(SIGMOID_Y) if y is None else y
    p = torch.sigmoid(w @ X.T)                                     # (n,) or (K, n)
    return F.mse_loss(p, y.expand_as(p), reduction="none").mean(dim=-1)


def sigmoid_mse_hessian(w: torch.Tensor, X: torch.Tensor | None = None,
                        y: torch.Tensor | None = None) -> torch.Tensor:
    """∇²L(w) by autograd (differentiating the gradient once more). w: (2,) -> (2, 2)."""
    return torch.autograd.functional.hessian(lambda v: sigmoid_mse_loss(v, X, y), w)


def curvature_learning_rate(hessian: torch.Tensor) -> tuple[float, float]:
    """(1/λ_max, 2/λ_max): the step of smooth optimisation and the stability limit."""
    lam_max = torch.linalg.eigvalsh(hessian)[-1].item()
    return 1.0 / lam_max, 2.0 / lam_max


# -- the two methods ---------------------------------------------------------------------------
def brute_force(loss_fn: Callable, candidates: torch.Tensor, method: str = "brute force") -> SearchResult:
    """Evaluate L at every candidate (one vectorised call, K evaluations) and keep the best."""
    with torch.no_grad():
        losses = loss_fn(candidates)                               # (K,)
    best = int(torch.argmin(losses))
    return SearchResult(method, candidates[best].numpy().copy(), losses[best].item(),
                        evaluations=len(candidates), gradient_evaluations=0, history=losses.numpy())


def gradient_descent(loss_fn: Callable, w0, lr: float, n_iterations: int,
                     method: str = "gradient descent") -> SearchResult:
    """n steps of torch.optim.SGD from w₀: n + 1 evaluations of L, n backward passes."""
    w = _tensor(w0).clone().requires_grad_(True)
    optimizer = torch.optim.SGD([w], lr=lr)
    history = []
    for _ in range(n_iterations):
        optimizer.zero_grad()
        loss = loss_fn(w)                        # L(wₜ), before the step
        loss.backward()                          # autograd: w.grad = ∇L(wₜ)
        optimizer.step()                         # w ← w − η w.grad
        history.append(loss.item())
    with torch.no_grad():
        history.append(loss_fn(w).item())        # L(wₙ)
    return SearchResult(method, w.detach().numpy().copy(), history[-1], evaluations=n_iterations + 1,
                        gradient_evaluations=n_iterations, history=np.array(history))


# -- the tutorials' experiments ----------------------------------------------------------------
def fit_line(x, y, grid, w0: float = -4.0, lr: float = 0.05,
             n_iterations: int = 200) -> dict[str, SearchResult]:
    """Tutorial (a): a grid of 1000 values versus 200 gradient steps (w₀ = −4, η = 0.05)."""
    x, y = _tensor(x), _tensor(y)

    def loss(w):
        return line_loss(w, x, y)

    return {"brute force": brute_force(loss, _tensor(grid)),
            "gradient descent": gradient_descent(loss, w0, lr, n_iterations)}


def fit_sigmoid(candidates, w0, lr: float = 0.5, n_iterations: int = 100,
                X=SIGMOID_X, y=SIGMOID_Y) -> dict[str, SearchResult]:
    """Tutorial (b): random guesses versus gradient descent (the tutorial's η = 0.5, 100 steps)."""
    X, y = _tensor(X), _tensor(y)

    def loss(w):
        return sigmoid_mse_loss(w, X, y)

    return {"brute force": brute_force(loss, _tensor(candidates)),
            "gradient descent": gradient_descent(loss, w0, lr, n_iterations)}


def compare_learning_rates(w0, learning_rates=LEARNING_RATES, n_iterations: int = 50,
                           X=SIGMOID_X, y=SIGMOID_Y) -> dict[float, SearchResult]:
    """The tutorial's comparison on (b): the loss curve of each rate from the same w₀."""
    X, y = _tensor(X), _tensor(y)

    def loss(w):
        return sigmoid_mse_loss(w, X, y)

    return {lr: gradient_descent(loss, w0, lr, n_iterations, method=f"η = {lr}")
            for lr in learning_rates}
