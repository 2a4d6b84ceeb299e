"""Draw every figure of the reading guide from the project's own code, headless.

    python docs/make_figures.py                  # all figures into docs/figures/
    python docs/make_figures.py --out DIR        # somewhere else
    python docs/make_figures.py --only activations,conv_edges
    python docs/make_figures.py --list           # names, what each needs, whether it can run

Each figure imports ``scratch`` and ``torch_ref`` and draws what they compute: no formula is
written a second time here. Where a figure shows a derivative, a path or a trained network,
it shows both twins, the torch one overlaid on the scratch one, and says how far apart they
are. A figure whose module has not been written yet is skipped with a note; one that fails is
reported and makes the command exit 1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SCRATCH = {"color": "tab:blue", "label": "scratch (NumPy)"}
TORCH = {"color": "black", "linestyle": "none", "marker": "x", "markersize": 4, "label": "torch"}
DPI = 110


# -- the registry ----------------------------------------------------------------------------
@dataclass
class Figure:
    name: str
    title: str
    caption: str
    concepts: tuple[str, ...]
    needs: tuple[str, ...]            # files, relative to the repository root
    draw: Callable
    key: bool = False                 # shown in the README's concept map

    @property
    def filename(self) -> str:
        return f"{self.name}.png"

    def missing(self) -> list[str]:
        return [n for n in self.needs if not (ROOT / n).exists()]

    def available(self) -> bool:
        return not self.missing()


FIGURES: list[Figure] = []


def figure(name: str, title: str, caption: str, concepts, needs, key: bool = False):
    def register(draw):
        FIGURES.append(Figure(name, title, caption, tuple(concepts), tuple(needs), draw, key))
        return draw
    return register


def twins(*concepts: str) -> list[str]:
    return [f"{half}/{c}.py" for c in concepts for half in ("scratch", "torch_ref")]


@dataclass
class Context:
    """What several figures share, computed once: the MNIST run and its model."""

    run: Path | None = None           # a train.py --impl both output folder to draw the CNN from
    scratch_dir: str = ""             # where a short run goes when there is none
    cache: dict = field(default_factory=dict)


class _Gap(float):
    """A largest difference, printed as 0 or in one significant digit (2e-16)."""

    def __format__(self, spec: str) -> str:
        return "0" if self == 0 else format(float(self), ".0e")


def _diff(a, b) -> _Gap:
    """max |a − b| of a scratch result and its torch twin (either may be a tensor)."""
    a = np.asarray(a.detach().numpy() if hasattr(a, "detach") else a, dtype=np.float64)
    b = np.asarray(b.detach().numpy() if hasattr(b, "detach") else b, dtype=np.float64)
    return _Gap(np.max(np.abs(a - b)) if a.size else 0.0)


def _gaps(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Break a plotted line where it jumps (a step, a kink's derivative) instead of drawing a wall."""
    jump = np.abs(np.diff(y)) > 0.2 * (np.nanmax(y) - np.nanmin(y) + 1e-12)
    x, y = x.astype(float).copy(), y.astype(float).copy()
    idx = np.nonzero(jump)[0] + 1
    return np.insert(x, idx, np.nan), np.insert(y, idx, np.nan)


def _annotate(ax, values: np.ndarray, fmt: str = "{:.0f}", size: int = 8, threshold=None) -> None:
    """Write each value in its cell, white on dark cells."""
    span = np.max(np.abs(values)) if threshold is None else threshold
    for (i, j), v in np.ndenumerate(values):
        dark = span > 0 and abs(v) > 0.6 * span
        ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=size,
                color="white" if dark else "black")


def _grid_off(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


# -- activations -----------------------------------------------------------------------------
@figure("activations", "Activation functions and their derivatives",
        "Each activation (solid) and its derivative from the scratch backward (orange); torch's "
        "autograd derivative is overlaid as black crosses. The step function has no useful "
        "derivative, so both twins refuse a backward through it.",
        concepts=["activations"], needs=twins("activations"), key=True)
def draw_activations(ctx: Context):
    import torch

    from scratch import activations as S
    from torch_ref import activations as T

    z = np.linspace(-5, 5, 1001)
    every = slice(0, None, 40)
    cases = [("Sigmoid", {}), ("Tanh", {}), ("ReLU", {}), ("LeakyReLU", {"negative_slope": 0.1}),
             ("Step", {})]
    fig, axes = plt.subplots(2, 3, figsize=(13, 8))
    for ax, (name, kwargs) in zip(axes.flat, cases, strict=False):
        layer = getattr(S, name)(**kwargs)
        y = layer(z)
        zt = torch.tensor(z, requires_grad=True)
        yt = getattr(T, name)(**kwargs)(zt)
        ax.plot(*_gaps(z, y), color="tab:blue", lw=2, label="the function f(z)")
        note = f"max |scratch − torch|: forward {_diff(y, yt)}"
        try:
            dy = layer.backward(np.ones_like(z))
        except RuntimeError:
            dy = None
        if dy is not None:
            yt.backward(torch.ones_like(yt))
            ax.plot(*_gaps(z, dy), color="tab:orange", lw=2, label="its derivative f′(z), scratch backward")
            ax.plot(z[every], zt.grad.numpy()[every], **{**TORCH, "label": "f′(z), torch autograd"})
            note += f", derivative {_diff(dy, zt.grad)}"
        else:
            ax.text(0.04, 0.55, "no backward: the derivative is 0\nalmost everywhere, undefined at 0\n"
                    "(Step.backward raises, as torch does)", transform=ax.transAxes, fontsize=8.5,
                    bbox={"boxstyle": "round", "facecolor": "lightyellow", "alpha": 0.9})
            ax.set_ylim(-0.1, 1.1)
        arg = ", ".join(f"{k}={v}" for k, v in kwargs.items())
        ax.set_title(f"{name}({arg})\n{note}", fontsize=10)
        ax.set_xlabel("z")
        ax.set_ylabel("f(z) and f′(z)")
        ax.axhline(0, color="gray", lw=0.5)
        ax.axvline(0, color="gray", lw=0.5)
        ax.grid(alpha=0.3)
    fig.legend(*axes.flat[0].get_legend_handles_labels(), loc="lower center", ncol=3, fontsize=10,
               bbox_to_anchor=(0.5, 0.0))

    # Softmax is not element by element: vary one of three scores and watch all three outputs.
    ax = axes.flat[5]
    scores = np.stack([z, np.zeros_like(z), -np.ones_like(z)], axis=1)      # (1001, 3)
    softmax = S.Softmax(dim=1)
    p = softmax(scores)
    seed = np.zeros_like(scores)
    seed[:, 0] = 1.0                                   # ∂p₀/∂z₀ is the first column's derivative
    dp = softmax.backward(seed)[:, 0]
    st = torch.tensor(scores, requires_grad=True)
    pt = T.Softmax(dim=1)(st)
    pt.backward(torch.tensor(seed))
    for k, colour in zip(range(3), ("tab:blue", "tab:green", "tab:purple"), strict=True):
        ax.plot(z, p[:, k], color=colour, lw=2, label=f"p{k}" + ("  (score z)" if k == 0 else
                                                                 f"  (score {[0, -1][k - 1]})"))
    ax.plot(z, dp, color="tab:orange", lw=2, label="∂p0/∂z, scratch backward")
    ax.plot(z[every], st.grad.numpy()[every, 0], **{**TORCH, "label": "∂p0/∂z, torch autograd"})
    ax.set_title("Softmax(dim=1) of the scores (z, 0, −1)\nmax |scratch − torch|: forward "
                 f"{_diff(p, pt)}, derivative {_diff(dp, st.grad[:, 0])}", fontsize=10)
    ax.set_xlabel("z (the first score)")
    ax.set_ylabel("probability, derivative")
    ax.set_ylim(-0.03, 1.55)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper center", fontsize=7.5, ncol=2)
    fig.suptitle("Activation functions: forward, and the derivative the backward computes",
                 fontsize=13, weight="bold")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


# -- losses ----------------------------------------------------------------------------------
@figure("losses", "Loss functions and their gradients",
        "Each loss for one sample whose true answer is class 1 (or the value 1), as the prediction "
        "varies, with its gradient from the scratch backward; torch's autograd gradient is overlaid "
        "as black crosses. BCELoss clamps its log at −100, as torch does.",
        concepts=["losses", "cross_entropy"], needs=twins("losses", "cross_entropy"))
def draw_losses(ctx: Context):
    import torch

    from scratch import cross_entropy as SC
    from scratch import losses as S
    from torch_ref import cross_entropy as TC
    from torch_ref import losses as T

    every = slice(0, None, 25)
    fig, axes = plt.subplots(2, 2, figsize=(12, 8.2), layout="constrained")
    x_lin = np.linspace(-1.0, 3.0, 401)
    p = np.linspace(1e-3, 1 - 1e-3, 401)
    z = np.linspace(-8.0, 8.0, 401)
    cases = [
        ("MSELoss()", "MSELoss", {}, x_lin, np.ones_like(x_lin), "prediction x (target y = 1)"),
        ("BCELoss()", "BCELoss", {}, p, np.ones_like(p), "predicted probability p (target y = 1)"),
        ("BCEWithLogitsLoss()", "BCEWithLogitsLoss", {}, z, np.ones_like(z), "logit z (target y = 1)"),
    ]
    for ax, (title, name, kwargs, x, y, xlabel) in zip(axes.flat, cases, strict=False):
        values = getattr(S, name)(**kwargs, reduction="none")(x, y)
        loss = getattr(S, name)(**kwargs, reduction="sum")
        loss(x, y)
        grad = loss.backward()
        xt = torch.tensor(x, requires_grad=True)
        lt = getattr(T, name)(**kwargs, reduction="sum")(xt, torch.tensor(y))
        lt.backward()
        ax.plot(x, values, lw=2, color="tab:blue", label="loss ℓ (scratch)")
        ax.plot(x, grad, lw=2, color="tab:orange", label="∂ℓ/∂input (scratch backward)")
        ax.plot(x[every], xt.grad.numpy()[every], **{**TORCH, "label": "∂ℓ/∂input (torch autograd)"})
        ax.set_title(f"{title}\nmax |scratch − torch|: loss {_diff(values.sum(), lt)}, "
                     f"gradient {_diff(grad, xt.grad)}", fontsize=10)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("loss and gradient")
        ax.axhline(0, color="gray", lw=0.5)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes.flat[1].set_ylim(-10, 8)
    # Cross-entropy over three classes: the logit of the true class varies, the others stay.
    ax = axes.flat[3]
    logits = np.stack([z, np.zeros_like(z), -np.ones_like(z)], axis=1)    # (401, 3)
    target = np.zeros(len(z), dtype=np.int64)
    values = SC.CrossEntropyLoss(reduction="none")(logits, target)
    loss = SC.CrossEntropyLoss(reduction="sum")
    loss(logits, target)
    grad = loss.backward()[:, 0]
    lt_in = torch.tensor(logits, requires_grad=True)
    lt = TC.CrossEntropyLoss(reduction="sum")(lt_in, torch.tensor(target))
    lt.backward()
    ax.plot(z, values, lw=2, color="tab:blue", label="loss ℓ (scratch)")
    ax.plot(z, grad, lw=2, color="tab:orange", label="∂ℓ/∂z (scratch backward)")
    ax.plot(z[every], lt_in.grad.numpy()[every, 0], **{**TORCH, "label": "∂ℓ/∂z (torch autograd)"})
    ax.set_title(f"CrossEntropyLoss() of the logits (z, 0, −1), true class 0\nmax |scratch − torch|: "
                 f"loss {_diff(values.sum(), lt)}, gradient {_diff(grad, lt_in.grad[:, 0])}", fontsize=10)
    ax.set_xlabel("logit z of the true class")
    ax.set_ylabel("loss and gradient")
    ax.axhline(0, color="gray", lw=0.5)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.suptitle("Losses: how wrong a prediction is, and which way to move it", fontsize=13, weight="bold")
    return fig


# -- learning-rate schedules -----------------------------------------------------------------
@figure("lr_schedules", "Learning-rate schedules",
        "The learning rate at each step under StepLR, CosineAnnealingLR (past T_max it climbs back) "
        "and OneCycleLR (with the momentum it cycles against the rate); scratch lines, torch crosses.",
        concepts=["lr_scheduler", "optim"], needs=twins("lr_scheduler", "optim"))
def draw_lr_schedules(ctx: Context):
    import torch

    from scratch import lr_scheduler as SS
    from scratch import optim as SO
    from scratch.module import Parameter

    cases = [("StepLR(step_size=30, gamma=0.1)", "StepLR", {"step_size": 30, "gamma": 0.1}, 100),
             ("CosineAnnealingLR(T_max=50)", "CosineAnnealingLR", {"T_max": 50}, 150),
             ("OneCycleLR(max_lr=0.1, total_steps=100)", "OneCycleLR",
              {"max_lr": 0.1, "total_steps": 100}, 100)]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8), layout="constrained")
    for ax, (title, name, kwargs, steps) in zip(axes, cases, strict=True):
        optimizer = SO.SGD([Parameter(np.zeros(1))], lr=0.1, momentum=0.9)
        scheduler = getattr(SS, name)(optimizer, **kwargs)
        weight = torch.zeros(1, requires_grad=True)
        twin_optimizer = torch.optim.SGD([weight], lr=0.1, momentum=0.9)
        twin_scheduler = getattr(torch.optim.lr_scheduler, name)(twin_optimizer, **kwargs)
        ours, theirs, momentum = [], [], []
        for _ in range(steps):
            ours.append(scheduler.get_last_lr()[0])
            theirs.append(twin_scheduler.get_last_lr()[0])
            momentum.append(optimizer.param_groups[0]["momentum"])
            optimizer.step()
            twin_optimizer.step()
            scheduler.step()
            twin_scheduler.step()
        ax.plot(ours, lw=2, **SCRATCH)
        ax.plot(range(0, steps, 4), theirs[::4], **TORCH)
        ax.set_title(f"{title}\nmax |scratch − torch| = {_diff(np.array(ours), np.array(theirs))}",
                     fontsize=10)
        ax.set_xlabel("step")
        ax.set_ylabel("learning rate")
        ax.grid(alpha=0.3)
        if name == "OneCycleLR":
            mx = ax.twinx()
            mx.plot(momentum, color="tab:green", ls="--", lw=1.5, label="momentum, right axis (scratch)")
            mx.set_ylabel("momentum")
    handles, labels = axes[0].get_legend_handles_labels()
    more, more_labels = mx.get_legend_handles_labels()
    fig.legend(handles + more, labels + more_labels, loc="outside lower center", ncol=3, fontsize=10)
    fig.suptitle("Learning-rate schedules (SGD, base lr 0.1, momentum 0.9)", fontsize=13, weight="bold")
    return fig


# -- convolution -----------------------------------------------------------------------------
def _edge_image() -> np.ndarray:
    """The tutorial's 8×8 image: dark (0) left half, bright (255) right half."""
    image = np.zeros((8, 8))
    image[:, 4:] = 255.0
    return image


EDGE_KERNELS = {
    "vertical": np.array([[-1.0, 0.0, 1.0]] * 3),
    "horizontal": np.array([[-1.0, -1.0, -1.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]),
}


def _conv_twins(image: np.ndarray, kernels: np.ndarray):
    """Both Conv2d twins with the given kernels (no bias) applied to one image: (scratch, torch)."""
    import torch

    from scratch.conv import Conv2d
    from torch_ref.conv import Conv2d as TorchConv2d

    k = kernels.shape[0]
    scratch = Conv2d(1, k, kernels.shape[-1], bias=False).double()
    scratch.weight.data[...] = kernels[:, None]
    ours = scratch(image[None, None])[0]                                # (k, H_out, W_out)
    twin = TorchConv2d(1, k, kernels.shape[-1], bias=False).double()
    with torch.no_grad():
        twin.weight.copy_(torch.tensor(kernels[:, None]))
        theirs = twin(torch.tensor(image[None, None]))[0]
    return ours, theirs.numpy()


@figure("conv_edges", "Edge detection by convolution",
        "The tutorial's 8×8 image with a vertical edge, seen through a vertical and a horizontal "
        "3×3 kernel (scratch Conv2d, checked against torch's). Both responses share one colour "
        "scale: the vertical kernel fires along the edge, the horizontal one sees nothing.",
        concepts=["conv"], needs=twins("conv"), key=True)
def draw_conv_edges(ctx: Context):
    image = _edge_image()
    kernels = np.stack([EDGE_KERNELS["vertical"], EDGE_KERNELS["horizontal"]])
    ours, theirs = _conv_twins(image, kernels)
    limit = np.max(np.abs(ours))
    fig = plt.figure(figsize=(12, 7.5))
    grid = fig.add_gridspec(2, 4, width_ratios=[1.25, 0.8, 1.25, 0.06])
    ax = fig.add_subplot(grid[:, 0])
    ax.imshow(image, cmap="gray", vmin=0, vmax=255)
    _annotate(ax, image, size=8, threshold=-1)
    for (i, j), v in np.ndenumerate(image):
        ax.texts[i * 8 + j].set_color("white" if v < 128 else "black")
    ax.set_title("input image (8×8)\ndark 0 | bright 255")
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    for row, name in enumerate(("vertical", "horizontal")):
        ax = fig.add_subplot(grid[row, 1])
        ax.imshow(kernels[row], cmap="RdBu_r", vmin=-1.5, vmax=1.5)
        _annotate(ax, kernels[row], size=12, threshold=10)
        ax.set_title(f"{name} kernel (3×3)")
        _grid_off(ax)
        ax = fig.add_subplot(grid[row, 2])
        im = ax.imshow(ours[row], cmap="RdBu_r", vmin=-limit, vmax=limit)
        _annotate(ax, ours[row], size=9)
        ax.set_title(f"{name} response (6×6)\nmax |scratch − torch| = {_diff(ours[row], theirs[row])}")
        ax.set_xlabel("column")
        ax.set_ylabel("row")
    fig.colorbar(im, cax=fig.add_subplot(grid[:, 3]), label="response (shared scale)")
    fig.suptitle("Convolution as an edge detector: out(i, j) = Σᵤ Σᵥ x(i+u, j+v) · K(u, v)",
                 fontsize=13, weight="bold")
    fig.tight_layout()
    return fig


def _square_image() -> np.ndarray:
    """A bright square on a dark 12×12 ground: an edge that rises and one that falls."""
    image = np.zeros((12, 12))
    image[3:9, 3:9] = 1.0
    return image


@figure("relu_pool", "A feature map through ReLU and max pooling",
        "A bright square convolved with the vertical-edge kernel gives positive responses on its "
        "left edge and negative ones on its right; ReLU keeps the positive half; MaxPool2d(2) keeps "
        "the largest value of each 2×2 window. One colour scale for all three maps.",
        concepts=["pooling", "activations", "conv"], needs=twins("conv", "activations", "pooling"))
def draw_relu_pool(ctx: Context):
    import torch

    from scratch.activations import ReLU
    from scratch.pooling import MaxPool2d
    from torch_ref.activations import ReLU as TorchReLU
    from torch_ref.pooling import MaxPool2d as TorchMaxPool2d

    image = _square_image()
    ours, _ = _conv_twins(image, EDGE_KERNELS["vertical"][None])
    feature = ours[None]                                                # (1, 1, 10, 10)
    relu = ReLU()(feature)
    pooled = MaxPool2d(2)(relu)
    pooled_t = TorchMaxPool2d(2)(TorchReLU()(torch.tensor(feature)))
    maps = [(image, "input (12×12):\na bright square on a dark ground", "gray", (0, 1)),
            (feature[0, 0], "feature map: conv with\nthe vertical kernel (10×10)", None, None),
            (relu[0, 0], "after ReLU (10×10)\nnegatives become 0", None, None),
            (pooled[0, 0], f"after MaxPool2d(2) (5×5)\nmax |scratch − torch| = {_diff(pooled, pooled_t)}",
             None, None)]
    limit = np.max(np.abs(feature))
    fig, axes = plt.subplots(1, 4, figsize=(16, 4.9), layout="constrained")
    for ax, (values, label, cmap, _lims) in zip(axes, maps, strict=True):
        if cmap == "gray":
            ax.imshow(values, cmap="gray", vmin=0, vmax=1)
        else:
            im = ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit)
            _annotate(ax, values, size=8 if values.shape[0] > 6 else 11, threshold=limit)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("column")
        ax.set_ylabel("row")
    fig.colorbar(im, ax=axes[1:].tolist(), label="value (shared scale)", shrink=0.85)
    fig.suptitle("conv → ReLU → max pool: where the edge is, how strongly, at a quarter of the size",
                 fontsize=12, weight="bold")
    return fig


@figure("flatten", "Flatten: from feature maps to a vector",
        "Flatten(start_dim=1) turns a (1, 2, 3, 3) stack of feature maps into a (1, 18) vector in "
        "row-major order: channel by channel, row by row. The number in each cell is its position "
        "in the vector; the values are unchanged.",
        concepts=["flatten"], needs=twins("flatten"))
def draw_flatten(ctx: Context):
    import torch

    from scratch.flatten import Flatten
    from torch_ref.flatten import Flatten as TorchFlatten

    x = (np.arange(18, dtype=np.float64) * 0.5 - 4).reshape(1, 2, 3, 3)
    flat = Flatten()(x)                                                 # (1, 18)
    flat_t = TorchFlatten()(torch.tensor(x))
    index = np.arange(18).reshape(2, 3, 3)
    cmap = plt.get_cmap("viridis", 18)
    fig = plt.figure(figsize=(13, 3.6))
    grid = fig.add_gridspec(2, 3, width_ratios=[1, 1, 4.2], height_ratios=[1, 0.08])
    for c in range(2):
        ax = fig.add_subplot(grid[0, c])
        ax.imshow(index[c], cmap=cmap, vmin=0, vmax=17)
        for (i, j), v in np.ndenumerate(x[0, c]):
            ax.text(j, i, f"{v:g}\n#{index[c, i, j]}", ha="center", va="center", fontsize=9,
                    color="white" if index[c, i, j] < 9 else "black")
        ax.set_title(f"channel {c} (3×3)")
        ax.set_xlabel("column")
        ax.set_ylabel("row")
        ax.set_xticks(range(3))
        ax.set_yticks(range(3))
    ax = fig.add_subplot(grid[0, 2])
    ax.imshow(np.arange(18)[None], cmap=cmap, vmin=0, vmax=17, aspect="auto")
    ax.set_box_aspect(1 / 7)
    for j, v in enumerate(flat[0]):
        ax.text(j, 0, f"{v:g}\n#{j}", ha="center", va="center", fontsize=9,
                color="white" if j < 9 else "black")
    ax.set_yticks([])
    ax.set_xticks(range(18))
    ax.set_xlabel("position in the flattened vector (c·H·W + h·W + w)")
    ax.set_title(f"Flatten()(x): shape {tuple(flat.shape)}; max |scratch − torch| = {_diff(flat, flat_t)}")
    fig.suptitle("Flatten: (N, C, H, W) = (1, 2, 3, 3) → (N, C·H·W) = (1, 18); "
                 "cell text: value, then #position", fontsize=12, weight="bold")
    fig.tight_layout()
    return fig


# -- the neuron ------------------------------------------------------------------------------
LAPTOP_CUSTOMERS = [("High-end seeker", 0.8, 0.9), ("Budget buyer", 0.3, 0.5),
                    ("Expensive low-spec", 0.9, 0.3)]


@figure("neuron", "A neuron and its synapses: the laptop example",
        "The tutorials' laptop-purchase neuron: inputs price and performance, weights −0.5 and "
        "1.2 (the synapses; green excites, red inhibits, width is |w|), bias 0.3, sigmoid. On the "
        "right the three customers as both twins compute them.",
        concepts=["neuron"], needs=twins("neuron"), key=True)
def draw_neuron(ctx: Context):
    import torch

    from scratch.neuron import Neuron
    from torch_ref.neuron import Neuron as TorchNeuron

    weights, bias = np.array([[-0.5, 1.2]]), np.array([0.3])
    neuron = Neuron(2, "sigmoid").double()
    neuron.load_state_dict({"weight": weights, "bias": bias})
    twin = TorchNeuron(2, "sigmoid").double()
    twin.load_state_dict({"weight": torch.tensor(weights), "bias": torch.tensor(bias)})
    x = np.array([[price, perf] for _, price, perf in LAPTOP_CUSTOMERS])
    prob = neuron(x)[:, 0]
    with torch.no_grad():
        prob_t = twin(torch.tensor(x))[:, 0].numpy()
    linear = Neuron(2, "linear").double()
    linear.load_state_dict({"weight": weights, "bias": bias})
    z = linear(x)[:, 0]

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [1.15, 1]})
    out_y = 1.5
    for i, (name, w) in enumerate(zip(["price\n(0–1)", "performance\n(0–1)"], weights[0], strict=True)):
        y = 2.4 - 1.8 * i
        colour = "tab:green" if w > 0 else "tab:red"
        ax.annotate("", xy=(2.55, out_y + 0.15 * (0.5 - i)), xytext=(0.45, y),
                    arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 4 * abs(w) + 0.5,
                                "alpha": 0.75, "mutation_scale": 20})
        ax.add_patch(plt.Circle((0, y), 0.5, facecolor="lightblue", edgecolor="black", zorder=3))
        ax.text(0, y, name, ha="center", va="center", fontsize=8.5, zorder=4)
        ax.text(1.45, (y + out_y) / 2 + 0.22, f"w{i + 1} = {w:+.1f}", ha="center", fontsize=10,
                bbox={"boxstyle": "round", "facecolor": colour, "alpha": 0.25})
    ax.add_patch(plt.Circle((3.0, out_y), 0.5, facecolor="orange", edgecolor="black", zorder=3))
    ax.text(3.0, out_y, f"Σ + b\nb = {bias[0]:+.1f}", ha="center", va="center", fontsize=9, zorder=4)
    ax.annotate("", xy=(4.25, out_y), xytext=(3.5, out_y),
                arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5})
    ax.text(4.3, out_y, "σ(z)\nP(buy)", ha="left", va="center", fontsize=10,
            bbox={"boxstyle": "round", "facecolor": "lightyellow"})
    ax.text(2.4, -0.35, "z = w1·price + w2·performance + b        a = σ(z)", ha="center", fontsize=10)
    ax.set_xlim(-0.6, 5.2)
    ax.set_ylim(-0.6, 3.0)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("Neuron(n_inputs=2, activation='sigmoid')")

    pos = np.arange(len(LAPTOP_CUSTOMERS))
    bars = bx.bar(pos, prob, color=["tab:green" if p > 0.5 else "tab:red" for p in prob], alpha=0.7,
                  label="P(buy), scratch")
    bx.plot(pos, prob_t, **{**TORCH, "markersize": 10, "label": "P(buy), torch"})
    for bar, zi, p in zip(bars, z, prob, strict=True):
        bx.text(bar.get_x() + bar.get_width() / 2, 0.25, f"z = {zi:.2f}\nσ(z) = {p:.1%}",
                ha="center", fontsize=10, color="white", weight="bold")
    # What the tutorial printed for the same three customers (see scratch/neuron.py's docstring).
    bx.plot(pos, [0.727, 0.646, 0.478], "D", mfc="none", mec="dimgray", ms=9,
            label="the tutorial's printed output")
    bx.axhline(0.5, color="gray", ls="--", lw=1, label="decision threshold 0.5")
    bx.set_xticks(pos, [f"{n}\nprice {p}, perf {q}" for n, p, q in LAPTOP_CUSTOMERS], fontsize=8.5)
    bx.set_ylim(0, 1)
    bx.set_ylabel("purchase probability σ(z)")
    bx.set_title(f"three customers (max |scratch − torch| = {_diff(prob, prob_t)})")
    bx.legend(loc="upper right", fontsize=8, framealpha=0.95)
    fig.suptitle("A neuron: weighted inputs (synapses), a bias, an activation", fontsize=13, weight="bold")
    fig.tight_layout()
    return fig


@figure("perceptron", "The perceptron learning rule on AND, OR and XOR",
        "Rosenblatt's rule, one sample at a time, from zero weights (η = 0.1): the decision boundary "
        "after each pass over the four inputs (light to dark), the scratch twin's final boundary "
        "(solid) and the torch twin's (dashed). AND and OR converge; no line separates XOR.",
        concepts=["perceptron"], needs=twins("perceptron"))
def draw_perceptron(ctx: Context):
    import torch

    from scratch.perceptron import Perceptron
    from torch_ref.perceptron import Perceptron as TorchPerceptron

    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    gates = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "XOR": [0, 1, 1, 0]}
    g1, g2 = np.meshgrid(np.linspace(-0.5, 1.5, 201), np.linspace(-0.5, 1.5, 201))
    grid = np.stack([g1.ravel(), g2.ravel()], axis=1)
    fig, axes = plt.subplots(1, 3, figsize=(15, 5), layout="constrained")
    for ax, (gate, target) in zip(axes, gates.items(), strict=True):
        model = Perceptron(2, lr=0.1).double()
        model.load_state_dict({"weight": np.zeros((1, 2)), "bias": np.zeros(1)})
        twin = TorchPerceptron(2, lr=0.1, dtype=torch.float64)
        twin.load_state_dict({"weight": torch.zeros(1, 2, dtype=torch.float64),
                              "bias": torch.zeros(1, dtype=torch.float64)})
        history = model.fit(x, target, epochs=20)
        history_t = twin.fit(torch.from_numpy(x), target, epochs=20)
        shades = plt.get_cmap("Greys")(np.linspace(0.25, 0.7, len(history)))
        probe = Perceptron(2).double()
        for record, shade in zip(history, shades, strict=True):
            probe.load_state_dict({"weight": record["weight"], "bias": record["bias"]})
            if np.ptp(probe(grid)) > 0:            # all-0 or all-1 predictions draw no line
                ax.contour(g1, g2, probe(grid).reshape(g1.shape), levels=[0.5], colors=[shade],
                           linewidths=1)
        out = model(grid).reshape(g1.shape)
        with torch.no_grad():
            out_t = twin(torch.from_numpy(grid)).numpy().reshape(g1.shape)
        ax.contourf(g1, g2, out, levels=[-0.5, 0.5, 1.5], colors=["tab:blue", "tab:red"], alpha=0.12)
        if np.ptp(out) > 0:
            ax.contour(g1, g2, out, levels=[0.5], colors="black", linewidths=2.4)
        if np.ptp(out_t) > 0:
            ax.contour(g1, g2, out_t, levels=[0.5], colors="gold", linewidths=1.5, linestyles="--")
        target = np.array(target)
        ax.scatter(*x[target == 0].T, s=160, c="tab:blue", edgecolors="black", label="target 0", zorder=3)
        ax.scatter(*x[target == 1].T, s=160, c="tab:red", marker="s", edgecolors="black",
                   label="target 1", zorder=3)
        converged = history[-1]["mistakes"] == 0
        same = all(np.array_equal(a["weight"], b["weight"].numpy()) for a, b in zip(history, history_t,
                                                                                     strict=True))
        ax.set_title(f"{gate}: {'converged' if converged else 'still wrong'} after {len(history)} passes "
                     f"({history[-1]['mistakes']} mistakes in the last)\nthe twins' weights are "
                     f"{'identical' if same else 'different'} after every pass", fontsize=10)
        ax.set_xlabel("x₁")
        ax.set_ylabel("x₂")
        ax.set_xlim(-0.5, 1.5)
        ax.set_ylim(-0.5, 1.5)
        ax.set_aspect("equal")
    handles, labels = axes[0].get_legend_handles_labels()
    handles += [plt.Line2D([], [], color="gray", lw=1), plt.Line2D([], [], color="black", lw=2.4),
                plt.Line2D([], [], color="gold", lw=1.5, ls="--")]
    labels += ["boundary after each pass", "final boundary, scratch", "final boundary, torch"]
    fig.legend(handles, labels, loc="outside lower center", ncol=5, fontsize=10)
    fig.suptitle("The perceptron: w ← w + η (t − ŷ) x,  b ← b + η (t − ŷ)", fontsize=13, weight="bold")
    return fig


# -- gradient descent ------------------------------------------------------------------------
def _recorded(fn, path: list):
    """fn, noting every point it is evaluated at: the optimiser's path, as the optimiser saw it."""
    def wrapped(w):
        path.append(np.array(w.detach().numpy() if hasattr(w, "detach") else w, dtype=np.float64))
        return fn(w)
    return wrapped


@figure("gd_1d", "Gradient descent versus brute force in one dimension",
        "The tutorial's 1-D least-squares fit ŷ = w·x. Left: the loss landscape evaluated on the "
        "brute-force grid of 1000 values, and the gradient-descent path (η = 0.05 from w = −4) on "
        "it, scratch and torch. Right: the loss each method has reached after a given number of "
        "loss evaluations.",
        concepts=["gradient_descent"], needs=twins("gradient_descent"), key=True)
def draw_gd_1d(ctx: Context):
    import torch

    from scratch import gradient_descent as S
    from torch_ref import gradient_descent as T

    x, y = S.line_data(np.random.default_rng(0))
    grid = S.line_grid()
    w0, lr, steps = -4.0, 0.05, 200
    brute = S.brute_force(lambda w: S.line_loss(w, x, y), grid)
    path: list = []
    gd = S.gradient_descent(lambda w: S.line_loss(w, x, y), _recorded(lambda w: S.line_grad(w, x, y), path),
                            w0, lr, steps)
    path = np.array([*path, gd.weights])                                # w₀ … w₂₀₀
    xt, yt = torch.tensor(x), torch.tensor(y)
    path_t: list = []
    gd_t = T.gradient_descent(_recorded(lambda w: T.line_loss(w, xt, yt), path_t), w0, lr, steps)
    path_t = np.array(path_t)                                           # w₀ … w₂₀₀ (one per loss call)
    w_star = S.line_closed_form(x, y)

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(13, 5))
    ax.plot(grid, brute.history, color="lightgray", lw=4, label=f"brute-force grid ({len(grid)} values)")
    losses = S.line_loss(path, x, y)
    ax.plot(path, losses, "-o", color="tab:blue", ms=3.5, lw=1, label=f"gradient descent, scratch (η = {lr})")
    ax.plot(path_t[::4], gd_t.history[::4], **{**TORCH, "label": "gradient descent, torch (every 4th step)"})
    ax.plot([path[0]], [losses[0]], "*", color="tab:red", ms=15, label=f"start w₀ = {w0}", zorder=5)
    ax.axvline(brute.weights, color="tab:green", ls="--", lw=1.2,
               label=f"grid argmin w = {float(brute.weights):.4f}")
    ax.axvline(w_star, color="black", ls=":", lw=1.2, label=f"closed form w* = {w_star:.4f}")
    ax.set_xlabel("w")
    ax.set_ylabel("L(w) = mean (w·x − y)²")
    ax.set_title(f"loss landscape and path; max |scratch − torch| on w: {_diff(path, path_t)}")
    ax.legend(fontsize=8, loc="upper center")
    ax.grid(alpha=0.3)

    # Below ~1e-14 the excess loss is rounding noise around L(w*) ≈ 0.04: draw it at that floor.
    floor = 1e-14
    best_so_far = np.minimum.accumulate(brute.history)
    bx.plot(np.arange(1, len(best_so_far) + 1), np.maximum(best_so_far - S.line_loss(w_star, x, y), floor),
            color="tab:green", lw=2, label="brute force: best so far (grid scanned left to right)")
    bx.plot(np.arange(1, steps + 2), np.maximum(gd.history - S.line_loss(w_star, x, y), floor),
            color="tab:blue", lw=2, label="gradient descent (one loss + one gradient per step)")
    bx.axhline(floor, color="gray", ls=":", lw=1, label="float64 rounding floor")
    bx.set_yscale("log")
    bx.set_xscale("log")
    bx.set_xlabel("loss evaluations used")
    bx.set_ylabel("L − L(w*)  (excess loss, log scale)")
    bx.set_title(f"what each evaluation buys: grid {brute.evaluations} evaluations, "
                 f"GD {gd.evaluations}", fontsize=10)
    bx.legend(fontsize=8, loc="lower left")
    bx.grid(alpha=0.3, which="both")
    fig.suptitle("Gradient descent w ← w − η dL/dw versus a brute-force grid", fontsize=13, weight="bold")
    fig.tight_layout()
    return fig


def _sigmoid_problem():
    """Tutorial (b): the random guesses and the starting point, from one seeded generator."""
    from scratch import gradient_descent as S

    generator = np.random.default_rng(42)
    candidates = S.random_candidates(generator)
    w0 = 0.1 * generator.standard_normal(2)
    return candidates, w0


@figure("gd_2d", "Gradient descent through a 2-weight space",
        "The tutorial's two-weight sigmoid problem: the loss surface as contours, 10,000 random "
        "guesses (grey; the best one starred), and gradient-descent paths from the same start: the "
        "tutorial's η = 0.5 and the curvature step η = 1/λ_max, scratch (lines) and torch (crosses).",
        concepts=["gradient_descent"], needs=twins("gradient_descent"))
def draw_gd_2d(ctx: Context):
    import torch

    from scratch import gradient_descent as S
    from torch_ref import gradient_descent as T

    candidates, w0 = _sigmoid_problem()
    brute = S.brute_force(S.sigmoid_mse_loss, candidates)
    lr_curv, lr_limit = S.curvature_learning_rate(S.sigmoid_mse_hessian(w0))
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(13.5, 5.6), gridspec_kw={"width_ratios": [1.2, 1]})
    w1, w2 = np.meshgrid(np.linspace(-8, 8, 241), np.linspace(-8, 8, 241))
    surface = S.sigmoid_mse_loss(np.stack([w1, w2], axis=-1).reshape(-1, 2)).reshape(w1.shape)
    contours = ax.contourf(w1, w2, surface, levels=20, cmap="viridis")
    fig.colorbar(contours, ax=ax, label="L(w)")
    ax.scatter(candidates[::5, 0], candidates[::5, 1], s=2, color="white", alpha=0.35,
               label="random guesses (every 5th of 10,000)")
    ax.plot(*brute.weights, "*", color="gold", ms=16, mec="black",
            label=f"best guess, L = {brute.loss:.3f}")
    runs = [(0.5, "tab:red", "tutorial η = 0.5"), (lr_curv, "tab:orange", f"η = 1/λ_max = {lr_curv:.1f}")]
    results = {}
    zoom = ax.inset_axes((0.6, 0.6, 0.38, 0.38))      # the first steps, magnified
    for lr, colour, label in runs:
        path: list = []
        gd = S.gradient_descent(S.sigmoid_mse_loss, _recorded(S.sigmoid_mse_grad, path), w0, lr, 100)
        path = np.array([*path, gd.weights])
        path_t: list = []
        T.gradient_descent(_recorded(T.sigmoid_mse_loss, path_t), torch.tensor(w0), lr, 100)
        path_t = np.array(path_t)
        slow = lr == 0.5                 # short steps: draw on top, every iterate marked
        ax.plot(path[:, 0], path[:, 1], "-o" if slow else "-", color=colour, lw=1.5 if slow else 2.5,
                ms=2.5, zorder=4 if slow else 3,
                label=f"{label}: L = {gd.loss:.3f} (max |Δw| to torch {_diff(path, path_t)})")
        ax.plot(path_t[::10, 0], path_t[::10, 1], **{**TORCH, "label": None, "zorder": 5})
        zoom.plot(path[:, 0], path[:, 1], "-o", color=colour, lw=1.2, ms=2.5)
        results[label] = gd
        if slow:
            low, high = path.min(axis=0) - 0.15, path.max(axis=0) + 0.15
    zoom.plot(*w0, "o", color="tab:red", ms=7, mec="white")
    zoom.set_xlim(low[0], high[0])
    zoom.set_ylim(low[1], high[1])
    zoom.text(0.97, 0.04, "η = 0.5 path, magnified", transform=zoom.transAxes, ha="right", fontsize=7.5)
    zoom.tick_params(labelsize=7)
    zoom.set_facecolor("whitesmoke")
    ax.plot([], [], **{**TORCH, "label": "torch, every 10th step"})
    ax.plot(*w0, "o", color="tab:red", ms=9, mec="white", label="start w₀", zorder=6)
    ax.set_xlim(-8, 8)
    ax.set_ylim(-8, 8)
    ax.set_xlabel("weight 1")
    ax.set_ylabel("weight 2")
    ax.set_title("paths through weight space (100 steps each)")
    ax.legend(fontsize=7.5, loc="lower left", framealpha=0.9)

    bx.plot(np.arange(1, len(brute.history) + 1), np.minimum.accumulate(brute.history),
            color="tab:green", lw=2, label="brute force: best guess so far")
    for (label, gd), (_, colour, _) in zip(results.items(), runs, strict=True):
        bx.plot(np.arange(1, gd.evaluations + 1), gd.history, color=colour, lw=2, label=label)
    bx.set_xscale("log")
    bx.set_xlabel("loss evaluations used")
    bx.set_ylabel("loss reached")
    bx.set_title(f"evaluations versus loss (stability limit 2/λ_max = {lr_limit:.0f})", fontsize=10)
    bx.grid(alpha=0.3, which="both")
    bx.legend(fontsize=8)
    fig.suptitle("L(w) = mean (σ(x·w) − y)² on three points: guessing versus following the gradient",
                 fontsize=12, weight="bold")
    fig.tight_layout()
    return fig


# What tutorial 001 wrote on each of its four panels (scratch/gradient_descent.py measures them).
TUTORIAL_VERDICTS = {0.01: "TOO SLOW", 0.1: "GOOD!", 0.5: "GOOD!", 2.0: "UNSTABLE!"}


@figure("learning_rates", "The learning rate",
        "The tutorial's four learning rates on the two-weight sigmoid problem, plus two past the "
        "stability limit 2/λ_max; scratch (line) and torch (crosses) from the same start. Each panel "
        "says whether the loss fell at every step.",
        concepts=["gradient_descent"], needs=twins("gradient_descent"), key=True)
def draw_learning_rates(ctx: Context):
    import torch

    from scratch import gradient_descent as S
    from torch_ref import gradient_descent as T

    _, w0 = _sigmoid_problem()
    ours = S.compare_learning_rates(w0)
    theirs = T.compare_learning_rates(torch.tensor(w0))
    _, limit = S.curvature_learning_rate(S.sigmoid_mse_hessian(w0))
    top = max(float(np.max(r.history)) for r in ours.values())
    fig, axes = plt.subplots(2, 3, figsize=(13, 8), sharey=True)
    for ax, (lr, result) in zip(axes.flat, ours.items(), strict=True):
        steps = np.arange(len(result.history))
        ax.plot(steps, result.history, lw=2, **SCRATCH)
        ax.plot(steps[::3], theirs[lr].history[::3], **TORCH)
        rises = np.nonzero(np.diff(result.history) > 0)[0]
        verdict = ("loss falls at every step" if rises.size == 0
                   else f"loss rises at step {rises[0] + 1} ({rises.size} of {len(steps) - 1} steps)")
        where = "above" if lr > limit else "below"
        ax.set_title(f"η = {lr:g}, {where} the limit 2/λ_max ≈ {limit:.0f}\n{verdict}\n"
                     f"final L = {result.loss:.4f}; max |scratch − torch| = "
                     f"{_diff(result.history, theirs[lr].history)}", fontsize=9.5)
        if lr in TUTORIAL_VERDICTS:
            ax.text(0.03, 0.05, f"the tutorial's label: {TUTORIAL_VERDICTS[lr]}", transform=ax.transAxes,
                    fontsize=8.5, color="dimgray")
        ax.set_xlabel("step")
        ax.set_ylabel("loss L(w)")
        ax.set_ylim(0, top * 1.05)
        ax.grid(alpha=0.3)
    fig.legend(*axes.flat[0].get_legend_handles_labels(), loc="lower center", ncol=2, fontsize=10)
    fig.suptitle("The same problem, the same start, six step sizes (50 steps each)", fontsize=13,
                 weight="bold")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


# -- small networks --------------------------------------------------------------------------
@contextlib.contextmanager
def _one_thread():
    """Tiny torch ops on one thread: on a 2-core machine, two threads fight over each 8×400 matmul."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _train_twins(name: str, generator_seed: int = 0):
    """Train the scratch and torch twins of a small network from the same initial weights.

    Full-batch gradient descent with each twin's own training loop (scratch/training.py and
    torch_ref/training.py), as the tutorials do. Returns (scratch model, torch model, scratch
    losses, torch losses, x, y, description).
    """
    import torch

    from scratch import losses as SL
    from scratch import mlp as S
    from scratch import optim as SO
    from scratch import training as ST
    from torch_ref import mlp as T
    from torch_ref import training as TT

    if name == "xor":
        x, y = S.xor_data()
        model = S.XORNet(dtype=np.float64, generator=np.random.default_rng(generator_seed))
        twin = T.XORNet()
        loss_fn, twin_loss_fn, lr, epochs = SL.MSELoss(), torch.nn.MSELoss(), 0.5, 2000
        about = f"XORNet 2-4-1, MSELoss\nSGD η = {lr}, {epochs} full-batch steps"
    else:
        x, y = S.two_moons(np.random.default_rng(1))
        model = S.MoonsNet(dtype=np.float64, generator=np.random.default_rng(generator_seed))
        twin = T.MoonsNet()
        loss_fn, twin_loss_fn, lr, epochs = SL.BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss(), 0.1, 4000
        about = f"MoonsNet 2-8-1, BCEWithLogitsLoss\nSGD η = {lr}, {epochs} full-batch steps"
    twin = twin.double()
    twin.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})
    optimizer = SO.SGD(model.parameters(), lr=lr)
    twin_optimizer = torch.optim.SGD(twin.parameters(), lr=lr)
    xt, yt = torch.tensor(x), torch.tensor(y)
    ours, theirs = [], []
    with _one_thread():
        for _ in range(epochs):
            ours += ST.train_epoch(model, loss_fn, optimizer, ST.minibatches(x, y, len(x)))
            theirs += TT.train_epoch(twin, twin_loss_fn, twin_optimizer, [(xt, yt)])
    return model, twin, np.array(ours), np.array(theirs), x, y, about


@figure("decision_boundaries", "Decision boundaries of the twins: XOR and two moons",
        "Two small networks trained twice from the same initial weights, by the scratch twin and "
        "by the torch twin. Left and middle: each twin's predicted probability of class 1, with "
        "both 0.5 boundaries drawn on each (scratch solid, torch dashed: they coincide). Right: "
        "the two loss curves, overlaid.",
        concepts=["mlp", "training"], needs=twins("mlp", "training", "optim", "losses"), key=True)
def draw_decision_boundaries(ctx: Context):
    import torch

    fig, axes = plt.subplots(2, 3, figsize=(15, 10), gridspec_kw={"width_ratios": [1, 1, 1.05]},
                             layout="constrained")
    for row, name in enumerate(("xor", "moons")):
        model, twin, ours, theirs, x, y, about = _train_twins(name)
        low, high = x.min(axis=0) - 0.35, x.max(axis=0) + 0.35
        g1, g2 = np.meshgrid(np.linspace(low[0], high[0], 300), np.linspace(low[1], high[1], 300))
        grid = np.stack([g1.ravel(), g2.ravel()], axis=1)
        model.eval()
        twin.eval()
        out = model(grid)
        with torch.no_grad():
            out_t = twin(torch.tensor(grid)).numpy()
        if name == "moons":                     # MoonsNet outputs a logit: σ from the twins' own Sigmoid
            from scratch.activations import Sigmoid
            prob, prob_t = Sigmoid()(out), torch.sigmoid(torch.tensor(out_t)).numpy()
        else:
            prob, prob_t = out, out_t
        prob, prob_t = prob.reshape(g1.shape), prob_t.reshape(g1.shape)
        for col, (field_, who) in enumerate(((prob, "scratch (NumPy)"), (prob_t, "torch"))):
            ax = axes[row, col]
            im = ax.contourf(g1, g2, field_, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.45)
            ax.contour(g1, g2, prob, levels=[0.5], colors="black", linewidths=2.2)
            ax.contour(g1, g2, prob_t, levels=[0.5], colors="gold", linewidths=1.4, linestyles="--")
            labels = y[:, 0]
            size = 70 if name == "xor" else 14
            ax.scatter(x[labels == 0, 0], x[labels == 0, 1], s=size, c="tab:blue", edgecolors="black",
                       linewidths=0.5, label="class 0 (data)")
            ax.scatter(x[labels == 1, 0], x[labels == 1, 1], s=size, c="tab:red", marker="s",
                       edgecolors="black", linewidths=0.5, label="class 1 (data)")
            ax.set_title(f"{'XOR' if name == 'xor' else 'two moons'}: P(class 1) from the {who} twin\n"
                         f"max |p_scratch − p_torch| = {_diff(prob, prob_t)}", fontsize=10)
            ax.set_xlabel("x₁")
            ax.set_ylabel("x₂")
        fig.colorbar(im, ax=axes[row, 1], label="P(class 1)", shrink=0.9)
        ax = axes[row, 2]
        steps = np.arange(1, len(ours) + 1)
        ax.plot(steps, ours, lw=2, **SCRATCH)
        every = max(len(ours) // 25, 1)
        ax.plot(steps[::every], theirs[::every], **TORCH)
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel("training loss (log scale)")
        ax.set_title(f"{about}\nmax |loss_scratch − loss_torch| = {_diff(ours, theirs)}", fontsize=9)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    handles += [plt.Line2D([], [], color="black", lw=2.2), plt.Line2D([], [], color="gold", lw=1.4, ls="--")]
    labels += ["0.5 boundary, scratch", "0.5 boundary, torch"]
    fig.legend(handles, labels, loc="outside lower center", ncol=4, fontsize=10)
    fig.suptitle("Small networks, trained twice from the same weights: the twins learn the same boundary",
                 fontsize=13, weight="bold")
    return fig


# -- the MNIST CNN (train.py) ---------------------------------------------------------------
# The short lockstep run made when no finished run is found: one epoch on the first 3,840
# training images (30 steps), tested on 2,000 images. About half a minute on two cores.
SHORT_RUN = ["--impl", "both", "--epochs", "1", "--limit-train", "3840", "--limit-test", "2000"]


def _finished_run(folder: Path) -> bool:
    """A train.py --impl both run that reached its end: metrics with the lockstep summary."""
    try:
        metrics = json.loads((folder / "metrics.json").read_text())
    except (OSError, ValueError):
        return False
    return (metrics.get("args", {}).get("impl") == "both" and "lockstep" in metrics
            and (folder / "checkpoint.pt").exists())


def _cnn_run(ctx: Context) -> dict:
    """The lockstep run the CNN figures draw: ``--run``, else the newest finished run under runs/,
    else a short one made now with train.py's own main(). Loaded once for all CNN figures."""
    if "cnn" in ctx.cache:
        return ctx.cache["cnn"]
    import torch

    import train
    from run import recipe
    from scratch.cnn import Net as ScratchNet
    from torch_ref.cnn import Net as TorchNet

    folder = ctx.run
    if folder is None:
        runs = sorted((p for p in (ROOT / "runs").glob("*") if _finished_run(p)),
                      key=lambda p: (p / "metrics.json").stat().st_mtime)
        folder = runs[-1] if runs else None
    if folder is None or not _finished_run(folder):
        folder = Path(ctx.scratch_dir) / "lockstep"
        print(f"      no finished `train.py --impl both` run in runs/: a short one into {folder} "
              f"(train.py {' '.join(SHORT_RUN)})")
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), \
                contextlib.redirect_stderr(sink):
            status = train.main([*SHORT_RUN, "--data-dir", str(ROOT / "data"), "--out", str(folder)])
        if status != 0 or not _finished_run(folder):
            raise RuntimeError(f"train.py {' '.join(SHORT_RUN)} failed with status {status}")
    else:
        print(f"      using the lockstep run in {folder}")
    metrics = json.loads((folder / "metrics.json").read_text())
    checkpoint = torch.load(folder / "checkpoint.pt", map_location="cpu", weights_only=True)
    dtype = metrics["args"]["dtype"]
    twin = TorchNet().to(recipe.TORCH_DTYPES[dtype])
    twin.load_state_dict(checkpoint["model"])
    twin.eval()
    model = ScratchNet().to(dtype)
    model.load_state_dict({k: v.numpy() for k, v in checkpoint["scratch"]["model"].items()})
    model.eval()
    data = recipe.load_data(metrics["args"].get("dataset", "mnist"), ROOT / "data", dtype, limit_train=1)
    ctx.cache["cnn"] = {"folder": folder, "metrics": metrics, "torch": twin, "scratch": model,
                        "data": data, "dtype": dtype}
    return ctx.cache["cnn"]


def _run_label(run: dict) -> str:
    args = run["metrics"]["args"]
    limit = f", first {args['limit_train']} training images" if args.get("limit_train") else ""
    return (f"{args['optimizer']}, batch {args['batch_size']}, {args['epochs']} epoch(s){limit}, "
            f"{args['dtype']}")


CNN_NEEDS = (*twins("cnn", "conv", "pooling", "flatten", "linear", "activations", "losses", "cross_entropy",
                    "optim", "lr_scheduler"), "train.py")


@figure("training_curves", "Training the MNIST CNN twice, in lockstep",
        "`train.py --impl both`: the scratch and the torch CNN start from the same weights and take "
        "the same batches. Left: both loss curves, overlaid; middle: both running accuracies; right: "
        "how far apart the two losses are at each step, relative to the loss.",
        concepts=["cnn", "training"], needs=CNN_NEEDS, key=True)
def draw_training_curves(ctx: Context):
    run = _cnn_run(ctx)
    steps = run["metrics"]["steps"]

    def column(key: str) -> np.ndarray:
        """metrics.json keeps steps as columns {key: [...]}; a list of rows works too."""
        if isinstance(steps, dict):
            return np.array(steps[key], dtype=np.float64)
        return np.array([row[key] for row in steps], dtype=np.float64)

    step = column("step")
    fig, (ax, bx, cx) = plt.subplots(1, 3, figsize=(16, 4.8), layout="constrained")
    every = max(len(step) // 40, 1)
    smoothing = run["metrics"]["args"].get("label_smoothing", 0.0)
    loss_label = f"training loss (cross-entropy{f', label smoothing {smoothing:g}' if smoothing else ''})"
    for axis, key, label in ((ax, "loss", loss_label), (bx, "acc", "batch accuracy")):
        ours, theirs = column(f"{key}_scratch"), column(f"{key}_torch")
        axis.plot(step, ours, lw=1.5, **SCRATCH)
        axis.plot(step[::every], theirs[::every], **{**TORCH, "markersize": 5})
        axis.set_xlabel("training step")
        axis.set_ylabel(label)
        axis.grid(alpha=0.3, which="both")
        axis.legend(fontsize=9)
    ax.set_yscale("log")
    ax.set_title("loss of each twin on its batch (log scale)")
    bx.set_title("accuracy of each twin on its batch")
    rel = column("rel_diff")
    floor = 1e-17                       # where the steps with identical losses are drawn
    cx.plot(step[rel > 0], rel[rel > 0], ".", ms=4, color="tab:purple",
            label="|loss_scratch − loss_torch| / loss")
    cx.plot(step[rel == 0], np.full(int((rel == 0).sum()), floor), "v", ms=4, color="tab:green",
            label="identical losses (difference 0)")
    epsilon = np.finfo(np.float32 if run["dtype"] == "float32" else np.float64).eps
    cx.axhline(epsilon, color="gray", ls=":", label=f"{run['dtype']} machine epsilon ({epsilon:.0e})")
    cx.set_yscale("log")
    cx.set_ylim(floor / 3, max(1e-5, rel.max() * 10))
    cx.set_xlabel("training step")
    cx.set_ylabel("relative loss difference (log scale)")
    lockstep = run["metrics"]["lockstep"]
    cx.set_title(f"twins apart by at most {lockstep['max_rel_loss_diff']:.1e}; test predictions differ "
                 f"on {lockstep['test_disagreements']}", fontsize=10)
    cx.grid(alpha=0.3, which="both")
    cx.legend(fontsize=8.5, loc="lower right")
    last = run["metrics"]["epochs"][-1]["twins"]
    fig.suptitle(f"train.py --impl both ({_run_label(run)}): test accuracy torch "
                 f"{100 * last['torch']['test_acc']:.2f}%, scratch {100 * last['scratch']['test_acc']:.2f}%",
                 fontsize=12, weight="bold")
    return fig


def _test_digit(data) -> int:
    """The first test image of a 7: a digit with both a horizontal and a slanted stroke."""
    return int(np.nonzero(data.y_test == 7)[0][0])


@figure("cnn_filters", "What the CNN's first layer learned",
        "The 16 learned 5×5 filters of conv1 (top rows; red positive, blue negative weights) and "
        "the feature map each one makes of a test digit (bottom rows: conv1 output after ReLU), "
        "computed by the scratch twin from its trained weights; the title says how far the torch "
        "twin's filters and maps are from them after the same training.",
        concepts=["cnn", "conv"], needs=CNN_NEEDS)
def draw_cnn_filters(ctx: Context):
    import torch

    from scratch.activations import ReLU

    run = _cnn_run(ctx)
    model, twin, data = run["scratch"], run["torch"], run["data"]
    index = _test_digit(data)
    x = data.x_test[index:index + 1]                                    # (1, 1, 28, 28)
    maps = ReLU()(model.conv1(x))[0]                                    # (16, 24, 24)
    with torch.no_grad():
        maps_t = torch.relu(twin.conv1(torch.from_numpy(x)))[0]
    filters = model.conv1.weight.data[:, 0]                             # (16, 5, 5)
    filters_t = twin.conv1.weight.detach()[:, 0]
    n = filters.shape[0]
    cols = 8
    rows = 2 * int(np.ceil(n / cols))
    fig = plt.figure(figsize=(15, 8.2), layout="constrained")
    grid = fig.add_gridspec(rows, cols + 2, width_ratios=[2.4] + [1] * cols + [0.12])
    ax = fig.add_subplot(grid[:, 0])
    ax.imshow(data.test_images[index], cmap="gray_r")
    ax.set_title(f"test image #{index}\n(label {data.y_test[index]})")
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    limit = np.abs(filters).max()
    top = maps.max()
    for k in range(n):
        r, c = 2 * (k // cols), k % cols
        fa = fig.add_subplot(grid[r, c + 1])
        fim = fa.imshow(filters[k], cmap="RdBu_r", vmin=-limit, vmax=limit)
        fa.set_title(f"filter {k}", fontsize=9)
        _grid_off(fa)
        ma = fig.add_subplot(grid[r + 1, c + 1])
        mim = ma.imshow(maps[k], cmap="magma", vmin=0, vmax=top)
        ma.set_title(f"map {k}", fontsize=9)
        _grid_off(ma)
    fig.colorbar(fim, cax=fig.add_subplot(grid[0, -1]), label="weight")
    fig.colorbar(mim, cax=fig.add_subplot(grid[1, -1]), label="activation")
    fig.suptitle(f"conv1: 16 learned filters and their ReLU feature maps (24×24) of one test digit\n"
                 f"the twins' trained filters differ by at most {_diff(filters, filters_t)}, their maps by "
                 f"{_diff(maps, maps_t)}  ({_run_label(run)})", fontsize=12, weight="bold")
    return fig


@figure("confusion_matrix", "Confusion matrix of the trained CNN",
        "Rows: the true digit; columns: the digit the trained network predicts, over the test set. "
        "Counts are written in each non-empty cell; the colour scale is logarithmic so that the "
        "rare mistakes show beside the large diagonal. Both twins' predictions are compared.",
        concepts=["cnn"], needs=CNN_NEEDS)
def draw_confusion_matrix(ctx: Context):
    import torch
    from matplotlib.colors import LogNorm

    run = _cnn_run(ctx)
    model, twin, data = run["scratch"], run["torch"], run["data"]
    with torch.no_grad():
        logits_t = torch.cat([twin(torch.from_numpy(data.x_test[i:i + 1000]))
                              for i in range(0, len(data.x_test), 1000)]).numpy()
    logits = np.concatenate([model(data.x_test[i:i + 1000]) for i in range(0, len(data.x_test), 1000)])
    predicted, predicted_t = logits.argmax(1), logits_t.argmax(1)
    k = logits.shape[1]
    counts = np.bincount(data.y_test * k + predicted, minlength=k * k).reshape(k, k)
    fig, ax = plt.subplots(figsize=(8.2, 7), layout="constrained")
    shown = np.where(counts > 0, counts, np.nan)
    im = ax.imshow(shown, cmap="Blues", norm=LogNorm(vmin=1, vmax=counts.max()))
    for (i, j), v in np.ndenumerate(counts):
        if v:
            ax.text(j, i, str(v), ha="center", va="center", fontsize=8.5,
                    color="white" if v > counts.max() ** 0.6 else "black")
    accuracy = np.diag(counts) / counts.sum(axis=1)
    ax.set_xticks(range(k))
    ax.set_yticks(range(k), [f"{d}  ({100 * a:.1f}%)" for d, a in enumerate(accuracy)])
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit  (recall)")
    fig.colorbar(im, ax=ax, label="test images (log scale)", shrink=0.85)
    fig.suptitle(f"The trained CNN's confusion matrix\n({_run_label(run)})", fontsize=12, weight="bold")
    ax.set_title(f"scratch twin on {len(data.y_test)} test images: accuracy "
                 f"{100 * (predicted == data.y_test).mean():.2f}%\n"
                 f"the torch twin's prediction differs on {int((predicted != predicted_t).sum())} images; "
                 f"max |logit difference| {_diff(logits, logits_t)}", fontsize=10)
    return fig


# -- weight initialisation ------------------------------------------------------------------
@figure("init", "Weight initialisation: scratch and torch draw from the same distributions",
        "Histograms of 100,000 weights (a 250×400 Linear weight) drawn by each initialiser, scratch "
        "and torch overlaid, with the bound or standard deviation the formula prescribes. The two "
        "random streams differ, so the parity is in the distribution, not the draws.",
        concepts=["init"], needs=twins("init"))
def draw_init(ctx: Context):
    import torch

    from scratch import init as S
    from torch_ref import init as T

    fan_out, fan_in = 250, 400
    cases = [
        ("xavier_uniform_", {}, "bound", np.sqrt(6 / (fan_in + fan_out))),
        ("xavier_normal_", {}, "std", np.sqrt(2 / (fan_in + fan_out))),
        ("kaiming_uniform_", {"nonlinearity": "relu"}, "bound", np.sqrt(2) * np.sqrt(3 / fan_in)),
        ("kaiming_normal_", {"nonlinearity": "relu"}, "std", np.sqrt(2) / np.sqrt(fan_in)),
        ("default_init_", {}, "bound", 1 / np.sqrt(fan_in)),
    ]
    # The expected spreads above are the docstring's formulas, written once more only to draw
    # the reference lines; the histograms themselves come from the two init modules.
    generator = np.random.default_rng(0)
    torch_generator = torch.Generator().manual_seed(0)
    fig, axes = plt.subplots(2, 3, figsize=(14, 7.5))
    for ax, (name, kwargs, kind, spread) in zip(axes.flat, cases, strict=False):
        ours = np.zeros((fan_out, fan_in))
        getattr(S, name)(ours, **kwargs, generator=generator)
        theirs = torch.empty(fan_out, fan_in, dtype=torch.float64)
        getattr(T, name)(theirs, **kwargs, generator=torch_generator)
        if kind == "std":
            bins = np.linspace(-4 * spread, 4 * spread, 61)
        else:
            bins = np.linspace(-1.2 * spread, 1.2 * spread, 49)
        ax.hist(ours.ravel(), bins=bins, density=True, alpha=0.55, color="tab:blue",
                label=f"scratch (std {ours.std():.4f})")
        ax.hist(theirs.numpy().ravel(), bins=bins, density=True, histtype="step", lw=1.6,
                color="black", label=f"torch (std {theirs.std().item():.4f})")
        if kind == "bound":
            for sign in (-1, 1):
                ax.axvline(sign * spread, color="tab:red", ls="--", lw=1.2,
                           label=f"±bound {spread:.4f}" if sign > 0 else None)
        else:
            for sign in (-1, 1):
                ax.axvline(sign * spread, color="tab:red", ls=":", lw=1.2,
                           label=f"±σ {spread:.4f}" if sign > 0 else None)
        ax.set_title(name + ("(nonlinearity='relu')" if kwargs else ""), fontsize=10)
        ax.set_xlabel("weight value")
        ax.set_ylabel("density")
        ax.set_ylim(0, ax.get_ylim()[1] * 1.45)
        ax.legend(fontsize=7.5, loc="upper center", ncol=2)
    # The last panel quotes the formulas from scratch/init.py's docstring.
    ax = axes.flat[-1]
    ax.axis("off")
    lines = []
    for line in (S.__doc__ or "").splitlines():
        if line.strip().startswith(("xavier_", "kaiming_", "gain", "fan_")):
            line = re.sub(r"\s+\([A-Z][^)]*\d{4}\)", "", line.strip())      # drop the citations
            lines += [part.strip() for part in line.split(";")]
    ax.text(-0.05, 1.0, "the formulas, from scratch/init.py:\n\n" + "\n".join(lines), va="top",
            ha="left", fontsize=8, family="monospace", transform=ax.transAxes)
    fig.suptitle(f"Initialisers on a ({fan_out}, {fan_in}) weight: fan_in = {fan_in}, fan_out = {fan_out}",
                 fontsize=12, weight="bold")
    fig.tight_layout()
    return fig


# -- gradient flow ---------------------------------------------------------------------------
@figure("gradient_flow", "Vanishing gradients: the gradient norm by depth",
        "‖∂L/∂Wₗ‖ of each of the ten layers of a 64-wide MLP, input layer on the left, for each "
        "activation and initialisation: at initialisation (solid) and after 100 steps of SGD at "
        "lr 0.1 (dashed), on 256 points labelled by a random linear teacher. The scratch twin is "
        "drawn; the torch twin's norms are the crosses. Sigmoid loses a factor of 3 to 7 per "
        "layer whatever the initialisation (σ' ≤ 1/4); tanh and ReLU hold their gradients with "
        "Xavier or He initialisation and lose them with torch's default.",
        concepts=["gradient_flow"], needs=twins("gradient_flow"), key=True)
def draw_gradient_flow(ctx: Context):
    import torch

    from parity_tests.helpers import copy_weights
    from scratch import gradient_flow as gf
    from scratch.cross_entropy import CrossEntropyLoss
    from torch_ref import gradient_flow as tgf

    x, y = gf.teacher_data(np.random.default_rng(0))
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), sharey=True)
    worst = 0.0
    for ax, activation in zip(axes, gf.ACTIVATIONS, strict=True):
        for colour, init in zip(("tab:blue", "tab:orange", "tab:green"), gf.INITS, strict=True):
            torch.manual_seed(0)
            theirs = tgf.DeepMLP(activation=activation, init=init).double()
            ours = gf.DeepMLP(activation=activation, init=init).double()
            copy_weights(theirs, ours)
            for style, steps in (("-", 0), ("--", 100)):
                if steps:
                    gf.train(ours, CrossEntropyLoss(), x, y, steps)
                    tgf.train(theirs, torch.nn.CrossEntropyLoss(), tx, ty, steps)
                norms = gf.gradient_norms(ours, CrossEntropyLoss(), x, y)
                expected = tgf.gradient_norms(theirs, torch.nn.CrossEntropyLoss(), tx, ty)
                worst = max(worst, float(np.max(np.abs(norms - expected.numpy()) / expected.numpy())))
                depth = np.arange(1, len(norms) + 1)
                label = f"{init}, {'after 100 steps' if steps else 'at init'}"
                ax.semilogy(depth, norms, style, color=colour, label=label)
                ax.semilogy(depth, expected.numpy(), "x", color="black", markersize=4)
        ax.set(title=activation, xlabel="layer (1 = next to the input)", xticks=range(1, 11))
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("‖∂L/∂W‖ (Frobenius)")
    axes[0].legend(fontsize=7.5)
    fig.suptitle(f"The gradient by depth, scratch (lines) and torch (×); largest relative "
                 f"difference {_Gap(worst)}", fontsize=11)
    fig.tight_layout()
    return fig


# -- augmentation ----------------------------------------------------------------------------
@figure("augment", "Data augmentation: random affine warps of MNIST digits",
        "The first eight test digits (top row) and three draws of train.py --augment's RandomAffine "
        "each (rotation up to 10°, shift up to 10 % of the size, scale 0.9–1.1), warped by scratch's "
        "affine. Each warp is also made by torchvision's affine with the same parameters; the "
        "largest difference is printed in the title.",
        concepts=["augment"], needs=twins("augment"))  # MNIST: torchvision downloads it
def draw_augment(ctx: Context):
    import torch
    from torchvision.transforms import InterpolationMode

    from scratch.augment import RandomAffine
    from torch_ref.augment import affine as torch_affine
    from torch_ref.data import load_mnist

    images = load_mnist(ROOT / "data", train=False)[0][:8].astype(np.float64)[:, None] / 255
    draws = 3
    warp = RandomAffine(degrees=10, translate=(0.1, 0.1), scale=(0.9, 1.1), fill=0.0,
                        generator=np.random.default_rng(0))
    replay = RandomAffine(degrees=10, translate=(0.1, 0.1), scale=(0.9, 1.1), fill=0.0,
                          generator=np.random.default_rng(0))
    fig, axes = plt.subplots(1 + draws, len(images), figsize=(12, 6.4))
    worst = 0.0
    for row in range(draws):
        warped = warp(images)
        for col, image in enumerate(images):
            params = replay.get_params(28, 28)
            expected = torch_affine(torch.from_numpy(image), **params, fill=0.0,
                                    interpolation=InterpolationMode.BILINEAR).numpy()
            worst = max(worst, float(np.abs(warped[col] - expected).max()))
            ax = axes[row + 1, col]
            ax.imshow(warped[col, 0], cmap="gray_r", vmin=0, vmax=1)
            ax.set_title(f"{params['angle']:+.0f}°, ({params['translate'][0]:+d}, "
                         f"{params['translate'][1]:+d}), ×{params['scale']:.2f}", fontsize=7.5)
    for col, image in enumerate(images):
        axes[0, col].imshow(image[0], cmap="gray_r", vmin=0, vmax=1)
        axes[0, col].set_title("original", fontsize=8)
    for ax in axes.flat:
        _grid_off(ax)
    fig.suptitle(f"RandomAffine draws (angle, shift in pixels, scale); scratch vs torchvision: "
                 f"max |Δ| = {_Gap(worst)}", fontsize=11)
    fig.tight_layout()
    return fig


# -- autograd --------------------------------------------------------------------------------
def _tape_depths(root) -> dict:
    """Each recorded node's column: its longest distance from a leaf."""
    depth = {}

    def visit(node) -> int:
        if id(node) not in depth:
            depth[id(node)] = 1 + max((visit(p) for p in node.parents), default=-1)
        return depth[id(node)]

    visit(root)
    return depth


@figure("autograd_graph", "The graph the tape records, and the gradient flowing back",
        "L = tanh(a·b + eᵇ) with a = 0.5 and b = −0.8, as scratch's Tensor records it: each box is a "
        "tensor, with the operation that made it and its value; the red numbers are ∂L/∂(the box), "
        "which backward() sends along each edge against the arrows, from L (∂L/∂L = 1) to the "
        "leaves. b is used twice, so its gradient is the sum of its two paths. torch.autograd gives "
        "the same leaf gradients (the largest difference is printed in the title).",
        concepts=["autograd"], needs=twins("autograd"))
def draw_autograd_graph(ctx: Context):
    import torch

    from scratch.autograd import Tensor

    a = Tensor(np.array(0.5), requires_grad=True)
    b = Tensor(np.array(-0.8), requires_grad=True)
    products = (a * b).retain_grad()
    exps = b.exp().retain_grad()
    total = (products + exps).retain_grad()
    loss = total.tanh().retain_grad()
    loss.backward()
    ta, tb = torch.tensor(0.5, dtype=torch.float64, requires_grad=True), \
        torch.tensor(-0.8, dtype=torch.float64, requires_grad=True)
    torch.tanh(ta * tb + tb.exp()).backward()
    gap = max(_diff(a.grad, ta.grad), _diff(b.grad, tb.grad))

    names = {id(a): "a", id(b): "b", id(products): "a·b", id(exps): "eᵇ", id(total): "a·b + eᵇ",
             id(loss): "L"}
    nodes = [a, b, products, exps, total, loss]
    depth = _tape_depths(loss)
    rows: dict[int, int] = {}
    place = {}
    for node in nodes:
        column = depth[id(node)]
        place[id(node)] = (column * 3.0, -1.6 * rows.get(column, 0))
        rows[column] = rows.get(column, 0) + 1
    fig, ax = plt.subplots(figsize=(11, 4.2))
    for node in nodes:
        x, y = place[id(node)]
        for parent in node.parents:
            px, py = place[id(parent)]
            ax.annotate("", xy=(x - 0.75, y), xytext=(px + 0.75, py),
                        arrowprops={"arrowstyle": "->", "color": "grey", "lw": 1.2})
        op = f"{node.op}\n" if node.op else "leaf\n"
        ax.text(x, y, f"{names[id(node)]}\n{op}value {float(node.data):.4f}", ha="center", va="center",
                fontsize=9, bbox={"boxstyle": "round", "fc": "#eef3fb" if node.is_leaf else "white",
                                  "ec": "tab:blue"})
        ax.text(x, y - 0.62, f"∂L/∂({names[id(node)]}) = {float(node.grad):.4f}", ha="center",
                va="top", color="tab:red", fontsize=9)
    ax.set_xlim(-1.2, 3.0 * max(depth.values()) + 1.2)
    ax.set_ylim(-2.7, 0.8)
    ax.axis("off")
    ax.set_title(f"forward: the arrows; backward: the red gradients, right to left. "
                 f"Leaf gradients vs torch.autograd: max |Δ| = {gap}")
    fig.tight_layout()
    return fig


# -- running ---------------------------------------------------------------------------------
def run(names: list[str] | None, out: Path, ctx: Context) -> tuple[list[str], list[str], list[str]]:
    """Draw the named figures (all when None); returns (written, skipped, failed)."""
    out.mkdir(parents=True, exist_ok=True)
    chosen = [f for f in FIGURES if names is None or f.name in names]
    if names is not None:
        unknown = sorted(set(names) - {f.name for f in FIGURES})
        if unknown:
            raise SystemExit(f"make_figures: unknown figure(s) {', '.join(unknown)}; "
                             f"--list names them")
    written, skipped, failed = [], [], []
    plt.rcParams.update({"figure.dpi": 100, "axes.titlesize": 11, "font.size": 9.5})
    for fig_def in chosen:
        missing = fig_def.missing()
        if missing:
            print(f"skip  {fig_def.name}: needs {', '.join(missing)} (not written yet)")
            skipped.append(fig_def.name)
            continue
        start = time.perf_counter()
        try:
            fig = fig_def.draw(ctx)
            path = out / fig_def.filename
            fig.savefig(path, dpi=DPI, metadata={"Software": None})
            plt.close(fig)
        except Exception:
            plt.close("all")
            print(f"FAIL  {fig_def.name}:")
            traceback.print_exc()
            failed.append(fig_def.name)
            continue
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}"
              f"  ({time.perf_counter() - start:.1f} s)")
        written.append(fig_def.name)
    return written, skipped, failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "figures",
                        help="folder for the PNG files (default: docs/figures)")
    parser.add_argument("--only", default=None,
                        help="comma-separated figure names to draw (default: all)")
    parser.add_argument("--list", action="store_true", help="list the figures and exit (default: off)")
    parser.add_argument("--run", type=Path, default=None,
                        help="a `train.py --impl both` output folder for the CNN figures (default: the "
                             "newest finished one under runs/, else a short lockstep run made now)")
    parser.add_argument("--strict", action="store_true",
                        help="a figure skipped for a missing module is an error too (default: off)")
    args = parser.parse_args(argv)
    if args.list:
        for f in FIGURES:
            state = "ready" if f.available() else "needs " + ", ".join(f.missing())
            print(f"{f.name:18} {f.filename:24} [{', '.join(f.concepts)}] {state}")
        return 0
    names = None if args.only is None else [n.strip() for n in args.only.split(",") if n.strip()]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="make_figures-") as scratch_dir:
        written, skipped, failed = run(names, args.out, Context(run=args.run, scratch_dir=scratch_dir))
    print(f"{len(written)} written, {len(skipped)} skipped, {len(failed)} failed "
          f"in {time.perf_counter() - start:.1f} s")
    if failed or (args.strict and skipped):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
