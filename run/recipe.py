"""The recipe both twins follow: epochs, batch size, optimizer, schedule, loss, batch order, data.

Chosen for the seconds to 99.0 % test accuracy, at every seed. Measured with the torch twin on
a 2-core AMD EPYC over seeds 0–4 (test accuracy after the last epoch, the lowest first; Adam
under a one-cycle schedule throughout):

    epochs  batch  peak lr  label smoothing
    1       64     0.01     0.1       99.17–99.33 %   the recipe: 938 steps
    1       64     0.01     0.05      99.16–99.32 %
    1       64     0.01     0.2       99.17–99.29 %
    1       64     0.02     0.1       99.12–99.23 %
    1       64     0.005    0.1       99.10–99.27 %
    1       128    0.01     0.1       99.09–99.21 %
    1       128    0.02     0.1       99.13–99.23 %   fewer seconds for the torch twin, less margin
    1       256    0.01     0.1       98.95–98.99 %   below 99.0 at every seed
    1       64     0.01     0         98.95–99.14 %   below 99.0 at some seed
    1       128    0.01     0         98.94–99.01 %
    2       256    0.01     0         99.14–99.25 %   the earlier recipe: 470 steps of 256, twice the images

Label smoothing (Szegedy et al., "Rethinking the Inception Architecture", 2016) is what lets one
epoch do. Its target is 0.91 on the label and 0.01 on each other class, so an image already
classified right stops pulling its logits apart once the gap fits that target, where the plain
one-hot target asks for an ever larger gap (docs/cross_entropy.md).
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

import scratch.data
import torch_ref.data
from scratch._threads import set_threads as scratch_conv_threads
from scratch.augment import RandomAffine

EPOCHS = 1
BATCH_SIZE = 64
LR = {"adam": 1e-2, "sgd": 0.1}      # the one-cycle peak; it starts 25× lower, ends 2.5·10⁵× lower
LABEL_SMOOTHING = 0.1                # --label-smoothing: the training loss's; the test loss is plain
EVAL_BATCH_SIZE = 1000
LOCKSTEP_TOLERANCE = 1e-9            # "the twins agree": relative loss difference in float64
AUGMENT = {"degrees": 10, "translate": (0.1, 0.1), "scale": (0.9, 1.1)}   # --augment
TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def make_optimizer(optim, params, args):
    """torch.optim or scratch.optim: the same call builds either twin's optimizer."""
    if args.optimizer == "sgd":
        return optim.SGD(params, lr=args.lr, momentum=0.9, nesterov=True)
    return optim.Adam(params, lr=args.lr)


def make_scheduler(lr_scheduler, optimizer, args, total_steps: int, steps_done: int):
    """The one-cycle schedule, stepped once per batch. A resumed run rebuilds it at step
    ``steps_done``: the rates are a function of the step (and of the optimizer's groups, which
    the checkpoint restored), so nothing else about the schedule needs saving."""
    return lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, total_steps=total_steps,
                                   last_epoch=steps_done - 1)


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    return math.ceil(n_train / batch_size)


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The order of the training images in epoch ``epoch`` (from 0): the same for both twins,
    on every device, and recomputable from (seed, epoch) alone, which is what lets --resume
    pick up in the middle of an epoch."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def augment(data: Data, idx: np.ndarray, seed: int, epoch: int, batch: int) -> np.ndarray:
    """The batch x_train[idx], each image warped by its own RandomAffine draw; the draws come
    from (seed, epoch, batch) alone, so both twins and a resumed run see the same images. What
    the warp uncovers is filled with the background, a black pixel normalised."""
    info = data.info
    warp = RandomAffine(**AUGMENT, fill=-info.mean / info.std,
                        generator=np.random.default_rng([seed, epoch, batch]))
    return warp(data.x_train[idx])


def pick_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def setup_torch(device: torch.device, threads: int | None = None) -> None:
    """Same seed, same numbers: deterministic kernels, and a thread count that does not depend
    on the load (torch's sums split differently with another count, in the last bits).

    ``threads`` (default: every core this process may use) goes to torch's own pool
    (torch.set_num_threads) and to NumPy's BLAS (threadpoolctl, at run time); the scratch
    twin's training step cuts its batch into as many shares (run/twins.py). Measured over
    the default run on an idle 2-core AMD EPYC and an idle 2-core Intel Xeon, the torch twin
    trains fastest with every core (one thread: 1.1–1.6× slower on the AMD machine, 1.17–1.65× on
    the Intel one) and with OpenMP's default waiting (spin a little, then sleep;
    OMP_WAIT_POLICY=PASSIVE: 1.15–1.7× slower on the AMD machine; on the Intel one it cost 25 %
    idle and 3× beside another process, issue 14). Beside one busy process on the AMD machine
    one thread was 2.6–2.9× faster than every core: pass --threads 1 there (docs/benchmarks.md).
    """
    threads = threads or cores()
    torch.set_num_threads(threads)
    threadpool_limits(threads, user_api="blas")
    scratch_conv_threads(threads)  # the scratch convolutions' own split of the batch
    if device.type == "cpu":
        torch.use_deterministic_algorithms(True)
    else:
        # On CUDA, use_deterministic_algorithms(True) refuses nll_loss; cuDNN's deterministic
        # convolutions are what matters here (max-pool 2×2 stride 2 windows do not overlap, so
        # its backward adds no two values into one place). TF32 off: float32 means float32.
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False


# -- the data: one normalised array in memory, shared by both twins --------------------------
@dataclass
class Data:
    """Normalised images (N, 1, 28, 28) and labels (N,) of both splits."""
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    test_images: np.ndarray              # uint8 (N, 28, 28), for the plots
    info: scratch.data.DatasetInfo


def load_data(name: str, data_dir: Path, dtype: str, limit_train: int | None = None,
              limit_test: int | None = None) -> Data:
    """Both splits through torchvision (torch_ref/data.py), which downloads what is missing;
    a missing or broken file ends the run with the twins' message, which names it."""
    try:
        (x_train, y_train), (x_test, y_test) = (_read(name, Path(data_dir), split)
                                                for split in (True, False))
    except scratch.data.DatasetError as error:
        raise SystemExit(f"train.py: could not load {name} from {data_dir}/:\n  {error}") from None
    x_train, y_train = x_train[:limit_train], y_train[:limit_train]
    x_test, y_test = x_test[:limit_test], y_test[:limit_test]
    return Data(scratch.data.normalise(x_train, name, dtype), y_train,
                scratch.data.normalise(x_test, name, dtype), y_test, x_test,
                scratch.data.DATASETS[name])


@functools.lru_cache(maxsize=4)
def _read(name: str, data_dir: Path, train: bool) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images (N, 28, 28) and int64 labels (N,) as torchvision reads them, once per process."""
    return torch_ref.data.load_mnist(data_dir, train=train, dataset=name)
