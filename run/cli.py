"""The command line of train.py: its flags, their defaults, and every check made before a run.

Errors exit with status 2 and a usage line, as argparse's own do; each names the flag and
says what it got and what it wanted.
"""

from __future__ import annotations

import argparse
import math
from datetime import datetime
from pathlib import Path

import torch

from run import checkpoint as run_checkpoint
from run import recipe
from scratch.data import DATASETS, RAW_FILES
from torch_ref.cnn import Net as TorchNet

FASHION_DEB = "/usr/share/datasets/fashion-mnist"     # Debian's dataset-fashion-mnist
# What --resume takes from the checkpoint; the others (--device, --data-dir, --out) may change.
RUN_SETTINGS = ("impl", "dataset", "epochs", "batch_size", "lr", "optimizer", "label_smoothing",
                "seed", "dtype", "limit_train", "limit_test", "augment")
# A setting that checkpoints older than it lack, and what those runs used.
BEFORE_IT_EXISTED = {"label_smoothing": 0.0}


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
unit_float = _checked(float, lambda v: 0 <= v <= 1, "a number from 0 to 1")


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
    add("--epochs", default=recipe.EPOCHS, type=positive_int, metavar="N",
        help=f"passes over the training set (default: {recipe.EPOCHS})")
    add("--batch-size", default=recipe.BATCH_SIZE, type=positive_int, metavar="N",
        help=f"images per training step (default: {recipe.BATCH_SIZE})")
    add("--lr", default=None, type=positive_float, metavar="LR",
        help="peak learning rate of the one-cycle schedule (default: "
             f"{recipe.LR['adam']} for adam, {recipe.LR['sgd']} for sgd)")
    add("--optimizer", default="adam", choices=("adam", "sgd"),
        help="adam, or sgd with Nesterov momentum 0.9 (default: adam)")
    add("--label-smoothing", default=recipe.LABEL_SMOOTHING, type=unit_float, metavar="E",
        help="the cross-entropy's target: 1 − E on the label and E/classes spread over every class, "
             "as torch.nn.CrossEntropyLoss(label_smoothing=E); 0 trains on the plain one-hot target. "
             f"The test loss is always the plain cross-entropy (default: {recipe.LABEL_SMOOTHING})")
    add("--seed", default=0, type=non_negative_int, metavar="N",
        help="seeds the initial weights and the order of the batches (default: 0)")
    add("--device", default="auto", choices=("auto", "cpu", "cuda"),
        help="where the torch twin runs; auto takes CUDA when there is a GPU; the scratch twin "
             "always runs on the CPU (default: auto)")
    add("--threads", default=None, type=positive_int, metavar="N",
        help="threads for torch, for NumPy's BLAS and for the scratch twin's shares of each batch "
             "(both twins' sums split by it, so resume with the same N for the same bits); "
             "on a machine other work keeps busy, fewer "
             "threads can be much faster (beside one busy process on a 2-core AMD EPYC, --threads 1 "
             "ran 2.6–2.9× faster than the default, OMP_WAIT_POLICY=PASSIVE in the environment 1.8×) "
             "(default: every core)")
    add("--dtype", default="float32", choices=("float32", "float64"),
        help="precision of weights and arithmetic, for both twins (default: float32)")
    add("--limit-train", default=None, type=positive_int, metavar="N",
        help="train on the first N training images only (default: all 60000)")
    add("--limit-test", default=None, type=positive_int, metavar="N",
        help="evaluate on the first N test images only (default: all 10000)")
    add("--out", default=None, type=Path, metavar="DIR",
        help="folder for checkpoint, metrics and plots; a folder that holds a run is refused, never "
             "replaced (default: a new runs/<impl>-<dataset>-<time>/, or the checkpoint's folder "
             "with --resume)")
    add("--resume", default=None, type=Path, metavar="CKPT",
        help="continue the run saved in CKPT with its own settings, exactly where it stopped "
             "(default: start afresh)")
    add("--evaluate", default=None, type=Path, metavar="CKPT",
        help="only evaluate the weights in CKPT on the test set with --impl; with --impl both, "
             "count the test images on which the twins' predictions differ (default: train)")
    add("--augment", default=False, action="store_true",
        help="warp every training batch by a random affine map (scratch/augment.py: rotation up to "
             "10°, shift up to 10 %%, scale 0.9–1.1, drawn per image from the seed, epoch and batch), "
             "the same images for both twins (default: off)")
    add("--dry-run", default=False, action="store_true",
        help="check the setup: two training steps and one test batch, nothing written "
             "(default: off)")
    add("--dataset", default="mnist", choices=tuple(DATASETS),
        help="mnist, or fashion-mnist through the same code (default: mnist)")
    add("--data-dir", default=Path("data"), type=Path, metavar="DIR",
        help="where torchvision keeps the data sets (default: ./data)")
    return parser


def parse_args(argv: list[str] | None = None):
    """The arguments, checked, and the checkpoint --resume or --evaluate names (loaded), if any.
    Every path is checked here, before any data is loaded."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("argument --device: cuda was asked for, but torch sees no CUDA device "
                     f"(torch {torch.__version__}, built for CUDA {torch.version.cuda}); use --device cpu")
    if args.resume is not None and args.evaluate is not None:
        parser.error("--resume and --evaluate do not go together")
    checkpoint = None
    flag = "resume" if args.resume is not None else "evaluate"
    path = args.resume or args.evaluate
    if path is not None:
        checkpoint = load_checkpoint(parser, flag, path)
    if args.resume is not None:
        given = vars(build_parser(suppress_defaults=True).parse_args(argv))
        saved = {key: checkpoint["args"].get(key, BEFORE_IT_EXISTED.get(key, parser.get_default(key)))
                 for key in RUN_SETTINGS}
        saved.update({k: v for k, v in checkpoint["args"].items() if k not in saved})
        if "epochs" in given and given["epochs"] > saved["epochs"] and checkpoint["epoch"] >= saved["epochs"]:
            parser.error(_cannot_extend(args.resume, saved, given["epochs"]))
        for key in RUN_SETTINGS:
            if key in given and given[key] != saved[key]:
                option = "--" + key.replace("_", "-")
                parser.error(f"--resume continues the saved run with its own settings: {option} "
                             f"{given[key]} differs from the checkpoint's {saved[key]}")
        for key in RUN_SETTINGS:
            setattr(args, key, saved[key])
    if args.lr is None:
        args.lr = recipe.LR[args.optimizer]
    check_data_dir(parser, args.data_dir)
    if args.evaluate is None and not args.dry_run:
        args.out = output_folder(parser, args)
    return args, checkpoint


def load_checkpoint(parser: argparse.ArgumentParser, flag: str, path: Path) -> dict:
    """A train.py checkpoint, read with weights_only=True, whose weights fit Net."""
    if path.is_dir():
        parser.error(f"argument --{flag}: {str(path)!r} is a directory; give the checkpoint file in "
                     f"it, e.g. {str(path / 'checkpoint.pt')!r}")
    if not path.is_file():
        parser.error(f"argument --{flag}: checkpoint {str(path)!r} does not exist")
    try:
        checkpoint = run_checkpoint.load(path, resume=flag == "resume")
    except run_checkpoint.CheckpointError as error:
        parser.error(f"argument --{flag}: {error}")
    mismatch = architecture_mismatch(checkpoint["model"])
    if mismatch:
        parser.error(f"argument --{flag}: {str(path)!r} holds another architecture than Net: {mismatch}")
    return checkpoint


def _cannot_extend(path: Path, saved: dict, epochs: int) -> str:
    """Why a finished run cannot simply go on, and the command that trains longer."""
    settings = " ".join(f"--{key.replace('_', '-')} {saved[key]}" for key in RUN_SETTINGS
                        if key not in ("epochs",) and saved.get(key) is not None)
    return (f"--resume continues the saved run exactly, and {str(path)!r} has finished all its "
            f"{saved['epochs']} epochs: its one-cycle schedule has annealed the learning rate to "
            f"~{saved['lr'] / 25 / 1e4:.0e} at its last step, and stretching it to {epochs} epochs "
            f"would change every step already taken. To train for {epochs} epochs, start a new run: "
            f"python train.py {settings} --epochs {epochs} --out <a new folder>")


def check_data_dir(parser: argparse.ArgumentParser, data_dir: Path) -> None:
    """--data-dir: a folder, or one that can be made (torchvision downloads into it)."""
    if data_dir.exists() and not data_dir.is_dir():
        parser.error(f"argument --data-dir: {str(data_dir)!r} is a file, not a folder")
    existing = next(p for p in (data_dir, *data_dir.absolute().parents) if p.exists())
    if not existing.is_dir():
        parser.error(f"argument --data-dir: {str(data_dir)!r} cannot be made: {str(existing)!r} is a file")


RUN_FILES = ("checkpoint.pt", "metrics.json", "metrics.csv", "curves.png", "confusion.png",
             "misclassified.png")


def output_folder(parser: argparse.ArgumentParser, args) -> Path:
    """The run's folder, made and checked writable now: a run never replaces another run.

    --out that holds a run is refused (continue it with --resume, or choose another folder);
    with --resume the checkpoint's own folder is the default. Without --out, a new folder under
    runs/ named for the run and the time, never one that exists.
    """
    resuming = args.resume is not None
    out = args.out
    if out is None and resuming:
        out = args.resume.parent
    elif out is None:
        base = Path("runs") / f"{args.impl}-{args.dataset}-{datetime.now():%Y%m%d-%H%M%S}"
        out, n = base, 1
        while out.exists():
            n += 1
            out = base.with_name(f"{base.name}-{n}")
    if out.exists() and not out.is_dir():
        parser.error(f"argument --out: {str(out)!r} is a file, not a folder")
    if resuming and out.resolve() == args.resume.parent.resolve():
        held = []                                  # the run's own folder: it goes on there
    else:
        held = [name for name in RUN_FILES if (out / name).exists()]
    if held:
        parser.error(f"argument --out: {str(out)!r} holds a run already ({', '.join(held)}); a new run "
                     f"would replace it. Continue that run with --resume {str(out / 'checkpoint.pt')!r}, "
                     f"or choose another folder")
    blocker = next((p for p in (out, *out.absolute().parents) if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        parser.error(f"argument --out: {str(out)!r} cannot be made: {str(blocker)!r} is a file")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        parser.error(f"argument --out: cannot write into {str(out)!r} ({error.strerror or error}); "
                     f"choose a folder you can write to")
    return out


MIN_STEPS = 10          # the one-cycle schedule: 3 steps to warm up, 7 to anneal


def check_run_size(args, n_train: int) -> None:
    """A batch larger than the data is clamped, and said; a run with fewer optimizer steps than
    the schedule needs to warm up and anneal is refused before it starts (a dry run excepted)."""
    if args.batch_size > n_train:
        print(f"note: --batch-size {args.batch_size} is larger than the {n_train} training images; "
              f"using batches of {n_train}")
        args.batch_size = n_train
    steps = args.epochs * recipe.steps_per_epoch(n_train, args.batch_size)
    if steps < MIN_STEPS and not args.dry_run:
        build_parser().error(
            f"{n_train} training images in batches of {args.batch_size} for {args.epochs} epoch(s) make "
            f"{steps} optimizer step(s); the one-cycle schedule needs at least {MIN_STEPS} (30 % to warm "
            f"up to the peak lr, the rest to anneal), and with fewer the network stays untrained. Use "
            f"more --limit-train images, a smaller --batch-size or more --epochs")


def architecture_mismatch(model_state: dict) -> str:
    """'' when a checkpoint's weights fit Net, else the missing, unexpected and wrongly shaped
    keys, named."""
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
