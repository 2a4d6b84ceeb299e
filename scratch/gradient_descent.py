"""Gradient descent versus brute force, and the learning rate.

θₜ₊₁ = θₜ − η ∇L(θₜ)          one step downhill, of size η

(a) ŷ = w·x       L(w) = (1/N) Σᵢ (w xᵢ − yᵢ)²
    dL/dw = (2/N) Σᵢ xᵢ (w xᵢ − yᵢ)       w* = Σᵢ xᵢyᵢ / Σᵢ xᵢ²
(b) p = σ(X w)    L(w) = (1/n) Σᵢ (pᵢ − yᵢ)²    X: (n, 2), w: (2,)
    ∇L(w) = (2/n) Xᵀ [(p − y) ⊙ p ⊙ (1 − p)]
    ∇²L(w) = (2/n) Xᵀ diag(p(1 − p) [p(1 − p) + (p − y)(1 − 2p)]) X

Stable while η < 2/λ_max(∇²L); η = 1/λ_max is the curvature step.

twin: torch_ref/gradient_descent.py (autograd + torch.optim.SGD)
story: docs/gradient_descent.md (the tutorial's η = 0.5 and η = 2.0)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from scratch.activations import Sigmoid

# Tutorial (b): two points labelled 1, one labelled 0, no bias.
SIGMOID_X = np.array([[0.5, 0.8], [0.3, 0.9], [0.7, 0.4]])
SIGMOID_Y = np.array([1.0, 1.0, 0.0])

# The tutorial's four rates, then one past the stability limit
# 2/λ_max ≈ 21 and one far past it (see the story).
LEARNING_RATES = (0.01, 0.1, 0.5, 2.0, 50.0, 200.0)


@dataclass
class SearchResult:
    """What an optimiser spent and what it reached.

    weights: the best candidate, or the last iterate
    loss: L(weights)
    evaluations: of L (a batch of K candidates counts K)
    gradient_evaluations: of ∇L
    history: L after each evaluation, in order
    """

    method: str
    weights: np.ndarray
    loss: float
    evaluations: int
    gradient_evaluations: int
    history: np.ndarray

    def __str__(self) -> str:
        return (f"{self.method:>16}: {self.evaluations:6d} loss + "
                f"{self.gradient_evaluations:4d} gradient "
                f"evaluations -> loss {self.loss:.6g} at "
                f"w = {np.round(self.weights, 4)}")


# -- (a) the 1-D least-squares fit
def line_data(generator: np.random.Generator, n: int = 60,
              true_w: float = 1.7, noise: float = 0.2):
    """x ~ U(−2, 2), y = true_w·x + N(0, noise²)."""
    x = generator.uniform(-2, 2, size=n)                 # (N,)
    y = true_w * x + generator.normal(scale=noise, size=n)
    return x, y


def line_loss(w, x: np.ndarray, y: np.ndarray):
    """L(w) = (1/N) Σᵢ (w xᵢ − yᵢ)²
    w: () or candidates (K,) -> () or (K,)"""
    w = np.asarray(w)
    return np.mean((w[..., None] * x - y) ** 2, axis=-1)


def line_grad(w, x: np.ndarray, y: np.ndarray):
    """dL/dw = (2/N) Σᵢ xᵢ (w xᵢ − yᵢ)"""
    w = np.asarray(w)
    residual = w[..., None] * x - y
    return 2.0 / x.shape[0] * np.sum(x * residual, axis=-1)


def line_closed_form(x: np.ndarray, y: np.ndarray) -> float:
    """w* = Σᵢ xᵢyᵢ / Σᵢ xᵢ², where dL/dw = 0."""
    return float(np.dot(x, y) / np.dot(x, x))


def line_grid(low=-5.0, high=5.0, num=1000) -> np.ndarray:
    """The tutorial's grid: spacing (high − low)/(num − 1)."""
    return np.linspace(low, high, num)


# -- (b) two weights through a sigmoid
def random_candidates(generator: np.random.Generator,
                      n: int = 10_000, scale: float = 2.0,
                      n_weights: int = 2) -> np.ndarray:
    """The tutorial's guesses w ~ scale · N(0, I): (n, n_weights)"""
    return scale * generator.standard_normal((n, n_weights))


def sigmoid_mse_loss(w, X=SIGMOID_X, y=SIGMOID_Y):
    """L(w) = (1/n) Σᵢ (σ(xᵢ·w) − yᵢ)²
    w: (2,) or candidates (K, 2) -> () or (K,)"""
    p = Sigmoid()(np.asarray(w) @ X.T)  # (n,) or (K, n)
    return np.mean((p - y) ** 2, axis=-1)


def sigmoid_mse_grad(w, X=SIGMOID_X, y=SIGMOID_Y):
    """∇L(w) = (2/n) Xᵀ [(p − y) ⊙ p ⊙ (1 − p)], p = σ(X w)"""
    p = Sigmoid()(X @ w)                                 # (n,)
    return 2.0 / X.shape[0] * X.T @ ((p - y) * p * (1 - p))


def sigmoid_mse_hessian(w, X=SIGMOID_X, y=SIGMOID_Y):
    """∇²L(w) = (2/n) Xᵀ diag(cᵢ) X,   s = p(1 − p) = σ'
    cᵢ = sᵢ [sᵢ + (pᵢ − yᵢ)(1 − 2pᵢ)]   w: (2,) -> (2, 2)"""
    p = Sigmoid()(X @ w)                           # (n,)
    s = p * (1 - p)
    c = 2.0 / X.shape[0] * s * (s + (p - y) * (1 - 2 * p))
    return X.T @ (c[:, None] * X)                # (2, 2)


def curvature_learning_rate(hessian):
    """(1/λ_max, 2/λ_max): the step of smooth
    optimisation and the stability limit."""
    lam_max = float(np.linalg.eigvalsh(hessian)[-1])
    return 1.0 / lam_max, 2.0 / lam_max


# -- the two methods
def brute_force(loss_fn: Callable, candidates,
                method: str = "brute force"):
    """L at every candidate (one vectorised call,
    K evaluations); keep the best."""
    losses = np.asarray(loss_fn(candidates),
                        dtype=np.float64)         # (K,)
    best = int(np.argmin(losses))
    weights = np.array(candidates[best])
    return SearchResult(method, weights,
                        float(losses[best]),
                        evaluations=len(candidates),
                        gradient_evaluations=0,
                        history=losses)


def gradient_descent(loss_fn: Callable,
                     grad_fn: Callable, w0, lr: float,
                     n_iterations: int,
                     method: str = "gradient descent"):
    """n steps of w ← w − η ∇L(w) from w₀:
    n + 1 evaluations of L, n of ∇L."""
    w = np.array(w0, dtype=np.float64)   # a copy of w₀
    history = []
    for _ in range(n_iterations):
        history.append(float(loss_fn(w)))      # L(wₜ)
        w -= lr * grad_fn(w)
    history.append(float(loss_fn(w)))          # L(wₙ)
    return SearchResult(
        method, w, history[-1],
        evaluations=n_iterations + 1,
        gradient_evaluations=n_iterations,
        history=np.array(history))


# -- the tutorials' experiments
def fit_line(x, y, grid, w0=-4.0, lr=0.05,
             n_iterations=200):
    """Tutorial (a): a grid of 1000 values versus 200
    gradient steps (w₀ = −4, η = 0.05)."""
    def loss(w):
        return line_loss(w, x, y)

    def grad(w):
        return line_grad(w, x, y)

    descent = gradient_descent(loss, grad, w0, lr,
                               n_iterations)
    brute = brute_force(loss, grid)
    return {"brute force": brute,
            "gradient descent": descent}


def fit_sigmoid(candidates, w0, lr=0.5,
                n_iterations=100,
                X=SIGMOID_X, y=SIGMOID_Y):
    """Tutorial (b): random guesses versus gradient
    descent (the tutorial's η = 0.5, 100 steps)."""
    def loss(w):
        return sigmoid_mse_loss(w, X, y)

    def grad(w):
        return sigmoid_mse_grad(w, X, y)

    descent = gradient_descent(loss, grad, w0, lr,
                               n_iterations)
    brute = brute_force(loss, candidates)
    return {"brute force": brute,
            "gradient descent": descent}


def compare_learning_rates(
        w0, learning_rates=LEARNING_RATES,
        n_iterations=50, X=SIGMOID_X, y=SIGMOID_Y):
    """The tutorial's comparison on (b): the loss curve
    of each rate from the same w₀."""
    def loss(w):
        return sigmoid_mse_loss(w, X, y)

    def grad(w):
        return sigmoid_mse_grad(w, X, y)

    return {lr: gradient_descent(loss, grad, w0, lr,
                                 n_iterations,
                                 method=f"η = {lr}")
            for lr in learning_rates}
