"""Train the MNIST CNN with either twin, or with both in lockstep.

    python train.py                                # the torch twin (torch_ref/cnn.py), CUDA if present
    python train.py --impl scratch                 # the NumPy twin (scratch/cnn.py), the same run
    python train.py --impl both --dtype float64    # both, step by step, and how far apart they are
    python train.py --evaluate runs/…/checkpoint.pt --impl both   # the weights travel between twins
    python train.py --resume runs/…/checkpoint.pt  # go on from a checkpoint (or a Ctrl-C)

The two twins are the same network in two languages, so a run with either one is the *same
run*: the torch twin is initialised from the seed and the scratch twin gets a copy of those
weights; both walk the training set in the same order (one permutation per epoch, from
``np.random.default_rng([seed, epoch])``) and take the same steps of the same optimizer under
the same one-cycle schedule. ``--impl both`` runs them side by side on every batch and reports
how far their losses and, at the end, their parameters drift apart: in float64 the default
run's 938 losses agree to 5.0e-16 relative (a 2-core Intel Xeon); in float32 the twins
round differently and training amplifies it, and the report shows that rather than hiding it.

A run writes into its folder (``--out``, default ``runs/<impl>-<dataset>-<time>/``):
checkpoint.pt (at every epoch's end and on Ctrl-C, atomically; torch.load(weights_only=True)),
metrics.json and metrics.csv, curves.png, confusion.png and misclassified.png.

The step each twin takes is its ``training.train_step`` (scratch/training.py,
torch_ref/training.py); the scratch twin's is cut into one share of the batch per thread, each
share on its own core (scratch/_data_parallel.py), as torch splits its operators. The data come
from the ``data.py`` twins; the bookkeeping (flags, checkpoints, metrics, plots) lives in
``run/``.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch

from run import checkpoint, cli, plots, recipe, report
from run.twins import build_twins


def train_epoch(twins: list, data: recipe.Data, args, progress: checkpoint.Progress,
                interrupt: checkpoint.GracefulInterrupt) -> bool:
    """One epoch, or the rest of one: each twin takes the same step on the same batch.
    Returns False if Ctrl-C stopped it (after the step in progress)."""
    n = len(data.y_train)
    steps = recipe.steps_per_epoch(n, args.batch_size)
    order = recipe.epoch_order(args.seed, progress.epoch, n)
    for twin in twins:
        twin.begin_epoch(order)
    with report.StepLog(twins, args, progress, steps) as log:
        for batch in range(progress.batch, steps):
            start, stop = batch * args.batch_size, min((batch + 1) * args.batch_size, n)
            lr = twins[0].lr
            x = (recipe.augment(data, order[start:stop], args.seed, progress.epoch, batch)
                 if args.augment else None)         # the same warped images for every twin
            results = {}
            for twin in twins:                      # one loop over the twins: both losses
                with log.timer(twin.name):
                    results[twin.name] = twin.step(start, stop, x)
            progress.step, progress.batch = progress.step + 1, batch + 1
            log.record(lr, results, stop - start)
            if interrupt.requested:
                return False
    return True


def evaluate(twins: list, data: recipe.Data) -> dict[str, dict]:
    """Each twin's test loss, accuracy and logits."""
    results = {}
    for twin in twins:
        loss, logits = twin.evaluate()
        correct = int((logits.argmax(1) == data.y_test).sum())
        results[twin.name] = {"loss": loss, "acc": correct / len(data.y_test), "correct": correct,
                              "logits": logits}
    return results


def train(args, saved: dict | None, device: torch.device) -> int:
    """Train as ``args`` say, from ``saved`` if resuming; returns the exit status. From here on
    Ctrl-C and SIGTERM stop the run after the step in progress, with a checkpoint."""
    with checkpoint.GracefulInterrupt() as interrupt:
        try:
            return _train(args, saved, device, interrupt)
        except checkpoint.StopNow as signal_name:
            print(f"\n{signal_name} again: stopped at once, in the middle of a step; the last "
                  f"checkpoint saved stays as it was", file=sys.stderr)
            return interrupt.status


def _train(args, saved, device, interrupt) -> int:
    wall_start = time.perf_counter()
    if args.dry_run:
        args.epochs, args.limit_train = 1, 2 * args.batch_size
        args.limit_test = min(args.limit_test or recipe.EVAL_BATCH_SIZE, recipe.EVAL_BATCH_SIZE)
    data = recipe.load_data(args.dataset, args.data_dir, args.dtype, args.limit_train, args.limit_test)
    cli.check_run_size(args, len(data.y_train))
    twins = build_twins(args, device, len(data.info.classes))
    progress = checkpoint.Progress() if saved is None else checkpoint.restore(twins, saved)
    total_steps = args.epochs * recipe.steps_per_epoch(len(data.y_train), args.batch_size)
    for twin in twins:
        twin.set_data(data)
        twin.start(args, total_steps, progress.step)
    out = None if args.dry_run else args.out            # made and checked by cli.parse_args
    report.print_header(args, device, data, twins, total_steps, out, resumed=saved is not None)
    if out is not None and saved is None:
        checkpoint.save(out / "checkpoint.pt", twins, args, progress)   # a last good one, from the start

    tested = None
    try:
        while progress.epoch < args.epochs:
            finished = train_epoch(twins, data, args, progress, interrupt)
            if finished:
                tested = evaluate(twins, data)
                report.end_epoch(twins, tested, args, progress)
            if out is not None:
                checkpoint.save(out / "checkpoint.pt", twins, args, progress)
                report.write_metrics(out, args, progress.history)
            if not finished or interrupt.requested:
                where = (f"epoch {progress.epoch + 1}, batch {progress.batch}" if progress.batch
                         else f"the end of epoch {progress.epoch}")
                saved_to = f"saved {out / 'checkpoint.pt'}" if out else "nothing saved (dry run)"
                print(f"stopped at {where} (step {progress.step}); {saved_to}", flush=True)
                if out is not None:
                    print(f"continue with: python train.py --resume {out / 'checkpoint.pt'}", flush=True)
                return interrupt.status
            if args.dry_run:
                break
    except report.NonFiniteLoss as error:
        kept = f"{out / 'checkpoint.pt'} still holds the last good state" if out else "nothing saved"
        print(f"train.py: stopped: {error}. The weights have diverged; try a smaller --lr "
              f"(this run: {args.lr}). {kept}.", file=sys.stderr)
        return 1

    if tested is None:                      # resumed a finished run
        tested = evaluate(twins, data)
    if len(twins) == 2:
        progress.history["lockstep"] = report.lockstep_summary(twins, progress, tested, args)
    first = tested[twins[0].name]
    if args.dry_run:
        print(f"dry run: {progress.step} training steps and {len(data.y_test)} test images went "
              "through; nothing was written.")
        return 0
    report.write_metrics(out, args, progress.history)
    plots.draw(out, progress.history, first["logits"], data, twins[0].name, args.label_smoothing)
    print(f"test accuracy {100 * first['acc']:.2f}% ({first['correct']} / {len(data.y_test)}) "
          f"after {args.epochs} epoch{'s' * (args.epochs > 1)}; {time.perf_counter() - wall_start:.1f} s "
          f"from loading the data to the plots")
    print(f"wrote {out}/: checkpoint.pt metrics.json metrics.csv curves.png confusion.png misclassified.png")
    return 0


def evaluate_checkpoint(args, saved: dict, device: torch.device) -> int:
    """Load the checkpoint's model into the twin(s) --impl names and test it; with both twins,
    count the test images on which their predictions differ: the weights travel."""
    settings = saved["args"]
    args.dataset = settings["dataset"]
    data = recipe.load_data(args.dataset, args.data_dir, args.dtype, None, args.limit_test)
    twins = build_twins(args, device, len(data.info.classes))
    for twin in twins:
        twin.load(saved, optimizer=False)
        twin.set_data(data)
    print(f"{args.evaluate}: weights of the {settings['impl']} run ({settings['dtype']}, "
          f"{saved['epoch']} of {settings['epochs']} epochs), evaluated in {args.dtype}")
    tested = evaluate(twins, data)
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
    args, saved = cli.parse_args(argv)
    device = recipe.pick_device(args.device)
    recipe.setup_torch(device, args.threads)
    if args.evaluate is not None:
        return evaluate_checkpoint(args, saved, device)
    return train(args, saved, device)


if __name__ == "__main__":
    sys.exit(main())
