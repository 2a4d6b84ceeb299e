"""Optimizers: how parameters move once backward has filled their gradients.

    θ ← θ − lr·g   and how each algorithm builds g from ∂L/∂θ

Each is torch.optim's: its arguments, param_groups, state buffers,
refusals and arithmetic in torch's order, in place on param.data.
The base class Optimizer is in scratch/_optimizer.py.

twin: torch_ref/optim.py (torch.optim)
story: docs/optim.md (torch's momentum is not the textbook's; the
tutorials' Adam; weight decay, coupled and decoupled)
"""

from __future__ import annotations

import numpy as np

from scratch import _checks as check
from scratch import lr_scheduler
from scratch._optimizer import Optimizer, hyper, lerp_, new_step


class SGD(Optimizer):
    """Stochastic gradient descent, momentum torch's way.

    For each θ with gradient g (g ← −g if maximize):

        g ← g + λ·θ                      weight_decay λ
        v ← g                            first step, if μ ≠ 0
        v ← μ·v + (1 − dampening)·g      later steps
        g ← g + μ·v  if nesterov, else  g ← v
        θ ← θ − lr·g
    """

    def __init__(self, params, lr=1e-3, momentum=0,
                 dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None,
                 differentiable=False, fused=None):
        check.not_below("SGD", "lr", lr)
        check.not_below("SGD", "momentum", momentum)
        check.hyper("SGD", "dampening", dampening, low=None)
        check.not_below("SGD", "weight_decay", weight_decay)
        check.nesterov("SGD", nesterov, momentum, dampening)
        super().__init__(params, hyper(locals()))

    def _update(self, param, group):
        lr, momentum = group["lr"], group["momentum"]
        g = self._gradient(param, group)   # −g if maximize, + λ·θ
        if momentum != 0:
            state = self.state[param]
            v = state.get("momentum_buffer")
            if v is None:                  # v₁ = g₁, undamped
                v = state["momentum_buffer"] = g.copy()
            else:
                v *= momentum
                v += (1 - group["dampening"]) * g
            g = g + momentum * v if group["nesterov"] else v
        param.data -= lr * g


class Adam(Optimizer):
    """Adam: steps along the running mean of g, scaled per
    entry by its running RMS. At step t = 1, 2, …:

        g ← g + λ·θ           weight_decay λ (L2: in m, v)
        θ ← θ·(1 − lr·λ)      instead, if decoupled (AdamW)
        m ← β₁·m + (1 − β₁)·g
        v ← β₂·v + (1 − β₂)·g²
        v̂ ← max(v̂, v) if amsgrad, else v̂ = v
        θ ← θ − lr/(1 − β₁ᵗ) · m / (√v̂ / √(1 − β₂ᵗ) + ε)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999),
                 eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False,
                 capturable=False, differentiable=False,
                 fused=None, decoupled_weight_decay=False):
        check.hyper(type(self).__name__, "lr", lr)
        check.hyper(type(self).__name__, "eps", eps)
        betas = check.betas(type(self).__name__, betas)
        check.hyper(type(self).__name__, "weight_decay", weight_decay)
        super().__init__(params, hyper(locals()))

    def _update(self, param, group):
        lr, weight_decay = group["lr"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        decoupled = group["decoupled_weight_decay"]
        g = self._gradient(param, group, decay=not decoupled)
        state = self._state(param, "exp_avg", "exp_avg_sq",
                            *["max_exp_avg_sq"] * group["amsgrad"])
        state["step"] += 1
        step = float(state["step"])
        if decoupled and weight_decay != 0:
            param.data *= 1 - lr * weight_decay
        m, v = state["exp_avg"], state["exp_avg_sq"]
        lerp_(m, g, 1 - beta1)        # m ← β₁·m + (1 − β₁)·g
        v *= beta2
        v += (1 - beta2) * g * g
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        step_size = lr / bias_correction1
        if group["amsgrad"]:
            v_max = state["max_exp_avg_sq"]
            np.maximum(v_max, v, out=v_max)
            v = v_max
        denom = np.sqrt(v) / bias_correction2**0.5
        denom += group["eps"]
        param.data -= step_size * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter):

        θ ← θ·(1 − lr·λ), then Adam's step with λ = 0

    Note the default weight_decay=1e-2 (Adam's is 0).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999),
                 eps=1e-8, weight_decay=1e-2, amsgrad=False,
                 *, maximize=False, foreach=None,
                 capturable=False, differentiable=False,
                 fused=None):
        super().__init__(params, **hyper(locals()),
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        for group in self.param_groups:     # as torch's AdamW
            group["decoupled_weight_decay"] = True


class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012): step sizes from the ratio of
    two running RMS. For each θ with gradient g:

        g ← g + λ·θ                       weight_decay λ
        s ← ρ·s + (1 − ρ)·g²              running mean of g²
        Δ ← √(a + ε) / √(s + ε) · g       a: that of Δ²
        a ← ρ·a + (1 − ρ)·Δ²
        θ ← θ − lr·Δ
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6,
                 weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False,
                 differentiable=False):
        check.hyper("Adadelta", "lr", lr)
        check.hyper("Adadelta", "rho", rho, 0.0, 1.0)
        check.hypers("Adadelta", eps=eps, weight_decay=weight_decay)
        super().__init__(params, hyper(locals()))

    def _update(self, param, group):
        rho, eps = group["rho"], group["eps"]
        state = self._state(param, "square_avg", "acc_delta")
        state["step"] += 1
        g = self._gradient(param, group)
        s, a = state["square_avg"], state["acc_delta"]
        s *= rho
        s += (1 - rho) * g * g
        delta = np.sqrt(a + eps) / np.sqrt(s + eps) * g
        a *= rho
        a += (1 - rho) * delta * delta
        param.data -= group["lr"] * delta


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e): g over its running RMS.
    For each θ with gradient g (g ← −g if maximize):

        g ← g + λ·θ                    weight_decay λ
        v ← α·v + (1 − α)·g²
        d ← √v + ε,  or if centered:
        ḡ ← α·ḡ + (1 − α)·g,  d ← √(v − ḡ²) + ε
        b ← μ·b + g / d,  θ ← θ − lr·b    momentum μ > 0
        θ ← θ − lr·g / d                  μ = 0
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8,
                 weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        check.hypers("RMSprop", lr=lr, eps=eps, momentum=momentum,
                     weight_decay=weight_decay, alpha=alpha)
        super().__init__(params, hyper(locals()))

    def _update(self, param, group):
        alpha, momentum = group["alpha"], group["momentum"]
        state = self._state(param, "square_avg",
                            *["momentum_buffer"] * (momentum > 0),
                            *["grad_avg"] * group["centered"])
        state["step"] += 1
        g = self._gradient(param, group)
        v = state["square_avg"]
        v *= alpha
        v += (1 - alpha) * g * g
        if group["centered"]:
            g_avg = state["grad_avg"]
            lerp_(g_avg, g, 1 - alpha)
            d = np.sqrt(v - g_avg * g_avg) + group["eps"]
        else:
            d = np.sqrt(v) + group["eps"]
        if momentum > 0:
            b = state["momentum_buffer"]
            b *= momentum
            b += g / d
            param.data -= group["lr"] * b
        else:
            param.data -= group["lr"] * g / d


class Adagrad(Optimizer):
    """Adagrad (Duchi et al. 2011): each entry's step shrinks
    with the sum of its squared gradients. At step t:

        g ← g + λ·θ                    weight_decay λ
        s ← s + g²        s₀ = initial_accumulator_value
        θ ← θ − lr / (1 + (t − 1)·lr_decay) · g / (√s + ε)
    """

    def __init__(self, params, lr=1e-2, lr_decay=0,
                 weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False,
                 differentiable=False, fused=None):
        check.hypers("Adagrad", lr=lr, lr_decay=lr_decay,
                     weight_decay=weight_decay, eps=eps,
                     initial_accumulator_value=initial_accumulator_value)
        super().__init__(params, hyper(locals()))
        for group in self.param_groups:    # s₀ before step 1
            for param in group["params"]:
                self.state[param] = self._new_state(param)

    def _new_state(self, param):
        s0 = self.defaults["initial_accumulator_value"]
        return {"step": new_step(),
                "sum": np.full_like(param.data, s0)}

    def _update(self, param, group):
        state = self.state[param] or self._new_state(param)
        self.state[param] = state
        state["step"] += 1
        step = float(state["step"])
        g = self._gradient(param, group)
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        state["sum"] += g * g
        std = np.sqrt(state["sum"]) + group["eps"]
        param.data -= clr * g / std


__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
