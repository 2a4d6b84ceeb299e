"""The tutorials' CNN worked examples, run with both twins.

Every expected value is derived by hand in the test (the arithmetic is in the comments), then
both twins must produce it, and both must agree with each other (forward and backward, through
the parity helper). Where a tutorial goes wrong, the test says so:

* 000 and 003 give the output size as ⌊(H − k + 2p) / s⌋ + 1, which omits dilation; the layers
  use ⌊(H + 2p − d(k − 1) − 1) / s⌋ + 1 (scratch/conv.py).
* 003 writes the true convolution Σ_τ f(τ) g(t − τ) but computes a cross-correlation, as torch
  does; its printed all-8s output is the cross-correlation's (the formula gives −8s).
* 004's ``max_pooling`` allocates (h//2, w//2) and writes ``pooled[i//2, j//2]``: it assumes an
  even map and stride 2 (an odd map raises IndexError). Its ``convolve2d`` sizes the output from
  the height alone (square images only). Its cross-entropy is −log(p + 1e-8), biased by the
  epsilon; the pipeline here uses CrossEntropyLoss on the logits (log-softmax, no epsilon). Its
  heading says 10 epochs, its loop runs 5.
* 004 loads a photo (/content/tree.jpg) that is not part of the tutorial. Its pipeline runs here
  on a deterministic synthetic 28×28 "tree" (``_tree_image``), so every run sees the same pixels.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from parity_tests.helpers import assert_close, assert_parity
from scratch.activations import ReLU, Softmax
from scratch.conv import Conv2d, conv2d_naive
from scratch.cross_entropy import CrossEntropyLoss
from scratch.flatten import Flatten
from scratch.linear import Linear
from scratch.pooling import MaxPool2d
from scratch.sequential import Sequential
from torch_ref.activations import ReLU as TorchReLU
from torch_ref.activations import Softmax as TorchSoftmax
from torch_ref.conv import Conv2d as TorchConv2d
from torch_ref.conv import conv2d as torch_conv2d
from torch_ref.cross_entropy import CrossEntropyLoss as TorchCrossEntropyLoss
from torch_ref.flatten import Flatten as TorchFlatten
from torch_ref.linear import Linear as TorchLinear
from torch_ref.pooling import MaxPool2d as TorchMaxPool2d


def _fixed_kernel_layers(kernel: np.ndarray, **kwargs):
    """A one-filter Conv2d in each twin, both holding ``kernel`` (float64, no bias)."""
    kernel = np.asarray(kernel, dtype=np.float64)
    scratch_conv = Conv2d(1, 1, kernel.shape, bias=False, dtype=np.float64, **kwargs)
    scratch_conv.weight.data[0, 0] = kernel
    torch_conv = TorchConv2d(1, 1, kernel.shape, bias=False, dtype=torch.float64, **kwargs)
    with torch.no_grad():
        torch_conv.weight[0, 0] = torch.from_numpy(kernel)
    return scratch_conv, torch_conv


def _both(kernel, image, **kwargs) -> np.ndarray:
    """Run ``image`` (H, W) through both twins and the naive loops; all must agree; return one."""
    scratch_conv, torch_conv = _fixed_kernel_layers(kernel, **kwargs)
    x = np.asarray(image, dtype=np.float64)[None, None]
    out = scratch_conv(x)
    assert_close(out, torch_conv(torch.from_numpy(x)), "Conv2d forward")
    naive = conv2d_naive(x, scratch_conv.weight.data, **kwargs)
    assert_close(naive, out, "conv2d_naive vs Conv2d")
    # Backward too, with the helper's random upstream gradient.
    assert_parity(scratch_conv, torch_conv, x, copy=False)
    return out[0, 0]


VERTICAL_EDGE_000 = [[1, 0, -1],
                     [1, 0, -1],
                     [1, 0, -1]]


def test_tutorial_000_four_by_four_vertical_edge():
    """Y[i, j] = Σ_u X[i + u, j] − X[i + u, j + 2]   (the kernel's 1s minus its −1s).

    Y[0, 0] = (1 − 0) + (0 − 3) + (2 − 0) =  0      Y[0, 1] = (2 − 1) + (1 − 2) + (1 − 1) =  0
    Y[1, 0] = (0 − 3) + (2 − 0) + (1 − 2) = −2      Y[1, 1] = (1 − 2) + (1 − 1) + (0 − 3) = −4
    Then ReLU zeroes all four and the 2×2 max pool of them is 0.
    """
    X = [[1, 2, 0, 1],
         [0, 1, 3, 2],
         [2, 1, 0, 1],
         [1, 0, 2, 3]]
    Y = _both(VERTICAL_EDGE_000, X)
    np.testing.assert_array_equal(Y, [[0, 0], [-2, -4]])
    relu_pool = Sequential(ReLU(), MaxPool2d(2))
    torch_relu_pool = torch.nn.Sequential(TorchReLU(), TorchMaxPool2d(2))
    pooled = relu_pool(Y[None, None])
    np.testing.assert_array_equal(pooled, [[[[0.0]]]])
    np.testing.assert_array_equal(torch_relu_pool(torch.from_numpy(Y[None, None])), [[[[0.0]]]])


IMAGE_1_TO_16 = np.arange(1, 17, dtype=np.float64).reshape(4, 4)
HORIZONTAL_EDGE_003 = [[-1, -1],
                       [1, 1]]


def test_tutorial_003_one_to_sixteen_two_by_two_kernel():
    """The window at (i, j) holds [[a, a + 1], [a + 4, a + 5]], a = 4i + j + 1, so
    −a − (a + 1) + (a + 4) + (a + 5) = 8 at every position: the tutorial's printed all-8s."""
    np.testing.assert_array_equal(_both(HORIZONTAL_EDGE_003, IMAGE_1_TO_16), np.full((3, 3), 8.0))
    # Its function also takes a stride: ⌊(4 − 2) / 2⌋ + 1 = 2 windows per side, still all 8s.
    np.testing.assert_array_equal(_both(HORIZONTAL_EDGE_003, IMAGE_1_TO_16, stride=2),
                                  np.full((2, 2), 8.0))


def test_tutorial_003_with_padding_one():
    """padding=1: the 6×6 padded image P, 5×5 output; S[i, j] = P[i+1, j] + P[i+1, j+1] − P[i, j] − P[i, j+1].

    Top row (P row 0 is zeros, P row 1 = image row 0 = 1 2 3 4 between two zeros):
        0 + 1 = 1,  1 + 2 = 3,  2 + 3 = 5,  3 + 4 = 7,  4 + 0 = 4.
    Middle rows: image rows r and r + 1 differ by 4 everywhere, so 8 inside; in the first and
        last column one of each pair is padding, leaving a single difference of 4.
    Bottom row (P row 5 is zeros): −(0 + 13), −(13 + 14), −(14 + 15), −(15 + 16), −(16 + 0).
    """
    expected = np.array([[1, 3, 5, 7, 4],
                         [4, 8, 8, 8, 4],
                         [4, 8, 8, 8, 4],
                         [4, 8, 8, 8, 4],
                         [-13, -27, -29, -31, -16]], dtype=np.float64)
    np.testing.assert_array_equal(_both(HORIZONTAL_EDGE_003, IMAGE_1_TO_16, padding=1), expected)


def test_tutorial_003_max_pooling():
    """2×2 windows, stride 2, over 1..16: max(1, 2, 5, 6) = 6, max(3, 4, 7, 8) = 8,
    max(9, 10, 13, 14) = 14, max(11, 12, 15, 16) = 16. Each window's gradient goes to its
    maximum, the bottom-right element: positions (1, 1), (1, 3), (3, 1), (3, 3)."""
    x = IMAGE_1_TO_16[None, None]
    pool, torch_pool = MaxPool2d(2, stride=2), TorchMaxPool2d(2, stride=2)
    out = pool(x)
    np.testing.assert_array_equal(out[0, 0], [[6, 8], [14, 16]])
    np.testing.assert_array_equal(torch_pool(torch.from_numpy(x))[0, 0], [[6, 8], [14, 16]])
    upstream = np.array([[[[1.5, -2.0], [0.25, 3.0]]]])
    expected = np.zeros((1, 1, 4, 4))
    expected[0, 0, 1::2, 1::2] = upstream[0, 0]
    np.testing.assert_array_equal(pool.backward(upstream), expected)
    assert_parity(MaxPool2d(2, stride=2), TorchMaxPool2d(2, stride=2), x)


def test_tutorial_001_vertical_edge_seen_by_two_kernels():
    """8×8 image, columns 0–3 dark (0), 4–7 bright (255).

    Vertical kernel [[−1, 0, 1]] × 3: S[i, j] = 3 · (X[·, j + 2] − X[·, j]), which is
    3 · 255 = 765 where column j is dark and j + 2 bright (j = 2, 3), and 0 elsewhere.
    Horizontal kernel: every row of the image is the same, so rows 2 minus rows 0 is 0.
    The tutorial's printout: vertical strength 765.0 ("HIGH!"), horizontal 0.0 ("low").
    """
    image = np.zeros((8, 8))
    image[:, 4:8] = 255
    vertical = [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]
    horizontal = [[-1, -1, -1], [0, 0, 0], [1, 1, 1]]
    expected_vertical = np.tile([0.0, 0.0, 765.0, 765.0, 0.0, 0.0], (6, 1))
    np.testing.assert_array_equal(_both(vertical, image), expected_vertical)
    np.testing.assert_array_equal(_both(horizontal, image), np.zeros((6, 6)))


# -- tutorial 004: fixed kernel → ReLU → max-pool → flatten → dense(2) → softmax → cross-entropy


def _tree_image() -> np.ndarray:
    """A deterministic 28×28 grey image in [0, 1]: a sky brightening downwards (as the
    tutorial's photo's first rows do), a dark triangular crown, a lighter trunk."""
    rows, cols = np.mgrid[0:28, 0:28]
    image = 0.26 + 0.004 * rows                                       # sky
    crown = (rows >= 3) & (rows <= 19) & (np.abs(cols - 13.5) <= 0.45 * (rows - 3) + 0.5)
    image = np.where(crown, 0.12 + 0.02 * ((rows + 2 * cols) % 3), image)   # textured leaves
    trunk = (rows >= 20) & (rows <= 26) & (cols >= 12) & (cols <= 15)
    return np.where(trunk, 0.45, image)


def _pipelines(kernel, dense_weight, dense_bias):
    """Both twins of conv(fixed kernel) → ReLU → MaxPool2d(2) → Flatten → Linear(·, 2)."""
    scratch_conv, torch_conv = _fixed_kernel_layers(kernel)
    torch_conv.weight.requires_grad_(False)             # the kernel is fixed; only dense learns
    features = dense_weight.shape[1]
    dense = Linear(features, 2, dtype=np.float64)
    dense.weight.data[...] = dense_weight
    dense.bias.data[...] = dense_bias
    torch_dense = TorchLinear(features, 2, dtype=torch.float64)
    with torch.no_grad():
        torch_dense.weight.copy_(torch.from_numpy(dense_weight))
        torch_dense.bias.copy_(torch.from_numpy(dense_bias))
    scratch_net = Sequential(scratch_conv, ReLU(), MaxPool2d(2), Flatten(), dense)
    torch_net = torch.nn.Sequential(torch_conv, TorchReLU(), TorchMaxPool2d(2), TorchFlatten(),
                                    torch_dense)
    return scratch_net, torch_net


def _train_both(kernel, image, dense_weight, dense_bias, label=1, lr=0.1, epochs=10):
    """The tutorial's loop in both twins; returns the two loss curves and the features."""
    scratch_net, torch_net = _pipelines(kernel, dense_weight, dense_bias)
    dense, torch_dense = scratch_net[4], torch_net[4]
    criterion, torch_criterion = CrossEntropyLoss(), TorchCrossEntropyLoss()
    softmax, torch_softmax = Softmax(dim=1), TorchSoftmax(dim=1)
    x = image[None, None]                                        # (1, 1, 28, 28)
    target = np.array([label])
    losses, torch_losses = [], []
    for epoch in range(epochs):
        logits = scratch_net(x)                                  # (1, 2)
        torch_logits = torch_net(torch.from_numpy(x))
        assert_close(softmax(logits), torch_softmax(torch_logits), f"epoch {epoch} probabilities")
        loss = criterion(logits, target)
        torch_loss = torch_criterion(torch_logits, torch.from_numpy(target))
        assert_close(loss, torch_loss, f"epoch {epoch} loss")
        losses.append(float(loss))
        torch_losses.append(float(torch_loss.detach()))

        dense.backward(criterion.backward())                     # ∂L/∂logits = p − y
        torch_loss.backward()
        for param, torch_param in ((dense.weight, torch_dense.weight),
                                   (dense.bias, torch_dense.bias)):
            assert_close(param.grad, torch_param.grad, f"epoch {epoch} dense gradient")
            param.data -= lr * param.grad                        # plain gradient descent
            param.grad[...] = 0
            with torch.no_grad():
                torch_param -= lr * torch_param.grad
            torch_param.grad = None
    features = scratch_net[3].forward(scratch_net[2](scratch_net[1](scratch_net[0](x))))
    return np.array(losses), np.array(torch_losses), features[0]


def _features_by_hand(image: np.ndarray) -> np.ndarray:
    """The same features by plain array slicing, a witness independent of both twins:
    S = Σ_u X[u:u + 26, 0:26] − X[u:u + 26, 2:28] (kernel [[1, 0, −1]] × 3), ReLU, then the
    largest of the four pixels of each 2×2 block."""
    S = sum(image[u:u + 26, 0:26] - image[u:u + 26, 2:28] for u in range(3))
    R = np.maximum(S, 0)
    pooled = np.maximum(np.maximum(R[0::2, 0::2], R[0::2, 1::2]), np.maximum(R[1::2, 0::2], R[1::2, 1::2]))
    return pooled.reshape(-1)                                     # 13 · 13 = 169


def test_tutorial_004_pipeline_identical_losses_every_epoch():
    """Random small dense weights (as the tutorial's randn · 0.01), 10 epochs, lr 0.1."""
    image = _tree_image()
    rng = np.random.default_rng(42)
    dense_weight = rng.standard_normal((2, 169)) * 0.01
    losses, torch_losses, features = _train_both(VERTICAL_EDGE_000, image, dense_weight, np.zeros(2))
    np.testing.assert_allclose(losses, torch_losses, rtol=1e-7, atol=0)
    assert_close(features, _features_by_hand(image), "features vs by hand")
    assert features.max() > 0.5                                  # the tree's edges are seen
    # The loss is convex in the dense weights and the step small: it falls every epoch.
    assert np.all(np.diff(losses) < 0)


def test_tutorial_004_first_two_losses_by_hand():
    """From W = 0, b = 0: logits (0, 0), p = (½, ½), L₀ = ln 2.

    ∂L/∂z = p − y = (½, −½), so one step gives W₁ = −0.1 (p − y) fᵀ and b₁ = −0.1 (p − y);
    then z₁ = W₁ f + b₁ = −0.1 (p − y)(‖f‖² + 1) = (−c, c) with c = 0.05 (‖f‖² + 1), and
    L₁ = −log softmax(z₁)₁ = log(1 + e^(−2c)).
    """
    image = _tree_image()
    f = _features_by_hand(image)
    c = 0.05 * (f @ f + 1)
    losses, torch_losses, _ = _train_both(VERTICAL_EDGE_000, image, np.zeros((2, 169)), np.zeros(2),
                                          epochs=2)
    for curve in (losses, torch_losses):
        np.testing.assert_allclose(curve, [np.log(2), np.log1p(np.exp(-2 * c))], rtol=1e-12)


def test_tutorial_004_pipeline_on_an_odd_feature_map():
    """A 4×4 kernel makes a 25×25 map: tutorial 004's max_pooling would index pooled[12, ·] of a
    12-row array and raise IndexError. MaxPool2d floors, as torch: 12×12 = 144 features."""
    kernel = np.array([[1, 1, -1, -1]] * 4, dtype=np.float64)
    rng = np.random.default_rng(7)
    dense_weight = rng.standard_normal((2, 144)) * 0.01
    losses, torch_losses, features = _train_both(kernel, _tree_image(), dense_weight, np.zeros(2),
                                                 epochs=5)
    assert features.shape == (144,)
    np.testing.assert_allclose(losses, torch_losses, rtol=1e-7, atol=0)


@pytest.mark.parametrize("size", [(28, 28), (28, 20)])
def test_non_square_images_keep_both_sizes(size, rng):
    """Tutorial 004's convolve2d sizes its output from the height alone; H and W are
    independent here: a (28, 20) image gives a (26, 18) map, as in torch."""
    x = rng.standard_normal((1, 1, *size))
    kernel = np.array(VERTICAL_EDGE_000, dtype=np.float64)[None, None]
    out = conv2d_naive(x, kernel)
    assert out.shape == (1, 1, size[0] - 2, size[1] - 2)
    assert_close(out, torch_conv2d(torch.from_numpy(x), torch.from_numpy(kernel)), "non-square")
