"""What the benchmarks ran on: CPU, cores, libraries, BLAS and thread counts, load.

Shared by bench/run.py and bench/profile_step.py. ``set_threads`` must run before NumPy is
imported: OpenBLAS reads its thread count from the environment once, at load time.
"""

from __future__ import annotations

import ctypes
import os
import platform
from pathlib import Path

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def cores() -> int:
    """The cores this process may run on (the affinity mask, which containers narrow)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def set_threads(threads: int, passive_wait: bool = False) -> dict[str, str]:
    """Put the thread counts into the environment (this process and its children).

    ``passive_wait`` sets OMP_WAIT_POLICY=PASSIVE: idle OpenMP threads sleep instead of
    spinning. On a machine other processes keep busy, a spinning thread of torch's OpenMP pool
    holds a core its sibling needs, and a training step can take ten times longer; on an idle
    machine spinning is the faster policy, hence off by default.
    """
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    if passive_wait:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    return {name: os.environ[name] for name in (*THREAD_VARIABLES, "OMP_WAIT_POLICY") if name in os.environ}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return None


def openblas_threads() -> tuple[str, int | None]:
    """(the BLAS NumPy was built with, the threads its OpenBLAS will use), read from the loaded
    library itself where it can be found."""
    import numpy as np

    name = "unknown BLAS"
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        name = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:          # older NumPy: no dict form; the name is a nicety
        pass
    try:
        maps = Path("/proc/self/maps").read_text().split()
        libraries = sorted({p for p in maps if "openblas" in p.lower() and ".so" in p})
    except OSError:
        libraries = []
    for path in libraries:
        library = ctypes.CDLL(path)
        for symbol in ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
                       "openblas_get_num_threads64_", "openblas_get_num_threads"):
            function = getattr(library, symbol, None)
            if function is not None:
                function.restype = ctypes.c_int
                return name, int(function())
    return name, None


def blas_kernels() -> str | None:
    """The CPU kernels OpenBLAS picked when it loaded (threadpoolctl's ``architecture``: Haswell,
    SkylakeX, Zen, …), by the CPU it found. They set its speed and the order in which its float32
    sums round, so two machines can train the scratch twin to different last digits."""
    from threadpoolctl import threadpool_info

    for library in threadpool_info():
        if library.get("user_api") == "blas" and library.get("architecture"):
            return library["architecture"]
    return None


def describe(torch_too: bool = True) -> list[str]:
    """The header lines: machine, libraries, threads, load."""
    import numpy as np

    blas, blas_threads = openblas_threads()
    memory = memory_gib()
    lines = [
        f"machine  {cpu_model()}, {cores()} cores"
        + (f", {memory:.0f} GiB" if memory else "")
        + f"; {platform.system()} {platform.release()}; Python {platform.python_version()}",
        f"numpy    {np.__version__} with {blas}"
        + (f" ({kernels} kernels)" if (kernels := blas_kernels()) else "")
        + f", {blas_threads if blas_threads else '?'} BLAS threads",
    ]
    if torch_too:
        import torch

        onednn = torch.backends.mkldnn.is_available()
        lines.append(f"torch    {torch.__version__}, {torch.get_num_threads()} intra-op threads, "
                     f"{torch.get_num_interop_threads()} inter-op; MKL {torch.backends.mkl.is_available()}, "
                     f"oneDNN {onednn}; CUDA {'available' if torch.cuda.is_available() else 'not available'}")
    env = ", ".join(f"{k}={os.environ[k]}" for k in (*THREAD_VARIABLES, "OMP_WAIT_POLICY") if k in os.environ)
    lines.append(f"env      {env or '(no thread variables set)'}")
    lines.append(f"load     {load_text()} (1, 5, 15 min) on {cores()} cores")
    return lines


def load_text() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"
