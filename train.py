"""Train the MNIST CNN with either twin, or with both in lockstep.

    python train.py                                 # the torch twin (torch_ref/cnn.py), CUDA if present
    python train.py --impl scratch                  # the NumPy twin (scratch/cnn.py), the same run
    python train.py --impl both --dtype float64     # both, step by step, and how far apart they are
    python train.py --evaluate runs/…/checkpoint.pt --impl both    # the weights travel between twins
    python train.py --resume runs/…/checkpoint.pt   # go on from a checkpoint (or a Ctrl-C)

The two twins are the same network in two languages, so a run with either one is the *same
run*: the torch twin is initialised from the seed and the scratch twin gets a copy of those
weights; both walk the training set in the same order (one NumPy permutation per epoch, from
``np.random.default_rng([seed, epoch])``); both take the same steps of the same optimizer
under the same one-cycle schedule. ``--impl both`` runs them side by side on every batch and
reports how far their losses and, at the end, their parameters drift apart. In float64 the
default run's 1407 losses agree to 5e-12 relative and the final weights to 2e-12. In float32
the twins round differently (1e-7 per operation) and training amplifies that step by step:
beyond 1e-6 after about 30 steps, 1e-3 after about 80, until the two runs part ways (to
equally good networks); the report shows it rather than hiding it.

What a run writes into its folder (``--out``, default ``runs/<impl>-<dataset>-<time>/``):

    checkpoint.pt       {"model", "optimizer", "args", "epoch", "step", ...}, written at every
                        epoch's end and on Ctrl-C, atomically; load with torch.load(weights_only=True)
    metrics.json        every epoch's figures, and every step's loss, accuracy and learning rate
    metrics.csv         one row per epoch (and twin)
    curves.png          loss and accuracy as training goes (and, for both, the twins' difference)
    confusion.png       the test set's confusion matrix
    misclassified.png   test images the network gets wrong

The data: torchvision's MNIST (or FashionMNIST), downloaded into ``--data-dir`` on first use.
Without a network, put the four ``*-ubyte.gz`` files (or them decompressed) into
``<data-dir>/MNIST/raw/`` (or ``<data-dir>/FashionMNIST/raw/``). Debian's package
``dataset-fashion-mnist`` ships Fashion-MNIST recompressed, so that torchvision's checksums of
the .gz files fail: decompress them into that folder (``--help`` and the error message say
how). The whole set is held in memory as one normalised array (188 MB in float32), and
batches are gathered from it by index: no DataLoader, no worker processes.

Where the tutorials go wrong for training: tutorials 000 and 001 train full-batch on their
few points and then report the accuracy on those same points ("Training accuracy"), which
says how well the network memorised, not how well it generalises. Here every epoch walks the
training images in its own seeded order, in mini-batches, and the accuracy reported is on
the 10,000 test images the network never trains on.
"""

from __future__ import annotations

import os

# One BLAS thread for NumPy, set before NumPy loads OpenBLAS. The scratch twin's products are
# small (at most 32 × 8192 by 8192 × 400), and OpenBLAS's busy-waiting second thread costs more
# than it saves. Measured on the 2-core machine: that product takes 8.2 ms with two threads and
# 2.2 ms with one; a whole scratch step 30 ms against 26 ms on an idle machine, 122 ms against
# 36 ms beside one other busy process; and in --impl both its threads and torch's fight over
# the two cores (a float64 lockstep test ran 6× slower).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# torch's OpenMP threads (one per core) sleep instead of spinning while they wait for work,
# set before torch loads OpenMP. Spinning wins a little on an idle machine and loses badly
# beside any other busy process, since a spinning thread holds a core the other one needs.
# Measured per training step on the 2-core machine, idle / beside one busy process: spinning
# 14 / 198 ms, sleeping 17 / 30 ms, one thread 21 / 18 ms. OMP_WAIT_POLICY=ACTIVE restores it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import csv
import functools
import json
import math
import signal
import sys
import time
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.error import URLError

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from tqdm import tqdm

import scratch.data
import scratch.lr_scheduler
import scratch.optim
from scratch.cnn import Net as ScratchNet
from scratch.losses import CrossEntropyLoss
from torch_ref.cnn import Net as TorchNet

# -- the recipe -------------------------------------------------------------------------------
# Chosen for accuracy per second on a 2-core CPU (see scratch/cnn.py). Test accuracy of the torch
# twin over seeds 0–4: three epochs at peak lr 0.01 give 99.32–99.39 %; two epochs give
# 99.15–99.29 % (lr 0.01) or 99.04–99.35 % (lr 0.005), too close to 99 % to promise it.
# SGD (Nesterov, peak 0.1, three epochs) gives 99.18–99.25 % over seeds 0–2.
EPOCHS = 3
BATCH_SIZE = 128
LR = {"adam": 1e-2, "sgd": 0.1}          # the one-cycle peak; it starts 25× lower, ends 2.5·10⁵× lower
EVAL_BATCH_SIZE = 1000
LOCKSTEP_TOLERANCE = 1e-9                # "the twins agree": relative loss difference in float64

TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64}


@dataclass(frozen=True)
class Dataset:
    folder: str                          # torchvision's folder under --data-dir
    source: type
    mean: float                          # of the training pixels, scaled to [0, 1]
    std: float
    classes: tuple[str, ...]


DATASETS = {
    "mnist": Dataset("MNIST", torchvision.datasets.MNIST, 0.1307, 0.3081, tuple("0123456789")),
    "fashion-mnist": Dataset("FashionMNIST", torchvision.datasets.FashionMNIST, 0.2860, 0.3530,
                             ("T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                              "Sneaker", "Bag", "Boot")),
}
RAW_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
FASHION_DEB = "/usr/share/datasets/fashion-mnist"     # Debian's dataset-fashion-mnist, only named in hints
# What --resume takes from the checkpoint; the others (--device, --data-dir, --out) may change.
RUN_SETTINGS = ("impl", "dataset", "epochs", "batch_size", "lr", "optimizer", "seed", "dtype",
                "limit_train", "limit_test")


# -- command line ------------------------------------------------------------------------------
def _checked(kind, ok, wanted: str):
    """An argparse ``type``: parse with ``kind``, refuse what ``ok`` rejects, say what was wanted."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text}")
        return value
    return parse


positive_int = _checked(int, lambda v: v >= 1, "a positive integer")
non_negative_int = _checked(int, lambda v: v >= 0, "an integer ≥ 0")
positive_float = _checked(float, lambda v: v > 0 and math.isfinite(v), "a positive finite number")


def build_parser(suppress_defaults: bool = False) -> argparse.ArgumentParser:
    """The command line. ``suppress_defaults`` leaves out the flags not given, so --resume can
    tell which ones the user typed."""
    parser = argparse.ArgumentParser(
        prog="train.py",
        description="Train the MNIST CNN with the torch twin, the from-scratch NumPy twin, or both "
                    "in lockstep from the same weights on the same batches.",
        epilog="Data: torchvision downloads MNIST into <data-dir>/MNIST/raw/. Offline, put the four "
               "files " + ", ".join(RAW_FILES) + " there yourself (or them decompressed, without .gz). "
               "For Fashion-MNIST the folder is <data-dir>/FashionMNIST/raw/; on Debian/Ubuntu "
               f"`apt-get install dataset-fashion-mnist` puts the files in {FASHION_DEB}/, recompressed "
               "so that torchvision's checksums fail: decompress them into that folder with gunzip -c.",
        argument_default=argparse.SUPPRESS if suppress_defaults else None,
    )

    def add(*flags, default, **kwargs):
        if not suppress_defaults:
            kwargs["default"] = default
        parser.add_argument(*flags, **kwargs)

    add("--impl", default="torch", choices=("torch", "scratch", "both"),
        help="which twin trains: torch (torch_ref/cnn.py), scratch (scratch/cnn.py) or both in "
             "lockstep, reporting their difference at every step (default: torch)")
    add("--epochs", default=EPOCHS, type=positive_int, metavar="N",
        help=f"passes over the training set (default: {EPOCHS})")
    add("--batch-size", default=BATCH_SIZE, type=positive_int, metavar="N",
        help=f"images per training step (default: {BATCH_SIZE})")
    add("--lr", default=None, type=positive_float, metavar="LR",
        help="peak learning rate of the one-cycle schedule (default: "
             f"{LR['adam']} for adam, {LR['sgd']} for sgd)")
    add("--optimizer", default="adam", choices=("adam", "sgd"),
        help="adam, or sgd with Nesterov momentum 0.9 (default: adam)")
    add("--seed", default=0, type=non_negative_int, metavar="N",
        help="seeds the initial weights and the order of the batches (default: 0)")
    add("--device", default="auto", choices=("auto", "cpu", "cuda"),
        help="where the torch twin runs; auto takes CUDA when there is a GPU; the scratch twin "
             "always runs on the CPU (default: auto)")
    add("--dtype", default="float32", choices=("float32", "float64"),
        help="precision of weights and arithmetic, for both twins (default: float32)")
    add("--limit-train", default=None, type=positive_int, metavar="N",
        help="train on the first N training images only (default: all 60000)")
    add("--limit-test", default=None, type=positive_int, metavar="N",
        help="evaluate on the first N test images only (default: all 10000)")
    add("--out", default=None, type=Path, metavar="DIR",
        help="folder for checkpoint, metrics and plots (default: runs/<impl>-<dataset>-<time>/, or "
             "the checkpoint's folder with --resume)")
    add("--resume", default=None, type=Path, metavar="CKPT",
        help="continue the run saved in CKPT with its own settings, exactly where it stopped "
             "(default: start afresh)")
    add("--evaluate", default=None, type=Path, metavar="CKPT",
        help="only evaluate the weights in CKPT on the test set with --impl; with --impl both, "
             "count the test images on which the twins' predictions differ (default: train)")
    add("--dry-run", default=False, action="store_true",
        help="check the setup: two training steps and one test batch, nothing written "
             "(default: off)")
    add("--dataset", default="mnist", choices=tuple(DATASETS),
        help="mnist, or fashion-mnist through the same code (default: mnist)")
    add("--data-dir", default=Path("data"), type=Path, metavar="DIR",
        help="where torchvision keeps the data sets (default: ./data)")
    return parser


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, dict | None]:
    """The arguments, checked, and the checkpoint --resume names (loaded), if any.

    Errors exit with status 2 and a usage line, as argparse's own do.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("argument --device: cuda was asked for, but torch sees no CUDA device "
                     f"(torch {torch.__version__}, built for CUDA {torch.version.cuda}); use --device cpu")
    if args.resume is not None and args.evaluate is not None:
        parser.error("--resume and --evaluate do not go together")
    for flag in ("resume", "evaluate"):
        path = getattr(args, flag)
        if path is not None and not path.is_file():
            parser.error(f"argument --{flag}: checkpoint {str(path)!r} does not exist")
    checkpoint = None
    path = args.resume or args.evaluate
    if path is not None:
        try:
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:      # any unreadable file is the same mistake to the user
            parser.error(f"argument --{'resume' if args.resume else 'evaluate'}: cannot read "
                         f"{str(path)!r} as a checkpoint ({type(error).__name__}: {error})")
        if not isinstance(checkpoint, dict) or "model" not in checkpoint or "args" not in checkpoint:
            parser.error(f"{str(path)!r} is not a checkpoint written by train.py")
        mismatch = architecture_mismatch(checkpoint["model"])
        if mismatch:
            parser.error(f"argument --{'resume' if args.resume else 'evaluate'}: {str(path)!r} holds "
                         f"another architecture than Net: {mismatch}")
    if args.resume is not None:
        given = vars(build_parser(suppress_defaults=True).parse_args(argv))
        saved = checkpoint["args"]
        for key in RUN_SETTINGS:
            if key in given and given[key] != saved[key]:
                flag = "--" + key.replace("_", "-")
                parser.error(f"--resume continues the saved run with its own settings: {flag} "
                             f"{given[key]} differs from the checkpoint's {saved[key]}")
        for key in RUN_SETTINGS:
            setattr(args, key, saved[key])
        if args.out is None:
            args.out = args.resume.parent
    if args.lr is None:
        args.lr = LR[args.optimizer]
    return args, checkpoint


def architecture_mismatch(model_state: dict) -> str:
    """'' when a checkpoint's weights fit Net (any of the data sets' class counts), else the
    missing, unexpected and wrongly shaped keys, named."""
    expected = {k: tuple(v.shape) for k, v in TorchNet().state_dict().items()}
    found = {k: tuple(getattr(v, "shape", ())) for k, v in model_state.items()}
    problems = []
    if missing := [k for k in expected if k not in found]:
        problems.append(f"missing {missing}")
    if unexpected := [k for k in found if k not in expected]:
        problems.append(f"unexpected {unexpected}")
    shapes = [f"{k} is {found[k]}, Net has {expected[k]}" for k in expected
              if k in found and found[k] != expected[k]]
    if shapes:
        problems.append("shapes differ: " + "; ".join(shapes))
    return "; ".join(problems)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def setup_torch(device: torch.device) -> None:
    """Same seed, same numbers: deterministic kernels, one thread per core."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    torch.set_num_threads(max(1, cores or 1))
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


# -- data --------------------------------------------------------------------------------------
@dataclass
class Data:
    """The whole data set in memory: normalised images (N, 1, 28, 28) and labels (N,)."""
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    test_images: np.ndarray              # uint8 (N, 28, 28), for the plots
    spec: Dataset


def load_data(name: str, data_dir: Path, dtype: str, limit_train: int | None = None,
              limit_test: int | None = None) -> Data:
    spec = DATASETS[name]
    try:
        (x_train, y_train), (x_test, y_test) = (_read(spec, data_dir, split) for split in (True, False))
    except (RuntimeError, OSError, URLError, EOFError, zlib.error, AssertionError, ValueError) as error:
        raw = data_dir / spec.folder / "raw"
        hint = ""
        if name == "fashion-mnist":
            hint = ("\nOn Debian/Ubuntu, the package dataset-fashion-mnist has them, recompressed (so "
                    "torchvision's checksums of the .gz files fail: decompress them):\n"
                    f"  sudo apt-get install dataset-fashion-mnist && mkdir -p {raw} && "
                    f"for f in {FASHION_DEB}/*.gz; do gunzip -c $f > {raw}/$(basename $f .gz); done")
        reason = " ".join(line.strip() for line in str(error).strip().splitlines())
        diagnosis = _diagnose(name, data_dir)
        raise SystemExit(
            f"train.py: could not load {spec.folder} from {data_dir}/ and could not download it:\n"
            f"  {reason}\n"
            + (f"  {diagnosis}\n" if diagnosis else "") +
            f"Put the four files {', '.join(RAW_FILES)} (or the same without .gz, decompressed) "
            f"into {raw}/ and run again, or choose another folder with --data-dir.{hint}"
        ) from None
    x_train, y_train = x_train[:limit_train], y_train[:limit_train]
    x_test, y_test = x_test[:limit_test], y_test[:limit_test]
    return Data(normalise(x_train, spec, dtype), y_train.astype(np.int64),
                normalise(x_test, spec, dtype), y_test.astype(np.int64), x_test, spec)


def _diagnose(name: str, data_dir: Path) -> str | None:
    """What is wrong with the files on disk, said by the from-scratch IDX reader (which names
    the file, what its header promised and what it found), where torchvision's own error on a
    truncated or corrupted file names none. None when the files there read fine."""
    for train in (True, False):
        try:
            scratch.data.load_mnist(data_dir, train=train, dataset=name)
        except scratch.data.DatasetNotFoundError:
            return None                      # missing files: the message below says where they go
        except scratch.data.DatasetError as problem:
            return str(problem)
    return None


@functools.lru_cache(maxsize=4)
def _read(spec: Dataset, data_dir: Path, train: bool) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images (N, 28, 28) and labels (N,) as torchvision reads them (once per process)."""
    dataset = spec.source(data_dir, train=train, download=True)
    return dataset.data.numpy(), dataset.targets.numpy()


def normalise(images: np.ndarray, spec: Dataset, dtype: str) -> np.ndarray:
    """uint8 pixels (N, 28, 28) -> (p/255 − mean)/std as (N, 1, 28, 28), computed once."""
    x = images.astype(dtype)
    x /= 255                                                # in place: no second 188 MB copy
    x -= spec.mean
    x /= spec.std
    return x[:, None]                                       # (N, 1, 28, 28)


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The order of the training images in epoch ``epoch`` (from 0): the same for both twins,
    on every device, and recomputable from (seed, epoch) alone, which is what lets --resume
    pick up in the middle of an epoch."""
    return np.random.default_rng([seed, epoch]).permutation(n)


# -- the two twins -----------------------------------------------------------------------------
def make_optimizer(optim, params, args: argparse.Namespace):
    """torch.optim or scratch.optim: the same call builds either twin's optimizer."""
    if args.optimizer == "sgd":
        return optim.SGD(params, lr=args.lr, momentum=0.9, nesterov=True)
    return optim.Adam(params, lr=args.lr)


def make_scheduler(lr_scheduler, optimizer, args: argparse.Namespace, total_steps: int, steps_done: int):
    """The one-cycle schedule, stepped once per batch. A resumed run rebuilds it at step
    ``steps_done``: the rates are a function of the step (and the optimizer's groups, which
    the checkpoint restored), so nothing else about the schedule needs saving."""
    if steps_done == 0:
        return lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, total_steps=total_steps)
    return lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, total_steps=total_steps,
                                   last_epoch=steps_done - 1)


class TorchTwin:
    """torch_ref/cnn.py's Net with torch.optim: autograd does the backward."""

    name = "torch"

    def __init__(self, net: TorchNet, args: argparse.Namespace, device: torch.device):
        self.device = device
        self.model = net.to(device=device, dtype=TORCH_DTYPES[args.dtype])
        self.optimizer = make_optimizer(torch.optim, self.model.parameters(), args)
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.scheduler = None

    def set_data(self, data: Data) -> None:
        """The data set on the twin's device, once (torch.from_numpy shares memory on the CPU)."""
        self.x_train = torch.from_numpy(data.x_train).to(self.device)
        self.y_train = torch.from_numpy(data.y_train).to(self.device)
        self.x_test = torch.from_numpy(data.x_test).to(self.device)
        self.y_test = torch.from_numpy(data.y_test).to(self.device)

    def start(self, args: argparse.Namespace, total_steps: int, steps_done: int) -> None:
        self.scheduler = make_scheduler(torch.optim.lr_scheduler, self.optimizer, args, total_steps,
                                        steps_done)

    def begin_epoch(self, order: np.ndarray) -> None:
        # One copy per epoch; every batch is then gathered on the device.
        self.order = torch.from_numpy(order).to(self.device)

    def step(self, start: int, stop: int):
        """One training step on batch order[start:stop]: (loss, correct), as device tensors."""
        idx = self.order[start:stop]
        x, y = self.x_train[idx], self.y_train[idx]
        self.optimizer.zero_grad()
        out = self.model(x)
        loss = self.loss_fn(out, y)
        loss.backward()
        self.optimizer.step()
        self.scheduler.step()
        return loss.detach(), (out.argmax(1) == y).sum()

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    @torch.no_grad()
    def evaluate(self) -> tuple[float, np.ndarray]:
        """(mean test loss, logits as float64 NumPy) with the model in eval mode."""
        self.model.eval()
        logits = torch.cat([self.model(self.x_test[i:i + EVAL_BATCH_SIZE])
                            for i in range(0, len(self.x_test), EVAL_BATCH_SIZE)])
        loss = F.cross_entropy(logits, self.y_test)
        self.model.train()
        return float(loss), logits.double().cpu().numpy()

    def state(self) -> dict:
        return {"model": _to_cpu(self.model.state_dict()), "optimizer": _to_cpu(self.optimizer.state_dict())}

    def load(self, state: dict, optimizer: bool = True) -> None:
        self.model.load_state_dict(state["model"])
        if optimizer:
            self.optimizer.load_state_dict(state["optimizer"])

    def parameters(self) -> dict[str, np.ndarray]:
        return {k: v.detach().double().cpu().numpy() for k, v in self.model.state_dict().items()}


class ScratchTwin:
    """scratch/cnn.py's Net with scratch.optim: its own backward, by hand."""

    name = "scratch"

    def __init__(self, net: ScratchNet, args: argparse.Namespace):
        self.model = net.to(args.dtype)
        self.optimizer = make_optimizer(scratch.optim, self.model.parameters(), args)
        self.loss_fn = CrossEntropyLoss()
        self.scheduler = None

    def set_data(self, data: Data) -> None:
        self.x_train, self.y_train = data.x_train, data.y_train
        self.x_test, self.y_test = data.x_test, data.y_test

    def start(self, args: argparse.Namespace, total_steps: int, steps_done: int) -> None:
        self.scheduler = make_scheduler(scratch.lr_scheduler, self.optimizer, args, total_steps,
                                        steps_done)

    def begin_epoch(self, order: np.ndarray) -> None:
        self.order = order

    def step(self, start: int, stop: int):
        """One training step on batch order[start:stop]: (loss, correct)."""
        idx = self.order[start:stop]
        x, y = self.x_train[idx], self.y_train[idx]
        self.optimizer.zero_grad()
        out = self.model(x)
        loss = self.loss_fn(out, y)
        self.model.backward(self.loss_fn.backward(), need_input_grad=False)   # as torch: images need no grad
        self.optimizer.step()
        self.scheduler.step()
        return float(loss), int((out.argmax(1) == y).sum())

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def evaluate(self) -> tuple[float, np.ndarray]:
        self.model.eval()
        logits = np.concatenate([self.model(self.x_test[i:i + EVAL_BATCH_SIZE])
                                 for i in range(0, len(self.x_test), EVAL_BATCH_SIZE)])
        loss = self.loss_fn(logits, self.y_test)
        self.model.train()
        return float(loss), logits.astype(np.float64)

    def state(self) -> dict:
        return {"model": _to_torch(self.model.state_dict()),
                "optimizer": _to_torch(self.optimizer.state_dict())}

    def load(self, state: dict, optimizer: bool = True) -> None:
        self.model.load_state_dict(state["model"])
        if optimizer:
            self.optimizer.load_state_dict(state["optimizer"])

    def parameters(self) -> dict[str, np.ndarray]:
        return {k: v.astype(np.float64) for k, v in self.model.state_dict().items()}


def build_twins(args: argparse.Namespace, device: torch.device) -> list:
    """The twins --impl asks for, from the same initial weights: torch initialises (on the CPU,
    so the weights do not depend on the device) and the scratch twin gets a copy."""
    torch.manual_seed(args.seed)
    net = TorchNet(num_classes=len(DATASETS[args.dataset].classes))
    twins = []
    if args.impl in ("torch", "both"):
        twins.append(TorchTwin(net, args, device))
    if args.impl in ("scratch", "both"):
        scratch_net = ScratchNet(num_classes=len(DATASETS[args.dataset].classes))
        scratch_net.load_state_dict({k: v.detach().cpu().numpy() for k, v in net.state_dict().items()})
        twins.append(ScratchTwin(scratch_net, args))
    return twins


def _to_cpu(obj):
    """A state_dict (nested dicts, lists, tensors) with every tensor copied to the CPU."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().clone()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


def _to_torch(obj):
    """A scratch state_dict as torch would write it: arrays become tensors and NumPy scalars
    Python numbers, so that torch.load(weights_only=True) reads it and torch's twin loads it."""
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(np.array(obj, copy=True))
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {k: _to_torch(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_torch(v) for v in obj)
    return obj


# -- checkpoints and files ---------------------------------------------------------------------
def atomic_write(path: Path, write) -> None:
    """write(temporary path), then rename over ``path``: a crash never leaves half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)


def save_checkpoint(path: Path, twins: list, args: argparse.Namespace, progress: Progress) -> None:
    first = twins[0].state()
    checkpoint = {
        "model": first["model"],                    # the first twin's: torch's when both train
        "optimizer": first["optimizer"],
        "args": _plain_args(args),
        "epoch": progress.epoch,                    # epochs completed
        "batch": progress.batch,                    # batches done in the next, unfinished epoch
        "step": progress.step,                      # optimizer steps in all
        "impl": args.impl,
        "history": progress.history,
        "partial": progress.partial,
    }
    if len(twins) == 2:
        checkpoint["scratch"] = twins[1].state()
    atomic_write(path, lambda tmp: torch.save(checkpoint, tmp))


def _plain_args(args: argparse.Namespace) -> dict:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}


def write_metrics(out: Path, args: argparse.Namespace, history: dict) -> None:
    atomic_write(out / "metrics.json",
                 lambda tmp: tmp.write_text(json.dumps({"args": _plain_args(args), **history}, indent=1)))
    fields = ["epoch", "twin", "train_loss", "train_acc", "test_loss", "test_acc", "seconds", "images_per_s"]

    def write_csv(tmp: Path) -> None:
        with tmp.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            for record in history["epochs"]:
                for twin, figures in record["twins"].items():
                    writer.writerow({"epoch": record["epoch"], "twin": twin,
                                     **{k: figures[k] for k in fields[2:]}})

    atomic_write(out / "metrics.csv", write_csv)


# -- training ----------------------------------------------------------------------------------
@dataclass
class Progress:
    """Where a run is; saved in every checkpoint, so --resume goes on exactly from there."""
    epoch: int = 0                  # epochs completed
    batch: int = 0                  # batches done in the current epoch
    step: int = 0                   # optimizer steps in all
    history: dict = field(default_factory=lambda: {"epochs": [], "steps": {}})
    partial: dict = field(default_factory=dict)   # running sums of the unfinished epoch


class GracefulInterrupt:
    """The first Ctrl-C finishes the current step, saves a checkpoint and stops; a second one
    stops at once. Saving only between steps keeps the checkpoint consistent: an optimizer
    interrupted half-way through its parameters could not be resumed exactly."""

    def __enter__(self) -> GracefulInterrupt:
        self.requested = False
        try:
            self.previous = signal.signal(signal.SIGINT, self._handle)
        except ValueError:          # not the main thread: leave Ctrl-C alone
            self.previous = None
        return self

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        tqdm.write("Ctrl-C: finishing this step, then saving a checkpoint (Ctrl-C again stops at once)")

    def __exit__(self, *exc) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


class NonFiniteLoss(Exception):
    pass


def lockstep_report_steps():
    """1, 2, 5, 10, 20, 50, … : the steps at which --impl both prints the twins' losses."""
    scale = 1
    while True:
        for m in (1, 2, 5):
            yield m * scale
        scale *= 10


def train_epoch(twins: list, args: argparse.Namespace, progress: Progress, n_train: int,
                interrupt: GracefulInterrupt) -> bool:
    """Train one epoch (or its rest); returns False if Ctrl-C stopped it.

    Losses are collected as they come and read in bulk (``flush``), every step on the CPU but
    only every 50 steps on CUDA, so the GPU never waits for the host between steps.
    """
    steps_per_epoch = math.ceil(n_train / args.batch_size)
    order = epoch_order(args.seed, progress.epoch, n_train)
    for twin in twins:
        twin.begin_epoch(order)
    names = [twin.name for twin in twins]
    sums = progress.partial or {"seen": 0, "seconds": 0.0,
                                **{n: {"loss": 0.0, "correct": 0, "seconds": 0.0} for n in names}}
    steps = progress.history["steps"]
    for key in ("step", "epoch", "lr", *[f"{k}_{n}" for n in names for k in ("loss", "acc")]):
        steps.setdefault(key, [])
    if len(twins) == 2:
        steps.setdefault("rel_diff", [])
    on_gpu = any(getattr(twin, "device", torch.device("cpu")).type == "cuda" for twin in twins)
    flush_every = 50 if on_gpu and len(twins) == 1 else 1
    pending = []
    bar = tqdm(total=steps_per_epoch, initial=progress.batch, unit="step", leave=False,
               desc=f"epoch {progress.epoch + 1}/{args.epochs}", dynamic_ncols=True)

    def flush() -> None:
        for step, lr, n, results in pending:
            losses = {name: float(loss) for name, (loss, _) in results.items()}
            for name, loss in losses.items():
                if not math.isfinite(loss):
                    batch = step - progress.epoch * steps_per_epoch
                    raise NonFiniteLoss(f"the {name} twin's loss is {loss} at step {step} "
                                        f"(epoch {progress.epoch + 1}, batch {batch})")
            steps["step"].append(step)
            steps["epoch"].append(progress.epoch + 1)
            steps["lr"].append(lr)
            sums["seen"] += n
            for name, (_, correct) in results.items():
                correct = int(correct)
                sums[name]["loss"] += losses[name] * n
                sums[name]["correct"] += correct
                steps[f"loss_{name}"].append(losses[name])
                steps[f"acc_{name}"].append(correct / n)
            if len(twins) == 2:
                a, b = losses[names[0]], losses[names[1]]
                rel = abs(a - b) / max(abs(a), np.finfo(np.float64).tiny)
                steps["rel_diff"].append(rel)
                if step in report_at or step == total_steps:
                    tqdm.write(f"  step {step:>6}  loss {names[0]} {a:.15f}  {names[1]} {b:.15f}  "
                               f"|Δ|/loss {rel:.1e}")
        pending.clear()
        first = names[0]
        postfix = {"loss": f"{sums[first]['loss'] / max(sums['seen'], 1):.4f}",
                   "acc": f"{100 * sums[first]['correct'] / max(sums['seen'], 1):.2f}%"}
        if len(twins) == 2 and steps["rel_diff"]:
            postfix["Δloss"] = f"{steps['rel_diff'][-1]:.1e}"
        bar.set_postfix(postfix, refresh=False)

    total_steps = args.epochs * steps_per_epoch
    report_at = set()
    if len(twins) == 2:
        gen = lockstep_report_steps()
        while (s := next(gen)) <= total_steps:
            report_at.add(s)
    started = time.perf_counter()
    try:
        for batch in range(progress.batch, steps_per_epoch):
            start, stop = batch * args.batch_size, min((batch + 1) * args.batch_size, n_train)
            lr = twins[0].lr
            results = {}
            for twin in twins:          # each twin's own time, to compare them in --impl both
                started_step = time.perf_counter()
                results[twin.name] = twin.step(start, stop)
                sums[twin.name]["seconds"] += time.perf_counter() - started_step
            progress.step += 1
            progress.batch = batch + 1
            pending.append((progress.step, lr, stop - start, results))
            if len(pending) >= flush_every or progress.batch == steps_per_epoch:
                flush()
            bar.update(1)
            if interrupt.requested:
                flush()
                return False
        return True
    finally:
        if on_gpu:
            torch.cuda.synchronize()
        sums["seconds"] += time.perf_counter() - started
        progress.partial = sums
        bar.close()


def evaluate_twins(twins: list, data: Data) -> dict[str, dict]:
    """Each twin's test loss, accuracy and logits."""
    results = {}
    for twin in twins:
        loss, logits = twin.evaluate()
        correct = int((logits.argmax(1) == data.y_test).sum())
        results[twin.name] = {"loss": loss, "acc": correct / len(data.y_test), "correct": correct,
                              "logits": logits}
    return results


def end_epoch(twins: list, data: Data, args: argparse.Namespace, progress: Progress) -> dict:
    """Evaluate, print the epoch's summary line(s) and record them."""
    sums = progress.partial
    tested = evaluate_twins(twins, data)
    record = {"epoch": progress.epoch + 1, "twins": {}}
    width = max(len(twin.name) for twin in twins)
    for twin in twins:
        name = twin.name
        # One twin: the epoch's wall time (on CUDA, after the GPU has finished). Both: each
        # twin's own steps (on CUDA the torch twin's then excludes some of the GPU's work).
        seconds = sums["seconds"] if len(twins) == 1 else sums[name]["seconds"]
        figures = {
            "train_loss": sums[name]["loss"] / sums["seen"],
            "train_acc": sums[name]["correct"] / sums["seen"],
            "test_loss": tested[name]["loss"],
            "test_acc": tested[name]["acc"],
            "seconds": seconds,
            "images_per_s": sums["seen"] / seconds,
        }
        record["twins"][name] = figures
        label = f"  {name:<{width}}" if len(twins) == 2 else ""
        print(f"epoch {progress.epoch + 1}/{args.epochs}{label}  "
              f"train loss {figures['train_loss']:.4f}  acc {100 * figures['train_acc']:.2f}%  │  "
              f"test loss {figures['test_loss']:.4f}  acc {100 * figures['test_acc']:.2f}%  │  "
              f"{figures['seconds']:.1f} s  {figures['images_per_s']:.0f} img/s", flush=True)
    progress.history["epochs"].append(record)
    progress.epoch += 1
    progress.batch = 0
    progress.partial = {}
    return tested


def lockstep_summary(twins: list, progress: Progress, tested: dict, args: argparse.Namespace) -> dict:
    """How far apart the twins ended: losses over every step, parameters, test predictions."""
    rel = np.asarray(progress.history["steps"]["rel_diff"])
    worst = int(rel.argmax())
    first_beyond = {}                       # threshold -> first step whose difference exceeds it
    for threshold in (LOCKSTEP_TOLERANCE, 1e-6, 1e-3):
        beyond = np.flatnonzero(rel > threshold)
        first_beyond[threshold] = int(beyond[0]) + 1 if len(beyond) else None
    a, b = (twin.parameters() for twin in twins)
    param_diff = {k: float(np.abs(a[k] - b[k]).max()) for k in a}
    param_rel = {k: param_diff[k] / float(np.abs(a[k]).max()) for k in a}
    worst_param = max(param_diff, key=param_diff.get)
    t0, t1 = (tested[twin.name] for twin in twins)
    disagree = int((t0["logits"].argmax(1) != t1["logits"].argmax(1)).sum())
    within = first_beyond[LOCKSTEP_TOLERANCE]
    summary = {
        "dtype": args.dtype, "steps": len(rel), "tolerance": LOCKSTEP_TOLERANCE,
        "steps_within_tolerance": len(rel) if within is None else within - 1,
        "first_step_beyond": {f"{k:g}": v for k, v in first_beyond.items()},
        "max_rel_loss_diff": float(rel.max()), "max_rel_loss_diff_step": worst + 1,
        "max_param_diff": param_diff[worst_param], "param_diff": param_diff, "param_rel_diff": param_rel,
        "test_disagreements": disagree, "max_logit_diff": float(np.abs(t0["logits"] - t1["logits"]).max()),
    }
    if within is None:
        how = f"stays below {LOCKSTEP_TOLERANCE:g} at all {len(rel)} steps"
    else:
        how = "first exceeds " + ", ".join(f"{k:g} at step {v}" for k, v in first_beyond.items() if v)
    print(f"lockstep ({args.dtype}, {len(rel)} steps): the relative loss difference {how}; "
          f"largest {rel.max():.1e}, at step {worst + 1}")
    print(f"  parameters at the end: largest difference {param_diff[worst_param]:.1e} ({worst_param}; "
          f"{param_rel[worst_param]:.1e} of its largest weight)")
    print(f"  test set: predictions differ on {disagree} of {len(t0['logits'])} images; accuracy "
          + ", ".join(f"{twin.name} {100 * tested[twin.name]['acc']:.2f}%" for twin in twins))
    if within is not None and args.dtype == "float32":
        print("  (float32: NumPy and torch round differently, ~1e-7 per operation; training amplifies "
              "each difference step by step until the runs part, equally good. --dtype float64 shows "
              "the twins themselves agree.)")
    return summary


def train(args: argparse.Namespace, checkpoint: dict | None) -> int:
    """Train as ``args`` say; returns the exit status."""
    wall_start = time.perf_counter()
    device = pick_device(args.device)
    setup_torch(device)
    if args.dry_run:
        args.epochs, args.limit_train = 1, 2 * args.batch_size
        args.limit_test = min(args.limit_test or EVAL_BATCH_SIZE, EVAL_BATCH_SIZE)
    data = load_data(args.dataset, args.data_dir, args.dtype, args.limit_train, args.limit_test)
    twins = build_twins(args, device)
    progress = Progress()
    if checkpoint is not None:
        twins[0].load(checkpoint)
        if len(twins) == 2:
            twins[1].load(checkpoint["scratch"])
        progress = Progress(checkpoint["epoch"], checkpoint["batch"], checkpoint["step"],
                            checkpoint["history"], checkpoint["partial"])
    n_train = len(data.y_train)
    total_steps = args.epochs * math.ceil(n_train / args.batch_size)
    for twin in twins:
        twin.set_data(data)
        twin.start(args, total_steps, progress.step)

    out = None
    if not args.dry_run:
        out = args.out or Path("runs") / f"{args.impl}-{args.dataset}-{datetime.now():%Y%m%d-%H%M%S}"
        out.mkdir(parents=True, exist_ok=True)
    print_header(args, device, data, twins, total_steps, out, resumed=checkpoint is not None)
    if out is not None and checkpoint is None:
        save_checkpoint(out / "checkpoint.pt", twins, args, progress)   # a last good one from the start

    tested = None
    with GracefulInterrupt() as interrupt:
        try:
            while progress.epoch < args.epochs:
                finished = train_epoch(twins, args, progress, n_train, interrupt)
                if finished:
                    tested = end_epoch(twins, data, args, progress)
                if out is not None:
                    save_checkpoint(out / "checkpoint.pt", twins, args, progress)
                    write_metrics(out, args, progress.history)
                if not finished or interrupt.requested:
                    where = f"epoch {progress.epoch + 1}, batch {progress.batch}" if progress.batch else \
                        f"the end of epoch {progress.epoch}"
                    print(f"stopped at {where} (step {progress.step}); saved {out / 'checkpoint.pt'}\n"
                          f"continue with: python train.py --resume {out / 'checkpoint.pt'}")
                    return 130
                if args.dry_run:
                    break
        except NonFiniteLoss as error:
            kept = f"{out / 'checkpoint.pt'} still holds the last good state" if out else "nothing saved"
            print(f"train.py: stopped: {error}. The weights have diverged; try a smaller --lr "
                  f"(this run: {args.lr}). {kept}.", file=sys.stderr)
            return 1

    if tested is None:                      # resumed a finished run
        tested = evaluate_twins(twins, data)
    if len(twins) == 2:
        progress.history["lockstep"] = lockstep_summary(twins, progress, tested, args)
    first = tested[twins[0].name]
    if args.dry_run:
        print(f"dry run: {progress.step} training steps and {len(data.y_test)} test images went "
              "through; nothing was written.")
        return 0
    write_metrics(out, args, progress.history)
    plot_run(out, progress.history, first["logits"], data, twins[0].name)
    print(f"test accuracy {100 * first['acc']:.2f}% ({first['correct']} / {len(data.y_test)}) "
          f"after {args.epochs} epoch{'s' * (args.epochs > 1)}; {time.perf_counter() - wall_start:.1f} s "
          f"from loading the data to the plots")
    print(f"wrote {out}/: checkpoint.pt metrics.json metrics.csv curves.png confusion.png misclassified.png")
    return 0


def print_header(args, device, data: Data, twins: list, total_steps: int, out: Path | None,
                 resumed: bool) -> None:
    net = twins[0].model
    count = sum(p.size if isinstance(p, np.ndarray) else p.numel() for p in
                (net.state_dict().values()))
    where = (f"cuda ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else
             f"cpu ({torch.get_num_threads()} threads)")
    impl = {"torch": f"the torch twin on {where}", "scratch": "the scratch twin (NumPy) on the cpu",
            "both": f"both twins in lockstep (torch on {where}, scratch on the cpu)"}[args.impl]
    c1, c2 = net.conv1.weight.shape[0], net.conv2.weight.shape[0]
    hidden = net.fc1.weight.shape[0]
    print(f"{'resuming' if resumed else 'training'} {impl}, {args.dtype}")
    print(f"  data    {data.spec.folder}: {len(data.y_train)} training, {len(data.y_test)} test images "
          f"from {args.data_dir}/")
    print(f"  model   conv 1→{c1} 5×5, pool, conv {c1}→{c2} 5×5, pool, fc {c2 * 16}→{hidden}→"
          f"{len(data.spec.classes)} ({count:,} parameters)")
    print(f"  recipe  {args.optimizer}, one-cycle lr peak {args.lr:g}, batch {args.batch_size}, "
          f"{args.epochs} epoch{'s' * (args.epochs > 1)} ({total_steps} steps), seed {args.seed}")
    if out is not None:
        print(f"  output  {out}/")


# -- plots -------------------------------------------------------------------------------------
def plot_run(out: Path, history: dict, logits: np.ndarray, data: Data, name: str) -> None:
    """curves.png, confusion.png and misclassified.png, without a display."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = history["steps"]
    names = [k[len("loss_"):] for k in steps if k.startswith("loss_")]
    both = "rel_diff" in steps
    fig, axes = plt.subplots(1, 3 if both else 2, figsize=(15 if both else 10, 4))
    step = np.asarray(steps["step"])
    ends = step[np.r_[np.flatnonzero(np.diff(steps["epoch"])), len(step) - 1]]   # each epoch's last step
    lowest = 100.0
    for i, twin in enumerate(names):
        loss = np.asarray(steps[f"loss_{twin}"])
        axes[0].plot(step, loss, color=f"C{i}", alpha=0.25, lw=0.7)
        axes[0].plot(step, _smooth(loss), color=f"C{i}", label=f"{twin} (running mean)")
        accuracy = 100 * _smooth(np.asarray(steps[f"acc_{twin}"]))
        tests = [100 * r["twins"][twin]["test_acc"] for r in history["epochs"]]
        axes[1].plot(step, accuracy, color=f"C{i}", label=f"{twin}: training batches (running mean)")
        axes[1].plot(ends[:len(tests)], tests, "o--", color=f"C{i}", label=f"{twin}: test set")
        lowest = min(lowest, *tests, accuracy[len(accuracy) // 2])
    axes[0].set(xlabel="step", ylabel="training loss", yscale="log", title="loss")
    axes[1].set(xlabel="step", ylabel="accuracy (%)", title="accuracy",
                ylim=(90 if lowest > 92 else 0, 100))
    for ax in axes[:2]:
        ax.legend()
        ax.grid(alpha=0.3)
    if both:
        axes[2].semilogy(step, np.maximum(steps["rel_diff"], 1e-17))
        axes[2].axhline(LOCKSTEP_TOLERANCE, color="grey", ls="--", lw=0.8)
        axes[2].set(xlabel="step", ylabel="|loss₁ − loss₂| / loss₁", title="twins' loss difference")
        axes[2].grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "curves.png", dpi=100)
    plt.close(fig)

    predicted = logits.argmax(1)
    classes = data.spec.classes
    k = len(classes)
    confusion = np.bincount(data.y_test * k + predicted, minlength=k * k).reshape(k, k)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    ax.imshow(np.log1p(confusion), cmap="Blues")
    for i in range(k):
        for j in range(k):
            if confusion[i, j]:
                ax.text(j, i, confusion[i, j], ha="center", va="center", fontsize=7,
                        color="white" if i == j else "black")
    ax.set(xticks=range(k), yticks=range(k), xticklabels=classes, yticklabels=classes,
           xlabel="predicted", ylabel="true", title=f"confusion matrix ({name} twin, test set)")
    ax.tick_params(axis="x", labelrotation=45 if len(max(classes, key=len)) > 1 else 0)
    fig.tight_layout()
    fig.savefig(out / "confusion.png", dpi=100)
    plt.close(fig)

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
    ax.set_title(f"{len(wrong)} of {len(predicted)} test images misclassified ({name} twin); "
                 f"the first {len(shown)}, as true→predicted and the predicted class's probability",
                 fontsize=9)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.93)
    fig.savefig(out / "misclassified.png", dpi=100)
    plt.close(fig)


def _smooth(values: np.ndarray, window: int = 50) -> np.ndarray:
    """Running mean over the last ``window`` values (fewer at the start)."""
    if len(values) == 0:
        return values
    cumsum = np.cumsum(np.insert(values.astype(np.float64), 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    lo = np.maximum(idx - window, 0)
    return (cumsum[idx] - cumsum[lo]) / (idx - lo)


# -- evaluation of a checkpoint: the weights travel --------------------------------------------
def evaluate_checkpoint(args: argparse.Namespace, checkpoint: dict) -> int:
    """Load the checkpoint's model into the twin(s) --impl names and test it; with both twins,
    count the test images on which their predictions differ."""
    device = pick_device(args.device)
    setup_torch(device)
    saved = checkpoint["args"]
    args.dataset = saved["dataset"]
    data = load_data(args.dataset, args.data_dir, args.dtype, None, args.limit_test)
    twins = build_twins(args, device)
    for twin in twins:
        twin.load(checkpoint, optimizer=False)
        twin.set_data(data)
    print(f"{args.evaluate}: weights of the {saved['impl']} run ({saved['dtype']}, "
          f"{checkpoint['epoch']} of {saved['epochs']} epochs), evaluated in {args.dtype}")
    tested = evaluate_twins(twins, data)
    for twin in twins:
        t = tested[twin.name]
        print(f"  {twin.name:<7}  test loss {t['loss']:.6f}  accuracy {100 * t['acc']:.2f}% "
              f"({t['correct']} / {len(data.y_test)})")
    if len(twins) == 2:
        a, b = (tested[twin.name]["logits"] for twin in twins)
        disagree = int((a.argmax(1) != b.argmax(1)).sum())
        print(f"  predictions differ on {disagree} of {len(a)} test images; largest logit difference "
              f"{np.abs(a - b).max():.1e}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args, checkpoint = parse_args(argv)
    if args.evaluate is not None:
        return evaluate_checkpoint(args, checkpoint)
    return train(args, checkpoint)


if __name__ == "__main__":
    sys.exit(main())
