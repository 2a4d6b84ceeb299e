"""The harness itself: every check of assert_parity and assert_numerical_grad can fail.

A small correct layer (y = x·w + b, one weight and one bias per feature) passes; each planted
mistake (a forward, an input gradient or a parameter gradient off by one part in a million, an
overwritten instead of accumulated gradient, a gradient that only broadcasts to its input, a
buffer updated wrongly, a backward right only for an all-ones upstream gradient, a backward
that runs before any forward) fails with an AssertionError that names it. Then: calling the
harness twice, with a torch module used before, leaves nothing behind; and the README's snippet
runs outside the repository.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from parity_tests import assert_numerical_grad, assert_parity
from scratch.activations import Softmax
from scratch.module import Module, Parameter

ROOT = Path(__file__).resolve().parent.parent


class Scale(Module):
    """y = x ⊙ w + b, w and b one per feature; x: (N, F)."""

    def __init__(self, features: int, error: str = ""):
        super().__init__()
        self.weight = Parameter(np.linspace(0.5, 1.5, features))
        self.bias = Parameter(np.linspace(-0.2, 0.3, features))
        self.error = error                       # the planted mistake, if any

    def forward(self, x):
        self.cache = x
        out = x * self.weight.data + self.bias.data
        return out * (1 + 1e-6) if self.error == "forward" else out

    def backward(self, grad_out):
        if self.cache is None:
            if self.error == "silent-before-forward":
                return np.zeros_like(grad_out)
            raise RuntimeError(f"{type(self).__name__}.backward before forward")
        x, off = self.cache, 1 + 1e-6
        grad_weight, grad_bias = (grad_out * x).sum(axis=0), grad_out.sum(axis=0)
        if self.error == "overwrite":
            self.weight.grad = grad_weight                    # `=` where the contract says `+=`
        else:
            self.weight.grad += grad_weight * (off if self.error == "weight" else 1)
        self.bias.grad += grad_bias * (off if self.error == "bias" else 1)
        grad_x = grad_out * self.weight.data
        if self.error == "input":
            grad_x = grad_x * off
        if self.error == "broadcast":
            grad_x = grad_x[None]                             # (1, N, F) for an (N, F) input
        return grad_x


class TorchScale(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(features))
        self.bias = nn.Parameter(torch.randn(features))

    def forward(self, x):
        return x * self.weight + self.bias


class Counter(Scale):
    """Scale with a buffer: how many samples it has seen (torch's twin counts them too)."""

    def __init__(self, features: int, error: str = ""):
        super().__init__(features, error)
        self.register_buffer("seen", np.zeros(()))

    def forward(self, x):
        self.seen = self.seen + len(x) + (1 if self.error == "buffer" else 0)
        return super().forward(x)


class TorchCounter(TorchScale):
    def __init__(self, features: int):
        super().__init__(features)
        self.register_buffer("seen", torch.zeros(()))

    def forward(self, x):
        self.seen += len(x)
        return super().forward(x)


class SoftmaxRightOnlyForOnes(Softmax):
    """A softmax backward that returns zeros: right if ∂L/∂out were all ones, wrong otherwise."""

    def backward(self, grad_out):
        super().backward(grad_out)
        return np.zeros_like(grad_out)


@pytest.fixture
def x(rng):
    return rng.standard_normal((6, 4))


def test_a_correct_layer_passes(x):
    torch.manual_seed(0)
    assert_parity(Scale(4), TorchScale(4), x)
    assert_parity(Counter(4), TorchCounter(4), x)
    assert_numerical_grad(Scale(4), x)


@pytest.mark.parametrize(("error", "named"), [
    ("forward", "forward output"),
    ("input", "gradient of input 0"),
    ("weight", "weight.grad"),
    ("bias", "bias.grad"),
    ("overwrite", "weight.grad (what backward added to it)"),
    ("broadcast", "gradient of input 0: shape (1, 6, 4) (scratch) != (6, 4) (torch)"),
    ("silent-before-forward", "backward ran before any forward"),
])
def test_each_planted_mistake_fails_and_is_named(error, named, x):
    torch.manual_seed(0)
    with pytest.raises(AssertionError, match=re.escape(named)):
        assert_parity(Scale(4, error), TorchScale(4), x)


def test_a_wrongly_updated_buffer_fails(x):
    torch.manual_seed(0)
    with pytest.raises(AssertionError, match="buffer seen"):
        assert_parity(Counter(4, "buffer"), TorchCounter(4), x)


def test_a_backward_right_only_for_all_ones_fails(x):
    """Under ∂L/∂out = 1 softmax's input gradient is exactly 0, so this backward would pass an
    all-ones check; the harness's random upstream gradient catches it."""
    with pytest.raises(AssertionError, match="gradient of input 0"):
        assert_parity(SoftmaxRightOnlyForOnes(dim=1), nn.Softmax(dim=1), x)


@pytest.mark.parametrize(("error", "named"), [("input", "gradient of input 0 vs central differences"),
                                              ("weight", "weight.grad vs central differences"),
                                              ("bias", "bias.grad vs central differences")])
def test_central_differences_catch_a_planted_gradient(error, named, x, monkeypatch):
    """Off by one part in a thousand (central differences are good to about 1e-8), in the input
    and in each parameter path; the message names the witness "central differences"."""
    layer = Scale(4, error)
    monkeypatch.setattr(Scale, "backward", _off_by(1e-3, Scale.backward))
    with pytest.raises(AssertionError, match=re.escape(named)) as caught:
        assert_numerical_grad(layer, x)
    assert "central differences" in str(caught.value) and "torch" not in str(caught.value)


def _off_by(relative: float, backward):
    def planted(self, grad_out):
        before = {n: p.grad.copy() for n, p in self.named_parameters()}
        grad_x = backward(self, grad_out)
        for name, param in self.named_parameters():
            if self.error == name:
                param.grad = before[name] + (param.grad - before[name]) * (1 + relative)
        return grad_x * (1 + relative) if self.error == "input" else grad_x
    return planted


def test_checked_twice_and_against_a_used_torch_module_it_passes(x):
    """Stale gradients on either side, from an earlier call or an earlier backward, change
    nothing: both sides start from zero (scratch from its prefilled values)."""
    torch.manual_seed(0)
    theirs = TorchScale(4)
    ours = Scale(4)
    theirs(torch.from_numpy(x).float()).sum().backward()        # a torch module used before
    ours.weight.grad[...] = 7.0                                 # and a scratch one
    assert_parity(ours, theirs, x)
    assert_parity(ours, theirs, x)
    assert_parity(Scale(4), theirs, x)


def test_the_callers_modules_are_left_as_they_were(x):
    torch.manual_seed(0)
    theirs, ours = TorchScale(4), Scale(4)
    ours.to(np.float32)
    weight, grad = ours.weight.data.copy(), ours.weight.grad.copy()
    torch_weight = theirs.weight.detach().clone()
    result = assert_parity(ours, theirs, x)
    assert ours.weight.dtype == np.float32 and theirs.weight.dtype == torch.float32
    np.testing.assert_array_equal(ours.weight.data, weight)          # torch's weights went to a copy
    np.testing.assert_array_equal(ours.weight.grad, grad)
    assert ours.cache is None and theirs.weight.grad is None
    assert torch.equal(theirs.weight, torch_weight)
    assert result["scratch"] is not ours and result["scratch"].weight.dtype == np.float64


# -- the README's snippet and the plugin, outside the repository ------------------------------
def readme_snippet() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Check your own layer", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_snippet_runs_outside_the_repository(tmp_path):
    """After the README's install, in any folder: the imports resolve to the installed
    packages and every assert in the snippet passes."""
    (tmp_path / "check_my_layer.py").write_text(readme_snippet(), encoding="utf-8")
    result = subprocess.run([sys.executable, "check_my_layer.py"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300, env=_outside_env())
    assert result.returncode == 0, result.stderr[-3000:]


def test_the_plugin_serves_a_users_suite(tmp_path):
    """A user's conftest.py names the plugin; its fixtures run a test in both tiers."""
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["parity_tests.plugin"]\n')
    (tmp_path / "test_mine.py").write_text(
        "from torch import nn\n"
        "from parity_tests import assert_parity\n"
        "from scratch.linear import Linear\n\n"
        "def test_linear(parity_dtype, parity_rng, parity_torch_seed):\n"
        "    assert_parity(Linear(5, 3), nn.Linear(5, 3), parity_rng.standard_normal((4, 5)),\n"
        "                  dtype=parity_dtype)\n")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300, env=_outside_env())
    assert result.returncode == 0, result.stdout[-3000:]
    assert "2 passed" in result.stdout


def _outside_env() -> dict:
    """The environment without the repository on sys.path (pytest's pythonpath adds it)."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONSAFEPATH"] = "1"
    return env
