"""The run's pictures: curves.png, confusion.png and misclassified.png, drawn headless."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from run import recipe

WINDOW = 50           # the curves' trailing mean, in steps: said in their legends


def draw(out: Path, history: dict, logits: np.ndarray, data: recipe.Data, name: str,
         label_smoothing: float = 0.0) -> None:
    """curves.png, confusion.png and misclassified.png, without a display."""
    plt = _pyplot()

    for filename, fig in (("curves.png", curves(history, label_smoothing)),
                          ("confusion.png", confusion(logits, data, name)),
                          ("misclassified.png", misclassified(logits, data, name))):
        fig.savefig(out / filename, dpi=100)
        plt.close(fig)


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def curves(history: dict, label_smoothing: float = 0.0):
    """Loss and accuracy as training goes, and for two twins their loss difference. With label
    smoothing the training loss is the smoothed one, which cannot reach 0."""
    plt = _pyplot()
    steps = history["steps"]
    names = [k[len("loss_"):] for k in steps if k.startswith("loss_")]
    both = "rel_diff" in steps
    fig, axes = plt.subplots(1, 3 if both else 2, figsize=(15 if both else 10, 4))
    step = np.asarray(steps["step"])
    ends = step[np.r_[np.flatnonzero(np.diff(steps["epoch"])), len(step) - 1]]   # each epoch's last step
    lowest = 100.0
    mean_of = f"mean of the last {min(WINDOW, len(step))} steps"
    for i, twin in enumerate(names):
        loss = np.asarray(steps[f"loss_{twin}"])
        axes[0].plot(step, loss, color=f"C{i}", alpha=0.25, lw=0.7, label=f"{twin}: each step")
        axes[0].plot(step, _smooth(loss), color=f"C{i}", label=f"{twin}: {mean_of}")
        accuracy = 100 * _smooth(np.asarray(steps[f"acc_{twin}"]))
        tests = [100 * r["twins"][twin]["test_acc"] for r in history["epochs"]]
        trains = [100 * r["twins"][twin]["train_acc"] for r in history["epochs"]]
        axes[1].plot(step, accuracy, color=f"C{i}", label=f"{twin}: training batches, {mean_of}")
        axes[1].plot(ends[:len(trains)], trains, "s", color=f"C{i}", mfc="none",
                     label=f"{twin}: training, the epoch's mean (as printed)")
        axes[1].plot(ends[:len(tests)], tests, "o--", color=f"C{i}", label=f"{twin}: test set")
        lowest = min(lowest, *tests, *trains, accuracy[len(accuracy) // 2])
    smoothed = f", label smoothing {label_smoothing:g}" if label_smoothing else ""
    axes[0].set(xlabel="step", ylabel=f"training loss{smoothed}", yscale="log", title="loss")
    axes[1].set(xlabel="step", ylabel="accuracy (%)", title="accuracy",
                ylim=(90 if lowest > 92 else 0, 100))
    for ax in axes[:2]:
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    if both:
        axes[2].semilogy(step, np.maximum(steps["rel_diff"], 1e-17))
        axes[2].axhline(recipe.LOCKSTEP_TOLERANCE, color="grey", ls="--", lw=0.8)
        axes[2].set(xlabel="step", ylabel="|loss₁ − loss₂| / loss₁", title="twins' loss difference")
        axes[2].grid(alpha=0.3)
    fig.tight_layout()
    return fig


def confusion(logits: np.ndarray, data: recipe.Data, name: str):
    plt = _pyplot()
    predicted = logits.argmax(1)
    classes = data.info.classes
    k = len(classes)
    counts = np.bincount(data.y_test * k + predicted, minlength=k * k).reshape(k, k)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    ax.imshow(np.log1p(counts), cmap="Blues")
    for i in range(k):
        for j in range(k):
            if counts[i, j]:
                ax.text(j, i, counts[i, j], ha="center", va="center", fontsize=7,
                        color="white" if i == j else "black")
    ax.set(xticks=range(k), yticks=range(k), xticklabels=classes, yticklabels=classes,
           xlabel="predicted", ylabel="true", title=f"confusion matrix ({name} twin, test set)")
    ax.tick_params(axis="x", labelrotation=45 if len(max(classes, key=len)) > 1 else 0)
    fig.tight_layout()
    return fig


def misclassified(logits: np.ndarray, data: recipe.Data, name: str):
    """Test images the network gets wrong, as tiles; a page in words when there is none."""
    plt = _pyplot()
    predicted, classes = logits.argmax(1), data.info.classes
    # One image of tiles rather than a grid of axes: a 36-axes figure takes seconds to lay out.
    wrong = np.flatnonzero(predicted != data.y_test)
    shown = wrong[:36]
    z = logits - logits.max(1, keepdims=True)
    confidence = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    columns, band, gap = 9, 16, 3                       # pixels above each tile for its label
    rows = max(1, math.ceil(len(shown) / columns))
    tile_h, tile_w = 28 + band, 28 + 2 * gap
    mosaic = np.zeros((rows * tile_h, columns * tile_w), dtype=np.uint8)
    fig, ax = plt.subplots(figsize=(12, 1.6 * rows + 0.4))
    for k, i in enumerate(shown):
        r, c = divmod(k, columns)
        top, left = r * tile_h + band, c * tile_w + gap
        mosaic[top:top + 28, left:left + 28] = data.test_images[i]
        ax.text(c * tile_w + tile_w / 2, r * tile_h + band - 1,
                f"{classes[data.y_test[i]]}→{classes[predicted[i]]}\n{confidence[i, predicted[i]]:.2f}",
                ha="center", va="bottom", fontsize=7, linespacing=1.0)
    ax.imshow(mosaic, cmap="gray_r", interpolation="nearest")
    ax.axis("off")
    if len(wrong):
        ax.set_title(f"{len(wrong)} of {len(predicted)} test images misclassified ({name} twin); "
                     f"the first {len(shown)}, as true→predicted and the predicted class's "
                     f"probability", fontsize=9)
    else:
        ax.text(0.5, 0.5, f"no test image is misclassified: all {len(predicted)} are right "
                          f"({name} twin)", ha="center", va="center", transform=ax.transAxes, fontsize=12)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.93)
    return fig


def _smooth(values: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """Running mean over the last ``window`` values (fewer at the start)."""
    if len(values) == 0:
        return values
    cumsum = np.cumsum(np.insert(values.astype(np.float64), 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    lo = np.maximum(idx - window, 0)
    return (cumsum[idx] - cumsum[lo]) / (idx - lo)
