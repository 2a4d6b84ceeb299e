"""What a run shows and records: the header, the progress bar, each epoch's line, the
lockstep of --impl both, and metrics.json / metrics.csv.
"""

from __future__ import annotations

import csv
import json
import math
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from run import checkpoint, recipe


class NonFiniteLoss(Exception):
    pass


def print_header(args, device: torch.device, data: recipe.Data, twins: list, total_steps: int,
                 out: Path | None, resumed: bool) -> None:
    net = twins[0].model
    count = sum(p.size if isinstance(p, np.ndarray) else p.numel() for p in net.state_dict().values())
    where = (f"cuda ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else
             f"cpu ({torch.get_num_threads()} threads)")
    impl = {"torch": f"the torch twin on {where}", "scratch": "the scratch twin (NumPy) on the cpu",
            "both": f"both twins in lockstep (torch on {where}, scratch on the cpu)"}[args.impl]
    c1, c2 = net.conv1.weight.shape[0], net.conv2.weight.shape[0]
    hidden = net.fc1.weight.shape[0]
    epochs = f"{args.epochs} epoch{'s' * (args.epochs > 1)}"
    print(f"{'resuming' if resumed else 'training'} {impl}, {args.dtype}")
    print(f"  data    {data.info.folder}: {len(data.y_train)} training, {len(data.y_test)} test images "
          f"from {args.data_dir}/")
    print(f"  model   conv 1→{c1} 5×5, pool, conv {c1}→{c2} 5×5, pool, fc {c2 * 16}→{hidden}→"
          f"{len(data.info.classes)} ({count:,} parameters)")
    smoothing = f", label smoothing {args.label_smoothing:g}" if args.label_smoothing else ""
    print(f"  recipe  {args.optimizer}, one-cycle lr peak {args.lr:g}, batch {args.batch_size}"
          f"{smoothing}, {epochs} ({total_steps} steps), seed {args.seed}"
          + (", augmented (random affine)" if getattr(args, "augment", False) else ""))
    if out is not None:
        print(f"  output  {out}/")


def lockstep_report_steps(total_steps: int) -> set[int]:
    """1, 2, 5, 10, 20, 50, … up to the last step: where --impl both prints the twins' losses."""
    steps, scale = {total_steps}, 1
    while scale <= total_steps:
        steps |= {m * scale for m in (1, 2, 5) if m * scale <= total_steps}
        scale *= 10
    return steps


class StepLog:
    """Records every step of an epoch into the run's history, draws the progress bar and, for
    --impl both, prints the twins' losses now and then.

    A step's results may be device tensors; reading them makes the host wait for the GPU, so
    on CUDA they are read in bulk every 50 steps (``flush``), on the CPU at once.
    """

    def __init__(self, twins: list, args, progress: checkpoint.Progress, steps_per_epoch: int):
        self.names = [twin.name for twin in twins]
        self.progress, self.args, self.steps_per_epoch = progress, args, steps_per_epoch
        self.total_steps = args.epochs * steps_per_epoch
        self.sums = progress.partial or {"seen": 0, "seconds": 0.0, **{
            n: {"loss": 0.0, "correct": 0, "seconds": 0.0} for n in self.names}}
        self.steps = progress.history["steps"]
        for key in ("step", "epoch", "lr", *[f"{k}_{n}" for n in self.names for k in ("loss", "acc")]):
            self.steps.setdefault(key, [])
        if len(twins) == 2:
            self.steps.setdefault("rel_diff", [])
        on_gpu = any(getattr(t, "device", torch.device("cpu")).type == "cuda" for t in twins)
        self.on_gpu = on_gpu
        self.flush_every = 50 if on_gpu and len(twins) == 1 else 1
        self.report_at = lockstep_report_steps(self.total_steps) if len(twins) == 2 else set()
        self.pending: list = []

    def __enter__(self) -> StepLog:
        self.bar = tqdm(total=self.steps_per_epoch, initial=self.progress.batch, unit="step",
                        leave=False, desc=f"epoch {self.progress.epoch + 1}/{self.args.epochs}",
                        dynamic_ncols=True)
        self.started = time.perf_counter()
        return self

    @contextmanager
    def timer(self, name: str):
        """Each twin's own time, to compare them under --impl both."""
        started = time.perf_counter()
        yield
        self.sums[name]["seconds"] += time.perf_counter() - started

    def record(self, lr: float, results: dict, n: int) -> None:
        """One step's (loss, correct) per twin, on ``n`` images, after the step was taken."""
        self.pending.append((self.progress.step, lr, n, results))
        if len(self.pending) >= self.flush_every or self.progress.batch == self.steps_per_epoch:
            self.flush()
        self.bar.update(1)

    def flush(self) -> None:
        steps, sums, names = self.steps, self.sums, self.names
        for step, lr, n, results in self.pending:
            losses = {name: float(loss) for name, (loss, _) in results.items()}
            for name, loss in losses.items():
                if not math.isfinite(loss):
                    batch = step - self.progress.epoch * self.steps_per_epoch
                    raise NonFiniteLoss(f"the {name} twin's loss is {loss} at step {step} "
                                        f"(epoch {self.progress.epoch + 1}, batch {batch})")
            steps["step"].append(step)
            steps["epoch"].append(self.progress.epoch + 1)
            steps["lr"].append(lr)
            sums["seen"] += n
            for name, (_, correct) in results.items():
                correct = int(correct)
                sums[name]["loss"] += losses[name] * n
                sums[name]["correct"] += correct
                steps[f"loss_{name}"].append(losses[name])
                steps[f"acc_{name}"].append(correct / n)
            if len(names) == 2:
                a, b = losses[names[0]], losses[names[1]]
                rel = abs(a - b) / max(abs(a), np.finfo(np.float64).tiny)
                steps["rel_diff"].append(rel)
                if step in self.report_at:
                    tqdm.write(f"  step {step:>6}  loss {names[0]} {a:.15f}  {names[1]} {b:.15f}  "
                               f"|Δ|/loss {rel:.1e}")
        self.pending.clear()
        seen = max(sums["seen"], 1)
        postfix = {"loss": f"{sums[names[0]]['loss'] / seen:.4f}",
                   "acc": f"{100 * sums[names[0]]['correct'] / seen:.2f}%"}
        if len(names) == 2 and steps["rel_diff"]:
            postfix["Δloss"] = f"{steps['rel_diff'][-1]:.1e}"
        self.bar.set_postfix(postfix, refresh=False)

    def __exit__(self, *exc) -> None:
        try:
            if exc[0] is None:
                self.flush()
        finally:
            if self.on_gpu:
                torch.cuda.synchronize()
            self.sums["seconds"] += time.perf_counter() - self.started
            self.progress.partial = self.sums
            self.bar.close()


def end_epoch(twins: list, tested: dict, args, progress: checkpoint.Progress) -> None:
    """Print the epoch's line (one per twin) and record it; the run moves to the next epoch."""
    sums = progress.partial
    record = {"epoch": progress.epoch + 1, "twins": {}}
    width = max(len(twin.name) for twin in twins)
    for twin in twins:
        name = twin.name
        # One twin: the epoch's wall time (on CUDA, after the GPU has finished). Both: each
        # twin's own steps (on CUDA the torch twin's then excludes some of the GPU's work).
        seconds = sums["seconds"] if len(twins) == 1 else sums[name]["seconds"]
        figures = {"train_loss": sums[name]["loss"] / sums["seen"],
                   "train_acc": sums[name]["correct"] / sums["seen"],
                   "test_loss": tested[name]["loss"], "test_acc": tested[name]["acc"],
                   "seconds": seconds, "images_per_s": sums["seen"] / seconds}
        record["twins"][name] = figures
        label = f"  {name:<{width}}" if len(twins) == 2 else ""
        print(f"epoch {progress.epoch + 1}/{args.epochs}{label}  "
              f"train loss {figures['train_loss']:.4f}  acc {100 * figures['train_acc']:.2f}%  │  "
              f"test loss {figures['test_loss']:.4f}  acc {100 * figures['test_acc']:.2f}%  │  "
              f"{figures['seconds']:.1f} s  {figures['images_per_s']:.0f} img/s", flush=True)
    progress.history["epochs"].append(record)
    progress.epoch, progress.batch, progress.partial = progress.epoch + 1, 0, {}


def lockstep_summary(twins: list, progress: checkpoint.Progress, tested: dict, args) -> dict:
    """How far apart the twins ended: losses over every step, parameters, test predictions."""
    tolerance = recipe.LOCKSTEP_TOLERANCE
    rel = np.asarray(progress.history["steps"]["rel_diff"])
    worst = int(rel.argmax())
    first_beyond = {}                       # threshold -> first step whose difference exceeds it
    for threshold in (tolerance, 1e-6, 1e-3):
        beyond = np.flatnonzero(rel > threshold)
        first_beyond[threshold] = int(beyond[0]) + 1 if len(beyond) else None
    a, b = (twin.parameters() for twin in twins)
    param_diff = {k: float(np.abs(a[k] - b[k]).max()) for k in a}
    param_rel = {k: param_diff[k] / float(np.abs(a[k]).max()) for k in a}
    worst_param = max(param_diff, key=param_diff.get)
    t0, t1 = (tested[twin.name] for twin in twins)
    disagree = int((t0["logits"].argmax(1) != t1["logits"].argmax(1)).sum())
    within = first_beyond[tolerance]
    summary = {
        "dtype": args.dtype, "steps": len(rel), "tolerance": tolerance,
        "steps_within_tolerance": len(rel) if within is None else within - 1,
        "first_step_beyond": {f"{k:g}": v for k, v in first_beyond.items()},
        "max_rel_loss_diff": float(rel.max()), "max_rel_loss_diff_step": worst + 1,
        "max_param_diff": param_diff[worst_param], "param_diff": param_diff, "param_rel_diff": param_rel,
        "test_disagreements": disagree, "max_logit_diff": float(np.abs(t0["logits"] - t1["logits"]).max()),
    }
    if within is None:
        how = f"stays below {tolerance:g} at all {len(rel)} steps"
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


def write_metrics(out: Path, args, history: dict) -> None:
    """metrics.json (every epoch and every step) and metrics.csv (one row per epoch and twin)."""
    document = {"args": checkpoint.plain_args(args), **history}
    checkpoint.atomic_write(out / "metrics.json", lambda tmp: tmp.write_text(json.dumps(document, indent=1)))
    fields = ["epoch", "twin", "train_loss", "train_acc", "test_loss", "test_acc", "seconds", "images_per_s"]

    def write_csv(tmp: Path) -> None:
        with tmp.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            for record in history["epochs"]:
                for twin, figures in record["twins"].items():
                    writer.writerow({"epoch": record["epoch"], "twin": twin,
                                     **{k: figures[k] for k in fields[2:]}})

    checkpoint.atomic_write(out / "metrics.csv", write_csv)
