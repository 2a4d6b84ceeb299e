"""Shared fixtures: the CUDA skip, a seeded generator, the MNIST root, one torch thread."""

from __future__ import annotations

import os

# Before torch and NumPy load: sleeping (not spinning) OpenMP waits, as train.py sets them, so
# the suite keeps its speed beside any other busy process on a small machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import pytest
import torch


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="no CUDA device on this machine")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """The parity suite runs tiny tensors: torch's intra-op threads would only spin against
    each other (up to 25× slower per call on a busy 2-core machine). Tests that time or train
    at full size set their own thread count."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)

@pytest.fixture
def restore_torch_settings():
    """train.py sets torch's global switches for its process (threads, deterministic
    kernels); the modules that run it in-process put them back for the others."""
    import torch

    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    yield
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def mnist_root(tmp_path_factory) -> str:
    """A root folder holding MNIST/raw/ with the four original files.

    CI copies them into ./data/MNIST/raw/. On a developer's machine without them, the files
    beside the checkout (../shared/data/mnist, where this workplace keeps them) are copied
    into a temporary root. Without either the test is skipped: the suite never downloads.
    """
    import shutil
    from pathlib import Path

    names = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    repo = Path(__file__).resolve().parent.parent
    local = repo / "data"
    if all((local / "MNIST" / "raw" / n).exists() for n in names):
        return str(local)
    shared = repo.parent / "shared" / "data" / "mnist"
    if all((shared / n).exists() for n in names):
        root = tmp_path_factory.mktemp("mnist")
        (root / "MNIST" / "raw").mkdir(parents=True)
        for n in names:
            shutil.copy(shared / n, root / "MNIST" / "raw" / n)
        return str(root)
    pytest.skip("MNIST files not found in ./data/MNIST/raw/")
