"""Gradient descent versus brute force, and the learning rate.   twin: torch_ref/gradient_descent.py

θₜ₊₁ = θₜ − η ∇L(θₜ)          follow the slope downhill, one step of size η at a time

Brute force evaluates L at many candidates and keeps the best; gradient descent evaluates L
and ∇L once per step. ``SearchResult`` records what each method spent (loss and gradient
evaluations) and what it reached (the loss, the weights, the loss after every evaluation):
that trade is the lesson. The two problems of the tutorials:

(a) the 1-D least-squares fit ŷ = w·x          L(w) = (1/N) Σᵢ (w xᵢ − yᵢ)²
        dL/dw = (2/N) Σᵢ xᵢ (w xᵢ − yᵢ)        d²L/dw² = (2/N) Σᵢ xᵢ²
    closed form: w* = Σᵢ xᵢyᵢ / Σᵢ xᵢ². A grid of 1000 values over [−5, 5] finds w* only to
    within half the grid spacing (≈ 0.005); 200 gradient steps find it to machine precision.

(b) two weights, no bias, a sigmoid and squared error on three points
        L(w) = (1/n) Σᵢ (σ(xᵢ·w) − yᵢ)²         x: (n, 2), w: (2,)
        ∇L(w) = (2/n) Xᵀ [(p − y) ⊙ p ⊙ (1 − p)],    p = σ(X w)
        ∇²L(w) = (2/n) Xᵀ diag(p(1 − p) [p(1 − p) + (p − y)(1 − 2p)]) X

What the tutorial gets wrong in (b), measured here rather than assumed:

* its gradient descent (η = 0.5, 100 steps) does *not* beat its 10,000 random guesses: it ends
  near L = 0.11 while the best guess reaches L ≈ 0.015–0.035, depending on the seed (with the
  tutorial's own seed: 0.116 against 0.022). This loss is nearly flat: the largest eigenvalue
  of the Hessian at the start is λ_max ≈ 0.096, so η = 0.5 crawls. The step size that smooth
  optimisation prescribes, η = 1/λ_max ≈ 10, reaches L < 0.01 in the same 100 steps: 100×
  fewer evaluations than brute force and a lower loss. ``curvature_learning_rate`` computes it.
* η = 2.0 is labelled "UNSTABLE!". It is not: its loss falls at every step and ends lowest of
  the tutorial's four rates. Gradient descent on a quadratic w ↦ ½ wᵀHw is stable while
  η < 2/λ_max, here ≈ 21, ten times more than 2.0. ``LEARNING_RATES`` adds two rates past
  that limit: η = 50 overshoots (the loss rises on the first step and zigzags; it still ends
  low, because the three points are separable by a line through the origin, so L → 0 only as
  ‖w‖ → ∞ and long steps get there sooner), and η = 200 diverges in the only way a loss
  bounded in [0, 1] can: its first step throws w onto the saturated plateau L = 1/3 (every
  point predicted 1 with certainty), where σ' ≈ 0 and no gradient leads back.

Randomness (the grid is not random; the candidates and w₀ of (b) are) comes from one
``np.random.Generator``; the torch twin consumes the same arrays, so both report the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from scratch.activations import Sigmoid

# Tutorial (b): two points labelled 1, one labelled 0, no bias.
SIGMOID_X = np.array([[0.5, 0.8], [0.3, 0.9], [0.7, 0.4]])
SIGMOID_Y = np.array([1.0, 1.0, 0.0])

# The tutorial's four rates, then one past the stability limit 2/λ_max ≈ 21 that overshoots
# and one far past it that diverges onto the plateau (see the module docstring).
LEARNING_RATES = (0.01, 0.1, 0.5, 2.0, 50.0, 200.0)


@dataclass
class SearchResult:
    """What an optimiser spent and what it reached.

    weights: the best candidate (brute force) or the last iterate (gradient descent)
    loss: L(weights)
    evaluations: how many times L was evaluated (a batch of K candidates counts K)
    gradient_evaluations: how many times ∇L was evaluated (a backward pass costs about
        as much as two or three evaluations of L)
    history: L after each evaluation, in order: L(candidateₖ) for brute force,
        L(θ₀), L(θ₁), …, L(θₙ) for n gradient steps
    """

    method: str
    weights: np.ndarray
    loss: float
    evaluations: int
    gradient_evaluations: int
    history: np.ndarray

    def __str__(self) -> str:
        return (f"{self.method:>16}: {self.evaluations:6d} loss + {self.gradient_evaluations:4d} "
                f"gradient evaluations -> loss {self.loss:.6g} at w = {np.round(self.weights, 4)}")


# -- problem (a): the 1-D least-squares fit ----------------------------------------------------
def line_data(generator: np.random.Generator, n: int = 60, true_w: float = 1.7,
              noise: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """x ~ U(−2, 2), y = true_w·x + N(0, noise²): tutorial (a) with ``np.random.default_rng(0)``."""
    x = generator.uniform(-2, 2, size=n)                           # (N,)
    y = true_w * x + generator.normal(scale=noise, size=n)         # (N,)
    return x, y


def line_loss(w, x: np.ndarray, y: np.ndarray):
    """L(w) = (1/N) Σᵢ (w xᵢ − yᵢ)². w: () or a batch of candidates (K,) -> () or (K,)."""
    w = np.asarray(w)
    return np.mean((w[..., None] * x - y) ** 2, axis=-1)


def line_grad(w, x: np.ndarray, y: np.ndarray):
    """dL/dw = (2/N) Σᵢ xᵢ (w xᵢ − yᵢ)."""
    w = np.asarray(w)
    return 2.0 / x.shape[0] * np.sum(x * (w[..., None] * x - y), axis=-1)


def line_closed_form(x: np.ndarray, y: np.ndarray) -> float:
    """w* = Σᵢ xᵢyᵢ / Σᵢ xᵢ², where dL/dw = 0."""
    return float(np.dot(x, y) / np.dot(x, x))


def line_grid(low: float = -5.0, high: float = 5.0, num: int = 1000) -> np.ndarray:
    """The tutorial's brute-force grid: spacing (high − low)/(num − 1) ≈ 0.01."""
    return np.linspace(low, high, num)


# -- problem (b): two weights through a sigmoid ------------------------------------------------
def random_candidates(generator: np.random.Generator, n: int = 10_000, scale: float = 2.0,
                      n_weights: int = 2) -> np.ndarray:
    """The tutorial's random guesses w ~ scale · N(0, I), as one array (n, n_weights)."""
    return scale * generator.standard_normal((n, n_weights))


def sigmoid_mse_loss(w, X: np.ndarray = SIGMOID_X, y: np.ndarray = SIGMOID_Y):
    """L(w) = (1/n) Σᵢ (σ(xᵢ·w) − yᵢ)². w: (2,) or candidates (K, 2) -> () or (K,)."""
    p = Sigmoid()(np.asarray(w) @ X.T)                             # (n,) or (K, n)
    return np.mean((p - y) ** 2, axis=-1)


def sigmoid_mse_grad(w, X: np.ndarray = SIGMOID_X, y: np.ndarray = SIGMOID_Y) -> np.ndarray:
    """∇L(w) = (2/n) Xᵀ [(p − y) ⊙ p ⊙ (1 − p)], p = σ(X w). w: (2,) -> (2,)."""
    p = Sigmoid()(X @ w)                                           # (n,)
    return 2.0 / X.shape[0] * X.T @ ((p - y) * p * (1 - p))        # (2,)


def sigmoid_mse_hessian(w, X: np.ndarray = SIGMOID_X, y: np.ndarray = SIGMOID_Y) -> np.ndarray:
    """∇²L(w) = (2/n) Xᵀ diag(cᵢ) X,  cᵢ = sᵢ [sᵢ + (pᵢ − yᵢ)(1 − 2pᵢ)],  s = p(1 − p) = σ'.

    Differentiating the gradient's factor (p − y)·s once more: (p − y)' = s x and
    s' = (1 − 2p) s x. w: (2,) -> (2, 2).
    """
    p = Sigmoid()(X @ w)                                           # (n,)
    s = p * (1 - p)
    c = 2.0 / X.shape[0] * s * (s + (p - y) * (1 - 2 * p))         # (n,)
    return X.T @ (c[:, None] * X)                                  # (2, 2)


def curvature_learning_rate(hessian: np.ndarray) -> tuple[float, float]:
    """(1/λ_max, 2/λ_max) of a Hessian: the step of smooth optimisation and the stability limit.

    On the quadratic model L(θ₀ + δ) ≈ L(θ₀) + gᵀδ + ½ δᵀHδ, a gradient step multiplies the
    error along each eigenvector of H by (1 − η λ). It shrinks for all of them while
    |1 − η λ_max| < 1, i.e. η < 2/λ_max; η = 1/λ_max removes the steepest direction in one step.
    """
    lam_max = float(np.linalg.eigvalsh(hessian)[-1])
    return 1.0 / lam_max, 2.0 / lam_max


# -- the two methods ---------------------------------------------------------------------------
def brute_force(loss_fn: Callable, candidates: np.ndarray, method: str = "brute force") -> SearchResult:
    """Evaluate L at every candidate (one vectorised call, K evaluations) and keep the best."""
    losses = np.asarray(loss_fn(candidates), dtype=np.float64)     # (K,)
    best = int(np.argmin(losses))
    return SearchResult(method, np.array(candidates[best]), float(losses[best]),
                        evaluations=len(candidates), gradient_evaluations=0, history=losses)


def gradient_descent(loss_fn: Callable, grad_fn: Callable, w0, lr: float, n_iterations: int,
                     method: str = "gradient descent") -> SearchResult:
    """n steps of w ← w − η ∇L(w) from w₀: n + 1 evaluations of L, n of ∇L."""
    w = np.array(w0, dtype=np.float64)           # a copy: the caller's w₀ stays as it was
    history = []
    for _ in range(n_iterations):
        history.append(float(loss_fn(w)))        # L(wₜ), before the step
        w -= lr * grad_fn(w)
    history.append(float(loss_fn(w)))            # L(wₙ)
    return SearchResult(method, w, history[-1], evaluations=n_iterations + 1,
                        gradient_evaluations=n_iterations, history=np.array(history))


# -- the tutorials' experiments ----------------------------------------------------------------
def fit_line(x: np.ndarray, y: np.ndarray, grid: np.ndarray, w0: float = -4.0, lr: float = 0.05,
             n_iterations: int = 200) -> dict[str, SearchResult]:
    """Tutorial (a): a grid of 1000 values versus 200 gradient steps (w₀ = −4, η = 0.05)."""
    def loss(w):
        return line_loss(w, x, y)

    def grad(w):
        return line_grad(w, x, y)

    return {"brute force": brute_force(loss, grid),
            "gradient descent": gradient_descent(loss, grad, w0, lr, n_iterations)}


def fit_sigmoid(candidates: np.ndarray, w0: np.ndarray, lr: float = 0.5, n_iterations: int = 100,
                X: np.ndarray = SIGMOID_X, y: np.ndarray = SIGMOID_Y) -> dict[str, SearchResult]:
    """Tutorial (b): random guesses versus gradient descent (the tutorial's η = 0.5, 100 steps)."""
    def loss(w):
        return sigmoid_mse_loss(w, X, y)

    def grad(w):
        return sigmoid_mse_grad(w, X, y)

    return {"brute force": brute_force(loss, candidates),
            "gradient descent": gradient_descent(loss, grad, w0, lr, n_iterations)}


def compare_learning_rates(w0: np.ndarray, learning_rates=LEARNING_RATES, n_iterations: int = 50,
                           X: np.ndarray = SIGMOID_X, y: np.ndarray = SIGMOID_Y) -> dict[float, SearchResult]:
    """The tutorial's comparison on (b): the loss curve of each rate from the same w₀."""
    def loss(w):
        return sigmoid_mse_loss(w, X, y)

    def grad(w):
        return sigmoid_mse_grad(w, X, y)

    return {lr: gradient_descent(loss, grad, w0, lr, n_iterations, method=f"η = {lr}")
            for lr in learning_rates}
