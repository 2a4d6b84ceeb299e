"""The benchmark: one table, scratch (NumPy) against torch on this machine's CPU.

    python bench/run.py                   # everything: 10–30 minutes on 2 cores
    python bench/run.py --quick           # about a minute: fewer steps, no training to 99 %
    python bench/run.py --skip-recipe     # all but the pytorch/examples recipe's run
    python bench/run.py --seeds 3         # train.py and the recipe from 3 seeds each (medians)
    python bench/run.py --passive-wait    # on a busy machine: idle OpenMP threads sleep

What the table holds, every figure from this machine in this invocation:

* **training step** (forward, backward, Adam update, schedule step) of train.py's default CNN
  at batch 64 and 256, float32: ms per step (median over every timed step of several fresh
  processes, and in brackets the fastest step), images per second (from the median), the
  ratio scratch ÷ torch, and peak memory: ``ru_maxrss`` of the measuring process (its whole
  resident set: interpreter, libraries, model, data) and, after "+", how much the timed steps
  added to it; for scratch also the ``tracemalloc`` peak of one step's NumPy arrays. Then the
  same steps with one thread for each library: the code's own speed, apart from how well
  each library's threads scale and how much other processes get in their way;
* **layers alone**: the default CNN's conv and pool layers, forward + backward at batch 64,
  as naive loops, vectorised scratch and torch (bench/bench_layers.py's measurements: the
  fastest of interleaved runs; the naive loops run on a small sub-batch, scaled up);
* **time to 99.0 % test accuracy**: ``python train.py`` with its defaults (the torch twin on
  the CPU), ``python train.py --impl scratch``, and the pytorch/examples MNIST recipe
  (bench/examples_recipe.py), each trained until the test accuracy measured at the end of an
  epoch reaches 99.0 % (the recipe up to ``--cap-epochs``; train.py runs its own default
  number of epochs, since its one-cycle schedule is laid out over them). Seconds of training
  only: the evaluations, data loading and plotting are left out;
* **one epoch of scratch training**, NumPy only, in a fresh process: time, test accuracy,
  peak resident memory;
* **how far from the silicon**: the FLOPs of one training step (the convolutions' and dense
  layers' products, ``step_flops``), the GFLOP/s each twin achieves on it, and the machine's own
  limit measured in the same run, a large float32 GEMM through NumPy's BLAS and through torch.

The targets (issues 7 and 14) are checked in the last column. Every process gets the same thread
count for NumPy's BLAS and for torch (``--threads``, default all cores).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
import machine  # noqa: E402

TARGET_ACCURACY = 0.99
STEP_RATIO_TARGET = 1.5        # a scratch training step (so an epoch) within 1.5× of torch's
LAYER_RATIO_TARGET = 2.0       # each conv layer, forward + backward, within 2× of torch's
SPEEDUP_TARGET = 20.0          # train.py reaches 99 % 20× sooner than the pytorch/examples recipe
MEMORY_TARGET_MB = 1500.0      # scratch one-epoch peak memory


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run.py", description="Scratch (NumPy) against torch on this CPU: one table.",
        epilog="Each measurement runs in a fresh Python process, so that memory figures are its own.")
    parser.add_argument("--quick", action="store_true",
                        help="fewer timed steps and repeats, a 6,400-image epoch, no training to 99 %% "
                             "(default: off)")
    parser.add_argument("--skip-recipe", action="store_true",
                        help="leave out the pytorch/examples recipe's run, the longest part (default: off)")
    parser.add_argument("--skip-scratch-train", action="store_true",
                        help="leave out `python train.py --impl scratch` (default: off)")
    parser.add_argument("--seeds", type=int, default=1, metavar="N",
                        help="train.py (seeds 0…N−1) and the recipe (seeds 1…N, its default first) "
                             "from N seeds; the table shows medians (default: 1)")
    parser.add_argument("--cap-epochs", type=int, default=14, metavar="N",
                        help="the recipe stops here if it never reaches 99.0 %% (default: 14, its own "
                             "number of epochs)")
    parser.add_argument("--rounds", type=int, default=None, metavar="N",
                        help="fresh processes per training-step measurement, alternating scratch and "
                             "torch (default: 3, or 1 with --quick)")
    parser.add_argument("--threads", type=int, default=machine.cores(), metavar="N",
                        help="threads for NumPy's BLAS and for torch "
                             f"(default: all cores, {machine.cores()})")
    parser.add_argument("--no-single-thread", action="store_true",
                        help="leave out the training steps timed with 1 thread for each library, which "
                             "show the code's speed apart from how well the threads scale (default: off)")
    parser.add_argument("--passive-wait", action="store_true",
                        help="set OMP_WAIT_POLICY=PASSIVE for every process: on a machine other work "
                             "keeps busy, spinning OpenMP threads can make torch's steps ten times "
                             "slower; on an idle machine leave it off (default: off)")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data", metavar="DIR",
                        help="where MNIST is, as for train.py (default: ./data)")
    parser.add_argument("--json", type=Path, default=None, metavar="FILE",
                        help="also write every raw measurement to FILE (default: none)")
    args = parser.parse_args(argv)
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    for name in ("seeds", "cap_epochs", "rounds", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def log(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


# -- running measurements in fresh processes ----------------------------------------------------
def run_worker(*arguments: str, threads: int | None = None) -> dict:
    """bench/workers.py in a fresh process (with ``threads`` instead of --threads if given);
    its JSON line."""
    command = [sys.executable, str(BENCH / "workers.py"), *arguments]
    env = None
    if threads is not None:
        env = {**os.environ, **{name: str(threads) for name in machine.THREAD_VARIABLES}}
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"bench: `{shlex.join(command)}` failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_logged(command: list[str], log_path: Path) -> tuple[int, float, float]:
    """Run a command with its output in ``log_path``: (exit status, wall seconds, peak RSS in MB
    of that process, from the kernel's accounting of it alone via wait4)."""
    started = time.perf_counter()
    with log_path.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, time.perf_counter() - started, usage.ru_maxrss / 1024


def ensure_mnist(args, tmp: Path) -> None:
    """A fresh clone has no data yet: let train.py fetch it, as it would on its first run."""
    raw = args.data_dir / "MNIST" / "raw"
    if all((raw / name).is_file() for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                                "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")):
        return
    log(f"MNIST is not in {raw}/ yet: python train.py --dry-run fetches it")
    command = [sys.executable, "train.py", "--dry-run", "--device", "cpu", "--data-dir", str(args.data_dir)]
    status, _, _ = run_logged(command, tmp / "download.log")
    if status != 0:
        fail("fetching MNIST with `python train.py --dry-run`", tmp / "download.log")


def fail(what: str, log_path: Path) -> None:
    tail = log_path.read_text(errors="replace")[-3000:]
    raise SystemExit(f"bench: {what} failed; the end of {log_path}:\n{tail}")


# -- the measurements ---------------------------------------------------------------------------
def measure_steps(args, threads: int | None = None) -> dict:
    """Per batch size and twin: every timed step's ms, and the memory figures."""
    results = {}
    for batch in (64, 256):
        steps = (10 if batch == 64 else 5) if args.quick else (30 if batch == 64 else 15)
        runs = {"scratch": [], "torch": []}
        for r in range(args.rounds):
            for impl in ("scratch", "torch"):
                log(f"training step, {impl}, batch {batch}, process {r + 1}/{args.rounds}"
                    + (f", {threads} thread" if threads else ""))
                runs[impl].append(run_worker("step", "--impl", impl, "--batch", str(batch),
                                             "--steps", str(steps), "--warmup", "3" if args.quick else "5",
                                             "--data-dir", str(args.data_dir), threads=threads))
        results[batch] = runs
    return results


def step_flops(batch: int, channels=(16, 32), hidden: int = 128, classes: int = 10) -> dict[str, int]:
    """FLOPs of one training step of train.py's Net (2 per multiply-add, the convolutions' and
    dense layers' products only: pooling, ReLU, the loss and Adam add under 1 %). Forward:
    each layer once; backward: the input gradient and the weight gradient, each as much as the
    forward, except conv1's input gradient, which training skips (the images need none)."""
    c1, c2 = channels
    conv1 = 2 * batch * c1 * 24 * 24 * 1 * 5 * 5
    conv2 = 2 * batch * c2 * 8 * 8 * c1 * 5 * 5
    fc1 = 2 * batch * (c2 * 16) * hidden
    fc2 = 2 * batch * hidden * classes
    forward = conv1 + conv2 + fc1 + fc2
    backward = conv1 + 2 * (conv2 + fc1 + fc2)
    return {"forward": forward, "backward": backward, "step": forward + backward}


def summarise_step(runs: list[dict]) -> dict:
    ms = [m for run in runs for m in run["ms"]]
    summary = {"median_ms": statistics.median(ms), "min_ms": min(ms), "steps": len(ms),
               "rss_peak_mb": max(r["rss_peak_mb"] for r in runs),
               "rss_added_mb": max(r["rss_peak_mb"] - r["rss_before_mb"] for r in runs)}
    traced = [r["traced_peak_mb"] for r in runs if "traced_peak_mb" in r]
    if traced:
        summary["traced_peak_mb"] = max(traced)
    return summary


def train_py_runs(args, tmp: Path, impl: str) -> list[dict]:
    """``python train.py`` (defaults, on the CPU) per seed: epochs' training seconds and test
    accuracy from its metrics.json, and the process's peak RSS."""
    runs = []
    for seed in range(args.seeds):
        out = tmp / f"train-{impl}-seed{seed}"
        command = [sys.executable, "train.py", "--device", "cpu", "--impl", impl, "--seed", str(seed),
                   "--data-dir", str(args.data_dir), "--out", str(out)]
        log(f"time to 99 %: {shlex.join(command[1:])}")
        status, wall, rss = run_logged(command, tmp / f"train-{impl}-seed{seed}.log")
        if status != 0:
            fail(f"`{shlex.join(command[1:])}`", tmp / f"train-{impl}-seed{seed}.log")
        history = json.loads((out / "metrics.json").read_text())
        epochs = [{"epoch": e["epoch"], "train_seconds": e["twins"][impl]["seconds"],
                   "test_acc": e["twins"][impl]["test_acc"]} for e in history["epochs"]]
        runs.append({"seed": seed, "epochs": epochs, "wall_seconds": wall, "rss_peak_mb": rss,
                     "command": shlex.join(["python", *command[1:-2]])})
    return runs


def recipe_runs(args, tmp: Path) -> list[dict]:
    runs = []
    for seed in range(1, args.seeds + 1):
        record = tmp / f"recipe-seed{seed}.json"
        command = [sys.executable, "bench/examples_recipe.py", "--no-cuda", "--quiet", "--seed", str(seed),
                   "--epochs", str(args.cap_epochs), "--target-accuracy", str(TARGET_ACCURACY),
                   "--data-dir", str(args.data_dir), "--json", str(record)]
        log(f"time to 99 %: {shlex.join(command[1:])} (minutes per epoch on a small CPU)")
        status, wall, rss = run_logged(command, tmp / f"recipe-seed{seed}.log")
        if status != 0:
            fail("the pytorch/examples recipe", tmp / f"recipe-seed{seed}.log")
        epochs = json.loads(record.read_text())["epochs"]
        runs.append({"seed": seed, "epochs": epochs, "wall_seconds": wall, "rss_peak_mb": rss})
    return runs


def time_to_target(run: dict) -> dict:
    """Training seconds up to the first epoch at ≥ 99.0 %: {seconds, epochs, acc, reached}."""
    seconds = 0.0
    for e in run["epochs"]:
        seconds += e["train_seconds"]
        if e["test_acc"] >= TARGET_ACCURACY:
            return {"seconds": seconds, "epochs": e["epoch"], "acc": e["test_acc"], "reached": True}
    best = max(e["test_acc"] for e in run["epochs"])
    return {"seconds": seconds, "epochs": len(run["epochs"]), "acc": best, "reached": False}


def summarise_target(runs: list[dict]) -> dict:
    each = [time_to_target(r) for r in runs]
    return {"each": each, "reached": all(e["reached"] for e in each),
            "median_seconds": statistics.median(e["seconds"] for e in each),
            "rss_peak_mb": max(r["rss_peak_mb"] for r in runs)}


# -- the table ----------------------------------------------------------------------------------
def fmt_ms(ms: float) -> str:
    return f"{ms:.1f}" if ms >= 10 else f"{ms:.2f}"


def verdict(met: bool, text: str) -> str:
    return f"{'met' if met else '**not met**'}: {text}"


def step_verdict(ratio: float, ratio_fastest: float) -> str:
    """Judged on the medians; the fastest steps say whether load alone is in the way."""
    goal = f"≤ {STEP_RATIO_TARGET:g}×"
    if ratio <= STEP_RATIO_TARGET:
        return verdict(True, goal)
    if ratio_fastest <= STEP_RATIO_TARGET:
        return verdict(False, f"{goal} (the fastest steps meet it)")
    return verdict(False, goal)


def target_cell(summary: dict) -> str:
    each = summary["each"]
    if len(each) == 1:
        e = each[0]
        what = f"{e['seconds']:.1f} s ({e['epochs']} ep., {100 * e['acc']:.2f} %)"
        return what if e["reached"] else f"not reached: {what}"
    parts = ", ".join(f"{e['seconds']:.0f}" + ("" if e["reached"] else "✗") for e in each)
    epochs = statistics.median(e["epochs"] for e in each)
    return f"{summary['median_seconds']:.1f} s (median; {parts}; {epochs:g} ep.)"


def build_table(args, results: dict) -> list[str]:
    rows = [("benchmark", "naive loops", "scratch (NumPy)", "torch (CPU)", "ratio", "target")]
    for batch, runs in results.get("steps", {}).items():
        s, t = summarise_step(runs["scratch"]), summarise_step(runs["torch"])
        ratio = s["median_ms"] / t["median_ms"]
        ratio_min = s["min_ms"] / t["min_ms"]
        rows.append((f"training step, batch {batch}: ms (fastest)", "—",
                     f"{fmt_ms(s['median_ms'])} ({fmt_ms(s['min_ms'])})",
                     f"{fmt_ms(t['median_ms'])} ({fmt_ms(t['min_ms'])})",
                     f"{ratio:.1f}× ({ratio_min:.1f}×) scratch/torch", step_verdict(ratio, ratio_min)))
        rows.append((f"training step, batch {batch}: images/s", "—", f"{1e3 * batch / s['median_ms']:,.0f}",
                     f"{1e3 * batch / t['median_ms']:,.0f}", "", ""))
        flops = step_flops(batch)["step"]
        peak = results.get("peak", {}).get("gflops", {})
        gflops = {k: flops / ms / 1e6 for k, ms in (("numpy", s["median_ms"]), ("torch", t["median_ms"]))}
        of_peak = {k: f" ({100 * gflops[k] / peak[k]:.0f} % of peak)" if k in peak else "" for k in gflops}
        rows.append((f"training step, batch {batch}: GFLOP/s of its {flops / 1e6:,.0f} MFLOP", "—",
                     f"{gflops['numpy']:.1f}{of_peak['numpy']}", f"{gflops['torch']:.1f}{of_peak['torch']}",
                     "", ""))
        rows.append((f"training step, batch {batch}: peak RSS MB (+ steps)", "—",
                     f"{s['rss_peak_mb']:.0f} (+{s['rss_added_mb']:.0f}); arrays of one step "
                     f"{s.get('traced_peak_mb', float('nan')):.0f}",
                     f"{t['rss_peak_mb']:.0f} (+{t['rss_added_mb']:.0f})", "", ""))
    for batch, runs in results.get("steps_1_thread", {}).items():
        s, t = summarise_step(runs["scratch"]), summarise_step(runs["torch"])
        ratio = s["median_ms"] / t["median_ms"]
        ratio_min = s["min_ms"] / t["min_ms"]
        rows.append((f"training step, batch {batch}, 1 thread each: ms (fastest)", "—",
                     f"{fmt_ms(s['median_ms'])} ({fmt_ms(s['min_ms'])})",
                     f"{fmt_ms(t['median_ms'])} ({fmt_ms(t['min_ms'])})",
                     f"{ratio:.1f}× ({ratio_min:.1f}×) scratch/torch", "(for comparison)"))
    peak = results.get("peak")
    if peak:
        rows.append((f"the machine's limit: float32 GEMM {peak['n']}³, GFLOP/s "
                     f"(fastest of {peak['repeats']})",
                     "—", f"{peak['gflops']['numpy']:.0f} (NumPy's BLAS)", f"{peak['gflops']['torch']:.0f}",
                     "", ""))
    layers = results.get("layers")
    if layers:
        for row in layers["rows"]:
            naive = "—" if row["naive_ms"] is None else f"{row['naive_ms']:,.0f}*"
            ratio = row["scratch_ms"] / row["torch_ms"]
            goal = verdict(ratio <= LAYER_RATIO_TARGET, f"≤ {LAYER_RATIO_TARGET:g}×") \
                if row["name"].startswith("conv") else ""
            rows.append((f"{row['name']}, fwd+bwd, batch {layers['batch']}: ms", naive,
                         fmt_ms(row["scratch_ms"]), fmt_ms(row["torch_ms"]),
                         f"{ratio:.1f}× scratch/torch", goal))
    target = results.get("to_target", {})
    train_torch, train_scratch = target.get("train_torch"), target.get("train_scratch")
    recipe = target.get("recipe")
    if train_torch or train_scratch:
        speedup = ""
        goal = ""
        if train_torch and recipe:
            x = recipe["median_seconds"] / train_torch["median_seconds"]
            speedup = f"{x:.1f}× recipe/train.py"
            met = x >= SPEEDUP_TARGET and train_torch["reached"] and recipe["reached"]
            goal = verdict(met, f"≥ {SPEEDUP_TARGET:g}× sooner")
        rows.append(("time to 99.0 %: `python train.py` defaults, training s", "—",
                     target_cell(train_scratch) if train_scratch else "(skipped)",
                     target_cell(train_torch) if train_torch else "(skipped)", speedup, goal))
    if recipe:
        rows.append((f"time to 99.0 %: pytorch/examples recipe (cap {args.cap_epochs} ep.), training s",
                     "—", "—", target_cell(recipe), "", ""))
    for key, label in (("train_scratch", "`train.py --impl scratch`"), ("train_torch", "`train.py`")):
        if target.get(key):
            rows.append((f"peak RSS MB of the whole {label} process (torch imported)", "—",
                         f"{target[key]['rss_peak_mb']:.0f}" if key == "train_scratch" else "—",
                         f"{target[key]['rss_peak_mb']:.0f}" if key == "train_torch" else "—", "", ""))
    epoch = results.get("epoch")
    if epoch:
        mb = epoch["rss_peak_mb"]
        limited = "" if epoch["images"] == 60000 else f" ({epoch['images']:,} images)"
        speed = epoch["images"] / epoch["train_seconds"]
        rows.append((f"one epoch of scratch training{limited}, NumPy only: peak RSS MB", "—",
                     f"{mb:.0f}; {epoch['train_seconds']:.0f} s, {speed:,.0f} img/s, "
                     f"test {100 * epoch['test_acc']:.2f} %", "—", "",
                     verdict(mb < MEMORY_TARGET_MB, f"< {MEMORY_TARGET_MB / 1000:g} GB")))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return lines


def main(argv=None) -> int:
    args = parse_args(argv)
    env = machine.set_threads(args.threads, args.passive_wait)
    command = "python bench/run.py" + "".join(f" {a}" for a in (argv if argv is not None else sys.argv[1:]))
    started = time.perf_counter()
    load_before = machine.load_text()
    results: dict = {"command": command, "env": env}
    tmp = Path(tempfile.mkdtemp(prefix="nn-parity-bench-"))
    ensure_mnist(args, tmp)

    log("the machine's limit: a float32 GEMM through NumPy and torch")
    results["peak"] = run_worker("peak", "--n", "1024" if args.quick else "2048")
    results["steps"] = measure_steps(args)
    if args.threads > 1 and not args.no_single_thread:
        results["steps_1_thread"] = measure_steps(args, threads=1)
    log("layers alone (bench/bench_layers.py)")
    results["layers"] = run_worker("layers", "--batch", "64", "--repeats", "5" if args.quick else "15",
                                   "--naive-batch", "1" if args.quick else "2")
    log("one epoch of scratch training, NumPy only")
    epoch_args = ["epoch", "--data-dir", str(args.data_dir)]
    if args.quick:
        epoch_args += ["--limit-train", "6400"]
    results["epoch"] = run_worker(*epoch_args)
    if not args.quick:
        to_target = {"train_torch": summarise_target(train_py_runs(args, tmp, "torch"))}
        if not args.skip_scratch_train:
            to_target["train_scratch"] = summarise_target(train_py_runs(args, tmp, "scratch"))
        if not args.skip_recipe:
            to_target["recipe"] = summarise_target(recipe_runs(args, tmp))
        results["to_target"] = to_target

    header = machine.describe()
    minutes = (time.perf_counter() - started) / 60
    print(f"# nn-parity benchmark: `{command}`\n")
    print("\n".join(f"    {line}" for line in header[:-1]))
    print(f"    load     {load_before} before, {machine.load_text()} after (1, 5, 15 min averages) on "
          f"{machine.cores()} cores; {minutes:.1f} min in all\n")
    print("\n".join(build_table(args, results)))
    print(notes(args, results, tmp))
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return 0


def notes(args, results: dict, tmp: Path) -> str:
    steps = results["steps"]
    counts = {b: summarise_step(r["scratch"])["steps"] for b, r in steps.items()}
    lines = [
        "",
        f"ms: median over every timed step ({', '.join(f'{n} at batch {b}' for b, n in counts.items())}, "
        f"from {args.rounds} fresh process{'es' * (args.rounds > 1)} per twin, alternating); in brackets the "
        "fastest step; the ratio in brackets compares the fastest steps. A training step: gather the batch, "
        "zero_grad, forward, cross-entropy, backward, Adam, one-cycle step (train.py's).",
        "peak RSS: ru_maxrss of the measuring process (interpreter, libraries, data, model); + what the "
        "timed steps added to it; 'arrays of one step': tracemalloc peak of NumPy's allocations in one "
        "step. The scratch processes never import torch (importing it alone takes ~0.7 GB).",
    ]
    if results.get("layers"):
        lines.append(f"layers: fastest of {results['layers']['repeats']} interleaved runs "
                     "(bench/bench_layers.py); * naive loops timed on "
                     f"{results['layers']['naive_batch']} image(s) and scaled to the batch.")
    if results.get("to_target"):
        lines.append("time to 99.0 %: training seconds until the first end-of-epoch test accuracy ≥ 99.0 %, "
                     "evaluation excluded; train.py runs its default epochs (one-cycle schedule), the "
                     f"recipe up to {args.cap_epochs}. Logs and run folders: {tmp}/")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
