"""train.py's loss: the twins train on torch's label-smoothed cross-entropy and report the
plain one on the test set (--label-smoothing; run/recipe.py says why the default smooths).

A short float64 run of each twin, read back from what it wrote into ``tmp_path``.
"""

import json

import pytest
import torch

import train
from parity_tests.helpers import assert_close
from run import plots, recipe, twins

pytestmark = pytest.mark.usefixtures("restore_torch_settings")


@pytest.fixture(autouse=True)
def _no_plots(monkeypatch):
    monkeypatch.setattr(plots, "draw", lambda *args, **kwargs: None)


def run(argv, mnist_root, out) -> dict:
    assert train.main([*argv, "--data-dir", mnist_root, "--out", str(out)]) == 0
    return json.loads((out / "metrics.json").read_text())


@pytest.mark.parametrize("impl", ["torch", "scratch"])
def test_the_twins_train_on_the_smoothed_loss_and_test_on_the_plain_one(impl, mnist_root, tmp_path):
    """The first step's loss is torch's cross-entropy with label_smoothing, computed here from
    the initial weights; the test loss is the plain cross-entropy of the final weights."""
    smoothing = 0.2
    argv = ["--impl", impl, "--dtype", "float64", "--limit-train", "160", "--batch-size", "16",
            "--epochs", "1", "--limit-test", "100", "--label-smoothing", str(smoothing)]
    m = run(argv, mnist_root, tmp_path / "run")
    data = recipe.load_data("mnist", mnist_root, "float64", limit_train=160, limit_test=100)
    torch.manual_seed(0)
    net = twins.TorchNet().double()
    idx = torch.from_numpy(recipe.epoch_order(0, 0, 160)[:16])
    x, y = torch.from_numpy(data.x_train)[idx], torch.from_numpy(data.y_train)[idx]
    with torch.no_grad():
        logits = net(x)
    expected = torch.nn.functional.cross_entropy(logits, y, label_smoothing=smoothing)
    assert_close(m["steps"][f"loss_{impl}"][0], float(expected), "first loss, smoothed")
    assert abs(float(expected) - float(torch.nn.functional.cross_entropy(logits, y))) > 1e-3

    final = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["model"]
    net.load_state_dict(final)
    with torch.no_grad():
        logits = net(torch.from_numpy(data.x_test))
    plain = torch.nn.functional.cross_entropy(logits, torch.from_numpy(data.y_test))
    assert_close(m["epochs"][-1]["twins"][impl]["test_loss"], float(plain), "test loss, plain")
