"""Where a training step of the default CNN spends its time, scratch and torch side by side.

    python bench/profile_step.py                 # batch 64 and 256, 2 threads (all cores)
    python bench/profile_step.py --batch 256 --steps 50 --cprofile

The scratch step is train.py's (bench/workers.py rebuilds it), on MNIST's first 4,096 training
images (run ``python train.py --dry-run`` once to fetch them); every module's ``forward`` and
``backward``, the loss and the optimizer step are wrapped in timers during real steps, so the
parts add up to the step. The torch step runs under ``torch.profiler`` and its operators'
self time is grouped by the layer they belong to. Times are the median over the timed steps
(ms per step); the machine's load average is printed with them, since other processes'
work shows up in every figure.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import machine

# torch's operators (self CPU time) grouped by what the scratch step calls them.
TORCH_GROUPS = [
    ("conv forward", ("aten::mkldnn_convolution", "aten::_convolution", "aten::convolution",
                      "aten::conv2d", "aten::_slow_conv2d_forward", "aten::thnn_conv2d")),
    ("conv backward", ("aten::convolution_backward", "aten::_slow_conv2d_backward",
                       "ConvolutionBackward0", "aten::mkldnn_convolution_backward")),
    ("max-pool forward", ("aten::max_pool2d_with_indices", "aten::max_pool2d")),
    ("max-pool backward", ("aten::max_pool2d_with_indices_backward", "MaxPool2DWithIndicesBackward0")),
    ("relu forward+backward", ("aten::relu", "aten::clamp_min", "aten::threshold_backward",
                               "ReluBackward0")),
    ("linear forward+backward", ("aten::addmm", "aten::mm", "aten::linear", "aten::t",
                                 "AddmmBackward0", "MmBackward0", "aten::sum", "TBackward0")),
    ("loss forward+backward", ("aten::cross_entropy_loss", "aten::log_softmax", "aten::_log_softmax",
                               "aten::nll_loss", "aten::nll_loss_forward", "aten::nll_loss_nd",
                               "aten::nll_loss_backward", "aten::_log_softmax_backward_data",
                               "NllLossBackward0", "LogSoftmaxBackward0")),
    ("optimizer (Adam) + zero_grad", ("Optimizer.step#Adam.step", "aten::_foreach", "aten::lerp_",
                                      "aten::addcmul_", "aten::addcdiv_", "aten::sqrt", "aten::div_",
                                      "aten::mul_", "aten::add_", "aten::zero_", "aten::fill_",
                                      "Optimizer.zero_grad#Adam.zero_grad")),
]


def scratch_breakdown(batch: int, steps: int, warmup: int,
                      data_dir: Path) -> tuple[dict[str, float], float, object]:
    """(median ms per part, median ms per step, the trainer's step function)."""
    import numpy as np
    import workers

    rng = np.random.default_rng(0)
    x_all, y_all, _, _ = workers.load_mnist(data_dir, 4096, test=False)     # as bench/run.py's step rows
    # Each layer timed needs one model on one thread: the step with each layer split over the
    # cores, not train.py's step with the batch split (whose copies the timers would not see).
    net, step = workers.scratch_trainer(x_all, y_all, total_steps=warmup + 2 * steps + 2, seed=0,
                                        data_parallel=False)
    spent: dict[str, float] = defaultdict(float)

    def timed(label, function):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            result = function(*args, **kwargs)
            spent[label] += time.perf_counter() - start
            return result
        return wrapper

    for name, module in net.named_modules():
        if name:
            kind = type(module).__name__
            object.__setattr__(module, "forward", timed(f"{name} ({kind}) forward", module.forward))
            object.__setattr__(module, "backward", timed(f"{name} ({kind}) backward", module.backward))
    order = rng.permutation(4096)
    for _ in range(warmup):
        step(order, 0, batch)
    parts: dict[str, list[float]] = defaultdict(list)
    totals = []
    for _ in range(steps):
        spent.clear()
        start = time.perf_counter()
        step(order, 0, batch)
        total = time.perf_counter() - start
        totals.append(total)
        for label, seconds in spent.items():
            parts[label].append(seconds)
        parts["rest: loss, Adam, schedule, gather, argmax"].append(total - sum(spent.values()))
    return ({k: 1e3 * statistics.median(v) for k, v in parts.items()}, 1e3 * statistics.median(totals),
            (step, order))


def cprofile_top(step_and_order, batch: int, steps: int, top: int) -> list[str]:
    import cProfile
    import io
    import pstats

    step, order = step_and_order
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        step(order, 0, batch)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("tottime")
    rows = []
    for (filename, line, function), (_, calls, tottime, cumtime, _) in list(stats.stats.items()):
        rows.append((tottime, cumtime, calls, f"{Path(filename).parent.name}/{Path(filename).name}:{line}"
                     f"({function})" if line else function))
    rows.sort(reverse=True)
    return [f"  {1e3 * t / steps:8.2f} {1e3 * c / steps:8.2f} {n / steps:6.0f}  {where}"
            for t, c, n, where in rows[:top]]


def torch_breakdown(batch: int, steps: int, warmup: int,
                    data_dir: Path) -> tuple[dict[str, float], float, list[str]]:
    """(ms per group per step, median ms per step, the top operators)."""
    import numpy as np
    import torch
    import workers
    from torch.profiler import ProfilerActivity, profile

    rng = np.random.default_rng(0)
    x_all, y_all, _, _ = workers.load_mnist(data_dir, 4096, test=False)
    _, step = workers.torch_trainer(x_all, y_all, total_steps=warmup + 2 * steps + 2, seed=0)
    order = torch.from_numpy(rng.permutation(4096))
    for _ in range(warmup):
        step(order, 0, batch)
    totals = []
    for _ in range(steps):
        start = time.perf_counter()
        step(order, 0, batch)
        totals.append(time.perf_counter() - start)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step(order, 0, batch)
    events = prof.key_averages()
    groups: dict[str, float] = defaultdict(float)
    top = []
    for event in sorted(events, key=lambda e: e.self_cpu_time_total, reverse=True):
        ms = event.self_cpu_time_total / 1e3 / steps
        for label, names in TORCH_GROUPS:
            if event.key in names or any(event.key.startswith(n) for n in names if n.endswith("_foreach")):
                groups[label] += ms
                break
        else:
            groups["other operators"] += ms
        if len(top) < 12 and ms >= 0.005:
            top.append(f"  {ms:8.2f}  {event.key}")
    return dict(groups), 1e3 * statistics.median(totals), top


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, nargs="+", default=[64, 256],
                        help="batch sizes (default: 64 256)")
    parser.add_argument("--steps", type=int, default=30, help="timed steps (default: 30)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (default: 5)")
    parser.add_argument("--threads", type=int, default=machine.cores(),
                        help=f"threads for numpy's BLAS and torch (default: all cores, {machine.cores()})")
    parser.add_argument("--passive-wait", action="store_true",
                        help="OMP_WAIT_POLICY=PASSIVE (see bench/run.py --help) (default: off)")
    parser.add_argument("--cprofile", action="store_true",
                        help="also list the scratch step's functions by own time (default: off)")
    parser.add_argument("--no-torch", action="store_true",
                        help="profile the scratch step only (default: off)")
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parent.parent / "data",
                        help="where train.py keeps MNIST: the steps train on its first 4,096 images "
                             "(default: ./data)")
    args = parser.parse_args(argv)
    machine.set_threads(args.threads, args.passive_wait)
    print("\n".join(machine.describe(torch_too=not args.no_torch)))
    for batch in args.batch:
        parts, total, step_and_order = scratch_breakdown(batch, args.steps, args.warmup, args.data_dir)
        print(f"\nscratch training step, batch {batch}: {total:.2f} ms (median of {args.steps}); "
              f"load {machine.load_text()}")
        for label, ms in sorted(parts.items(), key=lambda kv: -kv[1]):
            print(f"  {ms:8.2f} ms {100 * ms / total:5.1f} %  {label}")
        if args.cprofile:
            print("  cProfile, by own time (ms per step: own, cumulative, calls):")
            print("\n".join(cprofile_top(step_and_order, batch, args.steps, 15)))
        if not args.no_torch:
            groups, torch_total, top = torch_breakdown(batch, args.steps, args.warmup, args.data_dir)
            print(f"torch training step, batch {batch}: {torch_total:.2f} ms (median of {args.steps}, "
                  f"unprofiled); operators' self time under the profiler, ms per step:")
            for label, ms in sorted(groups.items(), key=lambda kv: -kv[1]):
                print(f"  {ms:8.2f} ms  {label}")
            print("  top operators:")
            print("\n".join(top))


if __name__ == "__main__":
    main()
