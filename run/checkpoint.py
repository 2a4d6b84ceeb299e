"""Checkpoints that survive a crash and load with ``weights_only=True``; where a run is; stops.

A checkpoint is a plain dict of tensors, numbers and strings (nanoGPT's way): the model and
optimizer state of the first twin (and of the scratch twin under --impl both), the run's
arguments and its position (epoch, batch, step), written to a temporary file and renamed, so
that a crash never leaves half a file.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm


@dataclass
class Progress:
    """Where a run is; saved in every checkpoint, so --resume goes on exactly from there."""
    epoch: int = 0                  # epochs completed
    batch: int = 0                  # batches done in the current epoch
    step: int = 0                   # optimizer steps in all
    history: dict = field(default_factory=lambda: {"epochs": [], "steps": {}})
    partial: dict = field(default_factory=dict)   # running sums of the unfinished epoch


def atomic_write(path: Path, write) -> None:
    """write(temporary path), then rename over ``path``: a crash never leaves half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)


def save(path: Path, twins: list, args, progress: Progress) -> None:
    first = twins[0].state()
    checkpoint = {
        "model": first["model"],                    # the first twin's: torch's when both train
        "optimizer": first["optimizer"],
        "args": plain_args(args),
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


# What a checkpoint must hold to be evaluated, and to be resumed.
EVALUATE_KEYS = ("model", "args", "epoch")
RESUME_KEYS = ("model", "optimizer", "args", "epoch", "batch", "step", "history", "partial")


class CheckpointError(ValueError):
    """A file that is not a checkpoint train.py can use; the message says why, in our words."""


def load(path: Path, resume: bool) -> dict:
    """A train.py checkpoint, read with ``weights_only=True``: tensors and plain values only,
    never arbitrary pickled objects, whatever the file holds."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:      # any unreadable file is the same mistake to the user
        detail = next((line.strip() for line in str(error).splitlines()
                       if "WeightsUnpickler error" in line or "invalid load key" in line), "")
        raise CheckpointError(
            f"{str(path)!r} is not a checkpoint train.py can read ({type(error).__name__}"
            f"{': ' + detail if detail else ''}). train.py reads checkpoints with "
            f"torch.load(weights_only=True), which takes only tensors and plain values: the file "
            f"is damaged, or is not a checkpoint written by train.py") from None
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f"{str(path)!r} holds a {type(checkpoint).__name__}, not a checkpoint "
                              f"written by train.py (a dict with {', '.join(RESUME_KEYS)})")
    needed = list(RESUME_KEYS if resume else EVALUATE_KEYS)
    if resume and checkpoint.get("impl", checkpoint.get("args", {}).get("impl")) == "both":
        needed.append("scratch")
    missing = [key for key in needed if key not in checkpoint]
    if missing:
        use = "resumed" if resume else "evaluated"
        raise CheckpointError(f"{str(path)!r} cannot be {use}: it has no {', '.join(map(repr, missing))} "
                              f"(a train.py checkpoint holds {', '.join(needed)})")
    return checkpoint


def restore(twins: list, checkpoint: dict) -> Progress:
    """The twins' weights and optimizer states, and the position, from a checkpoint."""
    twins[0].load(checkpoint)
    if len(twins) == 2:
        twins[1].load(checkpoint["scratch"])
    return Progress(checkpoint["epoch"], checkpoint["batch"], checkpoint["step"],
                    checkpoint["history"], checkpoint["partial"])


def plain_args(args) -> dict:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}


def to_cpu(obj):
    """A state_dict (nested dicts, lists, tensors) with every tensor copied to the CPU."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().clone()
    if isinstance(obj, dict):
        return {k: to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_cpu(v) for v in obj)
    return obj


def to_torch(obj):
    """A scratch state_dict as torch would write it: arrays become tensors and NumPy scalars
    Python numbers, so that torch.load(weights_only=True) reads it and torch's twin loads it."""
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(np.array(obj, copy=True))
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {k: to_torch(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_torch(v) for v in obj)
    return obj


SIGNALS = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}


class StopNow(Exception):
    """A second Ctrl-C (or SIGTERM): stop without finishing the step."""


class GracefulInterrupt:
    """Ctrl-C (SIGINT) or SIGTERM (``kill``, ``docker stop``, a batch scheduler) finishes the
    current step, then the run saves a checkpoint at that exact position and stops; a second
    signal stops at once. Saving only between steps keeps the checkpoint consistent: an
    optimizer interrupted half-way through its parameters could not be resumed exactly."""

    def __enter__(self) -> GracefulInterrupt:
        self.requested = None               # the signal received, if any
        self.previous = {}
        for signum in SIGNALS:
            try:
                self.previous[signum] = signal.signal(signum, self._handle)
            except ValueError:              # not the main thread: leave the signals alone
                pass
        return self

    def _handle(self, signum, frame) -> None:
        if self.requested is not None:
            raise StopNow(SIGNALS[signum])
        self.requested = signum
        tqdm.write(f"{SIGNALS[signum]}: finishing this step, then saving a checkpoint "
                   f"(a second one stops at once)")

    @property
    def status(self) -> int:
        """The exit status a shell gives a process ended by the signal: 128 + its number."""
        return 128 + int(self.requested)

    def __exit__(self, *exc) -> None:
        for signum, previous in self.previous.items():
            signal.signal(signum, previous)
