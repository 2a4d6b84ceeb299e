"""The bench command's building blocks still run (a smoke test, not a timing: benchmarks
measure speed, tests never do). Each measurement is one subprocess printing one JSON line."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def worker(*args: str) -> dict:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "workers.py"), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("impl", ["scratch", "torch"])
def test_training_step_worker_runs(impl, mnist_root):
    result = worker("step", "--impl", impl, "--batch", "8", "--steps", "2", "--warmup", "1",
                    "--data-dir", mnist_root)
    assert result["impl"] == impl and len(result["ms"]) == 2
    assert all(ms > 0 for ms in result["ms"]) and result["rss_peak_mb"] > 0


def test_layers_worker_runs():
    result = worker("layers", "--batch", "2", "--repeats", "1", "--naive-batch", "1")
    names = [row["name"] for row in result["rows"]]
    assert any(name.startswith("conv1") for name in names)
    assert any(name.startswith("pool1") for name in names)
    assert all(row["scratch_ms"] > 0 and row["torch_ms"] > 0 for row in result["rows"])


def test_peak_worker_runs():
    result = worker("peak", "--n", "64", "--repeats", "1")
    assert set(result["gflops"]) == {"numpy", "torch"} and all(v > 0 for v in result["gflops"].values())


def test_step_flops_by_hand():
    """Batch 1 of the default Net, by hand: conv1 2·16·24²·25, conv2 2·32·8²·16·25, fc1 2·512·128,
    fc2 2·128·10; the backward doubles all but conv1, whose input gradient training skips."""
    # bench/run.py by its path: the name "run" is the run-bookkeeping package (run/)
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)

    forward = 460_800 + 1_638_400 + 131_072 + 2_560
    assert run.step_flops(1) == {"forward": forward, "backward": forward + forward - 460_800,
                                 "step": 3 * forward - 460_800}
    assert run.step_flops(64)["step"] == 64 * run.step_flops(1)["step"]


def test_the_workers_read_mnist_as_torchvision_does(mnist_root):
    """bench/workers.py reads the idx files without torchvision (the scratch processes never
    import torch), all of them or only their first records: the same pixels and labels."""
    import numpy as np

    import scratch.data
    import torch_ref.data
    sys.path.insert(0, str(ROOT / "bench"))
    import workers

    images, labels = torch_ref.data.load_mnist(Path(mnist_root), train=True)
    x, y, x_test, y_test = workers.load_mnist(Path(mnist_root), 100)
    assert x.shape == (100, 1, 28, 28) and x.dtype == np.float32
    np.testing.assert_array_equal(y, labels[:100])
    np.testing.assert_array_equal(x, scratch.data.normalise(images[:100]))       # as train.py
    _, test_labels = torch_ref.data.load_mnist(Path(mnist_root), train=False)
    np.testing.assert_array_equal(y_test, test_labels)
    assert x_test.shape == (10000, 1, 28, 28)
    assert workers.load_mnist(Path(mnist_root), 100, test=False)[2:] == (None, None)


def test_the_header_names_the_blas_kernels(monkeypatch):
    """Which kernels OpenBLAS picked decides its speed and its float32 rounding: the header
    names them, as threadpoolctl reports them, and says nothing where none are reported."""
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    import machine
    import threadpoolctl

    reported = [{"user_api": "openmp", "architecture": None},
                {"user_api": "blas", "internal_api": "openblas", "architecture": "Zen"}]
    monkeypatch.setattr(threadpoolctl, "threadpool_info", lambda: reported)
    numpy_line = next(line for line in machine.describe(torch_too=False) if line.startswith("numpy"))
    assert "(Zen kernels)" in numpy_line
    monkeypatch.setattr(threadpoolctl, "threadpool_info", lambda: reported[:1])
    numpy_line = next(line for line in machine.describe(torch_too=False) if line.startswith("numpy"))
    assert "kernels" not in numpy_line
