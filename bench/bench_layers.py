"""Benchmark, not a test: float32 forward + backward of the convolution and pooling layers.

    python bench/bench_layers.py [--threads 2] [--batch 64] [--repeats 30]

For each layer it prints the time of one forward + backward in three forms:

* naive: scratch/conv.py's ``conv2d_naive`` + ``conv2d_naive_backward`` (the tutorials' loops);
  for max-pooling the tutorials' loop written out below. The loops are slow, so they run on a
  small sub-batch (``--naive-batch``) and the time is scaled to the full batch (the work is
  linear in the batch); the table marks these times with "*".
* scratch: the vectorised scratch layer (Conv2d: im2col + matrix products; MaxPool2d).
* torch: the torch.nn layer on the CPU, input gradient included, as the scratch layer computes it.

The layers: the issue's 3×3 Conv2d on (64, 32, 13, 13) → 64 channels, then the conv and pool
layers of the MNIST CNN, read from ``scratch.cnn.Net()`` with their input shapes (when that file
is missing, the list in ``FALLBACK_LAYERS``), then the whole Net. Both libraries get the same
thread count (numpy's BLAS through the environment, torch through ``set_num_threads``); times are
the minimum over ``--repeats`` runs (in alternating blocks, see ``_time``), which filters out
other processes' noise; the load average printed with the table says how much there was.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))     # run from anywhere

GOAL_LAYER = ("Conv2d 32→64 3×3", {"in_channels": 32, "out_channels": 64, "kernel_size": 3},
              (64, 32, 13, 13))
# The MNIST CNN's layers, used when scratch/cnn.py is missing. (name, kind, arguments, input
# shape without the batch). Edit here to benchmark other shapes.
FALLBACK_LAYERS = [
    ("conv1 1→16 5×5", "conv", {"in_channels": 1, "out_channels": 16, "kernel_size": 5}, (1, 28, 28)),
    ("pool1 2×2", "pool", {"kernel_size": 2}, (16, 24, 24)),
    ("conv2 16→32 5×5", "conv", {"in_channels": 16, "out_channels": 32, "kernel_size": 5}, (16, 12, 12)),
    ("pool2 2×2", "pool", {"kernel_size": 2}, (32, 8, 8)),
]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2,
                        help="threads for numpy's BLAS and for torch (default: 2)")
    parser.add_argument("--batch", type=int, default=64,
                        help="batch size for the MNIST CNN's layers (default: 64)")
    parser.add_argument("--repeats", type=int, default=30,
                        help="timed runs per form; the minimum is reported (default: 30)")
    parser.add_argument("--naive-batch", type=int, default=2,
                        help="sub-batch the naive loops run on, scaled up (default: 2)")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    # The BLAS reads its thread count when numpy is first imported, hence before the imports.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    rows = [_conv_row(*GOAL_LAYER, args)]
    layers = _mnist_layers(args.batch)
    rows += [(_conv_row if kind == "conv" else _pool_row)(name, kwargs, shape, args)
             for name, kind, kwargs, shape in layers]
    # A network's first layer needs no ∂L/∂x (its input is the data): torch skips it when the
    # input does not require grad, scratch with backward(..., need_input_grad=False).
    name, _, kwargs, shape = next(layer for layer in layers if layer[1] == "conv")
    rows.append(_conv_row(f"{name.split()[0]} without ∂L/∂x", kwargs, shape, args, input_grad=False))
    net_row = _net_row(args)

    print(f"float32 forward + backward, {args.threads} threads for numpy's BLAS and for torch, "
          f"minimum of {args.repeats} runs; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores")
    # OPENBLAS_CORETYPE pins OpenBLAS's kernels (Haswell = AVX2 even on an AVX-512 CPU).
    print(f"numpy {np.__version__} (OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}), "
          f"torch {torch.__version__}\n")
    header = f"{'layer':<22}{'input shape':<20}{'naive ms':>12}{'scratch ms':>12}{'torch ms':>10}" \
             f"{'scratch/torch':>15}"
    print(header)
    print("-" * len(header))
    for row in [*rows, *([net_row] if net_row else [])]:
        name, shape, naive, scratch, torch_ms = row
        naive_text = "—" if naive is None else f"{naive:.1f}*"
        print(f"{name:<22}{shape!s:<20}{naive_text:>12}{scratch:>12.2f}{torch_ms:>10.2f}"
              f"{scratch / torch_ms:>15.2f}")
    print(f"\n* naive loops timed on a batch of {args.naive_batch} and scaled to the full batch.")
    print("Goal (issue 3): the 3×3 Conv2d's scratch/torch within 3×.")


def _mnist_layers(batch: int):
    """(name, kind, constructor arguments, input shape) of Net's conv and pool layers."""
    try:
        from scratch.cnn import Net
    except ImportError:
        return [(name, kind, kwargs, (batch, *shape)) for name, kind, kwargs, shape in FALLBACK_LAYERS]
    import numpy as np

    from scratch.conv import Conv2d
    from scratch.pooling import MaxPool2d

    net = Net()
    seen = {}
    for name, module in net.named_modules():
        if isinstance(module, (Conv2d, MaxPool2d)):
            # Record each layer's input shape during one forward pass.
            def recorder(x, name=name, forward=module.forward):
                seen.setdefault(name, x.shape)
                return forward(x)
            object.__setattr__(module, "forward", recorder)
    net(np.zeros((batch, 1, 28, 28), dtype=np.float32))
    layers = []
    for name, module in net.named_modules():
        if name not in seen:
            continue
        if isinstance(module, Conv2d):
            kwargs = {"in_channels": module.in_channels, "out_channels": module.out_channels,
                      "kernel_size": module.kernel_size, "stride": module.stride,
                      "padding": module.padding, "dilation": module.dilation, "groups": module.groups,
                      "bias": module.bias is not None}
            label = f"{name} {module.in_channels}→{module.out_channels} " \
                    f"{module.kernel_size[0]}×{module.kernel_size[1]}"
            layers.append((label, "conv", kwargs, seen[name]))
        else:
            kwargs = {"kernel_size": module.kernel_size, "stride": module.stride,
                      "padding": module.padding, "dilation": module.dilation,
                      "ceil_mode": module.ceil_mode}
            kH, kW = np.broadcast_to(module.kernel_size, 2)
            layers.append((f"{name} {kH}×{kW}", "pool", kwargs, seen[name]))
    return layers


def _time(functions: dict, repeats: int, rounds: int = 3) -> dict:
    """Minimum wall time of each function in ms.

    Each function runs in blocks of consecutive calls: right after the other library, its
    worker threads would still be spinning for work and take a core from this one. The
    blocks alternate, ``rounds`` times, so that other processes' noise hits all alike.
    """
    times = {name: float("inf") for name in functions}
    for _ in range(rounds):
        for name, f in functions.items():
            f()                                                      # wakes its threads, warms caches
            for _ in range(max(1, repeats // rounds)):
                start = time.perf_counter()
                f()
                times[name] = min(times[name], time.perf_counter() - start)
    return {name: t * 1e3 for name, t in times.items()}


def _conv_row(name, kwargs, shape, args, input_grad=True):
    import numpy as np
    import torch

    from scratch.conv import Conv2d, conv2d_naive, conv2d_naive_backward
    from torch_ref.conv import Conv2d as TorchConv2d

    rng = np.random.default_rng(0)
    layer = Conv2d(**kwargs, generator=rng)
    torch_layer = TorchConv2d(**kwargs)
    with torch.no_grad():
        torch_layer.weight.copy_(torch.from_numpy(layer.weight.data))
    x = rng.standard_normal(shape, dtype=np.float32)
    grad_out = rng.standard_normal(layer(x).shape, dtype=np.float32)
    x_t = torch.from_numpy(x).requires_grad_(input_grad)
    grad_out_t = torch.from_numpy(grad_out)

    def scratch_step():
        layer(x)
        layer.backward(grad_out, need_input_grad=input_grad)

    def torch_step():
        torch_layer(x_t).backward(grad_out_t)

    times = _time({"scratch": scratch_step, "torch": torch_step}, args.repeats)
    if not input_grad:
        return name, tuple(shape), None, times["scratch"], times["torch"]

    n = min(args.naive_batch, shape[0])
    geometry = {k: kwargs[k] for k in ("stride", "padding", "dilation", "groups") if k in kwargs}
    bias = None if layer.bias is None else layer.bias.data
    start = time.perf_counter()
    conv2d_naive(x[:n], layer.weight.data, bias, **geometry)
    conv2d_naive_backward(grad_out[:n], x[:n], layer.weight.data, **geometry)
    naive = (time.perf_counter() - start) * 1e3 * shape[0] / n
    return name, tuple(shape), naive, times["scratch"], times["torch"]


def _naive_max_pool2d(x, k, grad_out):
    """The tutorials' max-pool loop (stride = kernel, no padding), with its backward:
    each window's gradient goes to the first position of its maximum."""
    import numpy as np

    N, C, H, W = x.shape
    out = np.zeros((N, C, H // k, W // k), dtype=x.dtype)
    grad_x = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H // k):
                for j in range(W // k):
                    window = x[n, c, i * k:(i + 1) * k, j * k:(j + 1) * k]
                    out[n, c, i, j] = window.max()
                    u, v = divmod(int(window.argmax()), k)
                    grad_x[n, c, i * k + u, j * k + v] += grad_out[n, c, i, j]
    return out, grad_x


def _pool_row(name, kwargs, shape, args):
    import numpy as np
    import torch

    from scratch.pooling import MaxPool2d
    from torch_ref.pooling import MaxPool2d as TorchMaxPool2d

    rng = np.random.default_rng(0)
    layer = MaxPool2d(**kwargs)
    torch_layer = TorchMaxPool2d(**kwargs)
    x = rng.standard_normal(shape, dtype=np.float32)
    grad_out = rng.standard_normal(layer(x).shape, dtype=np.float32)
    x_t = torch.from_numpy(x).requires_grad_(True)
    grad_out_t = torch.from_numpy(grad_out)

    def scratch_step():
        layer(x)
        layer.backward(grad_out)

    def torch_step():
        torch_layer(x_t).backward(grad_out_t)

    times = _time({"scratch": scratch_step, "torch": torch_step}, args.repeats)
    naive = None
    k = kwargs["kernel_size"]
    simple = (isinstance(k, int) and kwargs.get("stride") in (None, k)
              and kwargs.get("padding", 0) == 0 and kwargs.get("dilation", 1) == 1)
    if simple:                                # the tutorials' loop knows only this case
        n = min(args.naive_batch, shape[0])
        start = time.perf_counter()
        _naive_max_pool2d(x[:n], k, grad_out[:n])
        naive = (time.perf_counter() - start) * 1e3 * shape[0] / n
    return name, tuple(shape), naive, times["scratch"], times["torch"]


def _net_row(args):
    """The whole MNIST CNN, forward + backward from the logits' gradient (no loss, no optimiser).
    torch's input does not require grad here, as in training."""
    try:
        from scratch.cnn import Net
        from torch_ref.cnn import Net as TorchNet
    except ImportError:
        return None
    import numpy as np
    import torch

    net = Net(generator=np.random.default_rng(0))
    torch_net = TorchNet()
    torch_net.load_state_dict({k: torch.from_numpy(v) for k, v in net.state_dict().items()})
    rng = np.random.default_rng(1)
    x = rng.standard_normal((args.batch, 1, 28, 28), dtype=np.float32)
    grad_out = rng.standard_normal(net(x).shape, dtype=np.float32)
    x_t, grad_out_t = torch.from_numpy(x), torch.from_numpy(grad_out)

    def scratch_step():
        net(x)
        net.backward(grad_out)

    def torch_step():
        torch_net(x_t).backward(grad_out_t)

    times = _time({"scratch": scratch_step, "torch": torch_step}, args.repeats)
    return "Net (whole CNN)", tuple(x.shape), None, times["scratch"], times["torch"]


if __name__ == "__main__":
    main()
