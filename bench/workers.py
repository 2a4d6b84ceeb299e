"""The measurements bench/run.py makes, each in a fresh process that prints one JSON line.

    python bench/workers.py step --impl scratch --batch 64      # ms per training step, memory
    python bench/workers.py epoch                               # one epoch of scratch training
    python bench/workers.py layers --batch 64                   # conv and pool layers alone

A fresh process per measurement, because peak memory is a property of a process:
``resource.getrusage(RUSAGE_SELF).ru_maxrss`` is the largest resident set the process ever
had (imports, data, every temporary), and it never goes down. Each worker reads it once
before the work (``rss_before_mb``: interpreter, libraries, model, data) and once after
(``rss_peak_mb``). The scratch workers never import torch, whose import alone takes about
0.7 GB of resident memory, so their figures are NumPy's. ``step --impl scratch`` also runs one
step under ``tracemalloc``, which NumPy reports its array buffers to: the peak of the arrays
one step allocates, whatever the allocator does with freed pages.

The training step is train.py's: torch_ref's ``training.train_step``, and for the scratch twin
the same step with the batch split over the threads (``scratch/_data_parallel.py``), called
here without run/ so that the scratch process need not import torch: gather a batch from
the data set by index, zero the gradients, forward, cross-entropy, backward, Adam step,
one-cycle schedule step, count the correct predictions. The inputs are MNIST's first 4,096
training images, normalised as train.py does: the arithmetic does not depend on the pixels, but
the time can (torch's max-pool branches on every comparison, and took 6 % longer on random
normal images than on MNIST's, in one process on a 2-core AMD EPYC).

Thread counts come from the environment (bench/run.py sets them); torch additionally gets
``torch.set_num_threads``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MEAN, STD = 0.1307, 0.3081                   # MNIST's, as train.py normalises


def train_defaults() -> dict:
    """The recipe's defaults (EPOCHS, BATCH_SIZE, LR, LABEL_SMOOTHING, EVAL_BATCH_SIZE), read from
    the source of run/recipe.py: importing it would import torch into the scratch processes."""
    import ast

    wanted = {"EPOCHS", "BATCH_SIZE", "LR", "LABEL_SMOOTHING", "EVAL_BATCH_SIZE"}
    found = {}
    for node in ast.parse((ROOT / "run" / "recipe.py").read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in wanted:
                found[name] = ast.literal_eval(node.value)
    missing = wanted - set(found)
    if missing:
        raise SystemExit(f"bench: run/recipe.py no longer defines {', '.join(sorted(missing))}; "
                         "update bench/workers.py")
    return found


DEFAULTS = train_defaults()
LR = DEFAULTS["LR"]["adam"] if isinstance(DEFAULTS["LR"], dict) else DEFAULTS["LR"]
EPOCH_BATCH = DEFAULTS["BATCH_SIZE"]
LABEL_SMOOTHING = DEFAULTS["LABEL_SMOOTHING"]
EVAL_BATCH = DEFAULTS["EVAL_BATCH_SIZE"]


def rss_peak_mb() -> float:
    """The process's peak resident set so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def threads() -> int:
    return int(os.environ.get("OMP_NUM_THREADS", "0")) or (os.cpu_count() or 1)


# -- one training step -------------------------------------------------------------------------
def scratch_trainer(x_all, y_all, total_steps: int, seed: int, data_parallel: bool = True):
    """train.py's scratch step on the default scratch Net: a function (start, stop) -> loss.
    As in train.py, the batch is split into one share per thread (scratch/_data_parallel.py);
    ``data_parallel=False`` gives the step with each layer split instead (what
    bench/profile_step.py times layer by layer)."""
    import numpy as np

    import scratch.lr_scheduler
    import scratch.optim
    from scratch._data_parallel import DataParallel
    from scratch.cnn import Net
    from scratch.cross_entropy import CrossEntropyLoss
    from scratch.training import train_step

    if data_parallel:
        train_step = DataParallel(threads()).step

    net = Net(generator=np.random.default_rng(seed))
    optimizer = scratch.optim.Adam(net.parameters(), lr=LR)
    scheduler = scratch.lr_scheduler.OneCycleLR(optimizer, max_lr=LR, total_steps=total_steps)
    loss_fn = CrossEntropyLoss(label_smoothing=LABEL_SMOOTHING)

    def step(order, start: int, stop: int):
        idx = order[start:stop]
        y = y_all[idx]
        loss, out = train_step(net, loss_fn, optimizer, x_all[idx], y)
        scheduler.step()
        return loss, int((out.argmax(1) == y).sum())

    return net, step


def torch_trainer(x_all, y_all, total_steps: int, seed: int):
    """train.py's torch step on the CPU, with the recipe's setup_torch (deterministic kernels)."""
    import torch

    from torch_ref.cnn import Net
    from torch_ref.training import train_step

    torch.set_num_threads(threads())
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(seed)
    net = Net()
    optimizer = torch.optim.Adam(net.parameters(), lr=LR)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=LR, total_steps=total_steps)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=LABEL_SMOOTHING)
    x_all, y_all = torch.from_numpy(x_all), torch.from_numpy(y_all)

    def step(order, start: int, stop: int):
        idx = order[start:stop]
        y = y_all[idx]
        loss, out = train_step(net, loss_fn, optimizer, x_all[idx], y)
        scheduler.step()
        return float(loss), int((out.argmax(1) == y).sum())

    return net, step


def step_worker(args) -> dict:
    import numpy as np

    rng = np.random.default_rng(args.seed)
    pool = 4096                                      # images to gather batches from
    x_all, y_all, _, _ = load_mnist(Path(args.data_dir), pool, test=False)
    total = args.warmup + args.steps + 1
    make = scratch_trainer if args.impl == "scratch" else torch_trainer
    _, step = make(x_all, y_all, total_steps=total + 1, seed=args.seed)
    orders = [rng.permutation(pool) for _ in range(8)]
    if args.impl == "torch":
        import torch
        orders = [torch.from_numpy(o) for o in orders]
    rss_before = rss_peak_mb()
    for i in range(args.warmup):
        step(orders[i % 8], 0, args.batch)
    seconds = []
    for i in range(args.steps):
        start = time.perf_counter()
        step(orders[i % 8], 0, args.batch)
        seconds.append(time.perf_counter() - start)
    result = {"impl": args.impl, "batch": args.batch, "ms": [1e3 * s for s in seconds],
              "rss_before_mb": rss_before, "rss_peak_mb": rss_peak_mb(), "threads": threads()}
    if args.impl == "scratch":
        import tracemalloc

        tracemalloc.start()
        step(orders[0], 0, args.batch)
        result["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    else:
        import torch
        result["torch_threads"] = torch.get_num_threads()
    return result


# -- one epoch of scratch training ------------------------------------------------------------
def read_idx(path: Path, limit: int | None = None):
    """An MNIST idx file (gzip): uint8 images (N, 28, 28) or labels (N,); only the first
    ``limit`` records are decompressed when it is given."""
    import numpy as np

    with gzip.open(path, "rb") as file:
        head = file.read(4)
        dims = head[3]
        shape = tuple(int.from_bytes(file.read(4), "big") for _ in range(dims))
        if limit is not None:
            shape = (min(limit, shape[0]), *shape[1:])
        raw = file.read(math.prod(shape))
    return np.frombuffer(raw, dtype=np.uint8).reshape(shape)


def load_mnist(data_dir: Path, limit_train: int | None, test: bool = True):
    """train.py's data, without torchvision: (p/255 − mean)/std as float32 (N, 1, 28, 28);
    the test split only if ``test``, else (None, None) in its place."""
    import numpy as np

    raw = data_dir / "MNIST" / "raw"
    names = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
    missing = [n for n in names if not (raw / n).is_file()]
    if missing:
        raise SystemExit(f"bench: {', '.join(missing)} not in {raw}/; run `python train.py --dry-run` once "
                         "to download MNIST")

    def normalise(images):
        x = images.astype(np.float32) / 255
        x -= MEAN
        x /= STD
        return x[:, None]

    x_train, y_train = (read_idx(raw / n, limit_train) for n in names[:2])
    if not test:
        return normalise(x_train), y_train.astype(np.int64), None, None
    x_test, y_test = (read_idx(raw / n) for n in names[2:])
    return (normalise(x_train), y_train.astype(np.int64), normalise(x_test), y_test.astype(np.int64))


def epoch_worker(args) -> dict:
    """One epoch of ``python train.py --impl scratch --epochs 1`` (Adam, one-cycle over the
    epoch, the recipe's batch size and label smoothing, the order of epoch 0 for the seed), then
    the test accuracy; NumPy only."""
    import numpy as np

    x_train, y_train, x_test, y_test = load_mnist(Path(args.data_dir), args.limit_train)
    n = len(y_train)
    steps = math.ceil(n / EPOCH_BATCH)
    net, step = scratch_trainer(x_train, y_train, total_steps=steps, seed=args.seed)
    order = np.random.default_rng([args.seed, 0]).permutation(n)
    rss_before = rss_peak_mb()
    started = time.perf_counter()
    correct = 0
    for b in range(steps):
        correct += step(order, b * EPOCH_BATCH, min((b + 1) * EPOCH_BATCH, n))[1]
    seconds = time.perf_counter() - started
    net.eval()
    logits = np.concatenate([net(x_test[i:i + EVAL_BATCH]) for i in range(0, len(y_test), EVAL_BATCH)])
    return {"images": n, "steps": steps, "train_seconds": seconds, "train_acc": correct / n,
            "test_acc": float((logits.argmax(1) == y_test).mean()), "rss_before_mb": rss_before,
            "rss_peak_mb": rss_peak_mb(), "threads": threads()}


# -- the layers alone ---------------------------------------------------------------------------
def layers_worker(args) -> dict:
    """bench/bench_layers.py's rows for the default Net's conv and pool layers, and the whole
    Net: forward + backward in float32, naive loops, vectorised scratch and torch CPU."""
    import bench_layers as bl
    import torch

    torch.set_num_threads(threads())
    options = argparse.Namespace(threads=threads(), batch=args.batch, repeats=args.repeats,
                                 naive_batch=args.naive_batch)
    rows = []
    for name, kind, kwargs, shape in bl._mnist_layers(args.batch):
        row = (bl._conv_row if kind == "conv" else bl._pool_row)(name, kwargs, shape, options)
        rows.append(row)
    net = bl._net_row(options)
    if net is not None:
        rows.append(net)
    return {"batch": args.batch, "repeats": args.repeats, "naive_batch": args.naive_batch,
            "rows": [{"name": r[0], "shape": list(r[1]), "naive_ms": r[2], "scratch_ms": r[3],
                      "torch_ms": r[4]} for r in rows]}


# -- the machine's limit: a large float32 GEMM through each library -----------------------------
def peak_worker(args) -> dict:
    """GFLOP/s of an n×n by n×n float32 matrix product (2n³ FLOPs), the fastest of a few, through
    NumPy's BLAS and through torch: about as fast as this CPU multiplies, with these threads."""
    import numpy as np
    import torch

    torch.set_num_threads(threads())
    n = args.n
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    best = {}
    for name, product in (("numpy", lambda: a @ b), ("torch", lambda: ta @ tb)):
        product()
        seconds = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            product()
            seconds.append(time.perf_counter() - start)
        best[name] = 2 * n**3 / min(seconds) / 1e9
    return {"n": n, "repeats": args.repeats, "gflops": best, "threads": threads()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="one measurement of bench/run.py, as a JSON line")
    sub = parser.add_subparsers(dest="what", required=True)
    step = sub.add_parser("step", help="ms per training step and peak memory")
    step.add_argument("--impl", choices=("scratch", "torch"), required=True)
    step.add_argument("--batch", type=int, default=64)
    step.add_argument("--steps", type=int, default=30, help="timed steps (default: 30)")
    step.add_argument("--warmup", type=int, default=5, help="untimed steps first (default: 5)")
    step.add_argument("--seed", type=int, default=0)
    step.add_argument("--data-dir", default=str(ROOT / "data"))
    epoch = sub.add_parser("epoch", help="one epoch of scratch training: time, accuracy, memory")
    epoch.add_argument("--data-dir", default=str(ROOT / "data"))
    epoch.add_argument("--limit-train", type=int, default=None)
    epoch.add_argument("--seed", type=int, default=0)
    layers = sub.add_parser("layers", help="conv and pool layers alone (bench/bench_layers.py)")
    layers.add_argument("--batch", type=int, default=64)
    layers.add_argument("--repeats", type=int, default=15)
    layers.add_argument("--naive-batch", type=int, default=2)
    peak = sub.add_parser("peak", help="GFLOP/s of a large float32 GEMM, NumPy and torch")
    peak.add_argument("--n", type=int, default=2048)
    peak.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "bench"))
    worker = {"step": step_worker, "epoch": epoch_worker, "layers": layers_worker,
              "peak": peak_worker}[args.what]
    print(json.dumps(worker(args)))


if __name__ == "__main__":
    main()
