"""Runs lose nothing: train.py under signals, bad paths, odd sizes and broken checkpoints.

Each case is a short run (a few hundred images) or a refusal before any data loads. The
SIGTERM test sends a real signal to a real ``python train.py`` process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import train
from run import checkpoint, plots, recipe
from scratch.data import DATASETS

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["--limit-train", "320", "--limit-test", "200", "--batch-size", "64", "--epochs", "2"]
NOWHERE = ["--data-dir", "/nonexistent/nn-parity-data"]       # a refusal must come before the data


pytestmark = pytest.mark.usefixtures("restore_torch_settings")


@pytest.fixture(autouse=True)
def _no_plots(request, monkeypatch):
    if "draws" not in request.keywords:
        monkeypatch.setattr(plots, "draw", lambda *args, **kwargs: None)


@pytest.fixture(scope="module")
def finished(mnist_root, tmp_path_factory) -> Path:
    """One finished torch run of SMALL, shared by the tests that only read it."""
    out = tmp_path_factory.mktemp("finished")
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    assert train.main(["--impl", "torch", *SMALL, "--data-dir", mnist_root, "--out", str(out)]) == 0
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic)
    return out


def refused(argv, capsys) -> str:
    """train.py exits 2 with argparse's usage line; the message."""
    with pytest.raises(SystemExit) as exit_info:
        train.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: train.py"), err
    return err


def metrics(out: Path) -> dict:
    return json.loads((out / "metrics.json").read_text())


# -- a run never destroys another run ------------------------------------------------------------
def test_an_out_folder_holding_a_run_is_refused_and_kept(finished, capsys):
    before = {p.name: p.read_bytes() for p in finished.iterdir()}
    err = refused(["--out", str(finished), *SMALL, *NOWHERE], capsys)
    assert str(finished) in err and "holds a run already" in err
    assert "--resume" in err and "checkpoint.pt" in err and "another folder" in err
    assert {p.name: p.read_bytes() for p in finished.iterdir()} == before


def test_an_empty_out_folder_is_used(mnist_root, tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    assert train.main(["--out", str(out), *SMALL, "--data-dir", mnist_root]) == 0
    assert (out / "checkpoint.pt").exists()


def test_the_default_folder_is_always_new(mnist_root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for _ in range(2):                                    # the same second: two folders
        assert train.main([*SMALL, "--data-dir", mnist_root]) == 0
    assert len(list((tmp_path / "runs").iterdir())) == 2


# -- paths are checked before the data loads ----------------------------------------------------
def test_out_under_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    err = refused(["--out", str(tmp_path / "file" / "run"), *NOWHERE], capsys)
    assert str(tmp_path / "file") in err and "is a file" in err


def test_out_that_is_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    err = refused(["--out", str(tmp_path / "file"), *NOWHERE], capsys)
    assert "is a file, not a folder" in err


def test_out_that_cannot_be_written_is_refused(tmp_path, capsys):
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
    elif Path("/sys/kernel").is_dir():                   # root writes anywhere but in sysfs
        folder = Path("/sys/kernel")
    else:
        pytest.skip("no folder that cannot be written on this machine")
    err = refused(["--out", str(folder), *NOWHERE], capsys)
    assert f"cannot write into '{folder}'" in err


def test_data_dir_that_is_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "data").write_text("x")
    err = refused(["--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "run")], capsys)
    assert "--data-dir" in err and "is a file" in err


@pytest.mark.parametrize("flag", ["--resume", "--evaluate"])
def test_a_checkpoint_path_that_is_a_folder_says_so(flag, tmp_path, capsys):
    err = refused([flag, str(tmp_path), *NOWHERE], capsys)
    assert "is a directory" in err and "does not exist" not in err


# -- runs too small to train ---------------------------------------------------------------------
@pytest.mark.parametrize("argv", [["--limit-train", "5", "--epochs", "1"],
                                  ["--limit-train", "320", "--batch-size", "1000000000", "--epochs", "1"]],
                         ids=["five-images", "huge-batch"])
def test_too_few_steps_are_refused_before_training(argv, mnist_root, tmp_path, capsys):
    err = refused([*argv, "--data-dir", mnist_root, "--out", str(tmp_path / "run")], capsys)
    assert "1 optimizer step(s)" in err and "at least 10" in err
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


def test_a_batch_larger_than_the_data_is_clamped_and_said(mnist_root, tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["--limit-train", "320", "--batch-size", "5000", "--epochs", "10", "--limit-test", "100"]
    assert train.main([*argv, "--data-dir", mnist_root, "--out", str(out)]) == 0
    assert "--batch-size 5000 is larger than the 320 training images; using batches of 320" in \
        capsys.readouterr().out
    assert len(metrics(out)["steps"]["step"]) == 10 and metrics(out)["args"]["batch_size"] == 320


# -- broken checkpoints ---------------------------------------------------------------------------
@pytest.mark.parametrize(("drop", "flag"), [("optimizer", "--resume"), ("epoch", "--resume"),
                                            ("epoch", "--evaluate")])
def test_a_checkpoint_missing_a_key_names_it(drop, flag, finished, tmp_path, capsys):
    saved = torch.load(finished / "checkpoint.pt", weights_only=True)
    del saved[drop]
    torch.save(saved, tmp_path / "broken.pt")
    err = refused([flag, str(tmp_path / "broken.pt"), *NOWHERE], capsys)
    assert f"it has no '{drop}'" in err


def test_random_bytes_are_refused_without_unsafe_advice(tmp_path, capsys):
    (tmp_path / "noise.pt").write_bytes(np.random.default_rng(0).bytes(256))
    err = refused(["--evaluate", str(tmp_path / "noise.pt"), *NOWHERE], capsys)
    assert "noise.pt" in err and "weights_only=True" in err
    assert "weights_only` set to `False" not in err and "weights_only=False" not in err


def test_extending_a_finished_run_says_why_and_what_to_run(finished, capsys):
    err = refused(["--resume", str(finished / "checkpoint.pt"), "--epochs", "4", *NOWHERE], capsys)
    assert "has finished all its 2 epochs" in err and "one-cycle" in err
    assert "python train.py" in err and "--epochs 4" in err and "--limit-train 320" in err


# -- signals ---------------------------------------------------------------------------------
def test_sigterm_saves_where_it_stopped_and_resume_finishes_the_same_run(finished, mnist_root, tmp_path):
    """A real SIGTERM to a real process: it finishes the step, saves a checkpoint at that exact
    position, says so and exits 143 (128 + 15); --resume then ends where an uninterrupted run ends."""
    out = tmp_path / "killed"
    argv = [sys.executable, "train.py", "--impl", "torch", *SMALL, "--data-dir", mnist_root,
            "--out", str(out)]
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 120
    while not (out / "checkpoint.pt").exists():           # the handler is in place before this file
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no checkpoint after 120 s"
        time.sleep(0.005)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr
    assert "SIGTERM: finishing this step" in stdout and "stopped at" in stdout
    assert f"--resume {out / 'checkpoint.pt'}" in stdout
    saved = torch.load(out / "checkpoint.pt", weights_only=True)
    assert saved["step"] == len(saved["history"]["steps"].get("step", []))   # exactly where it stopped
    assert saved["step"] < 10, "the run ended before the signal arrived"
    assert train.main(["--resume", str(out / "checkpoint.pt"), "--data-dir", mnist_root]) == 0
    assert metrics(out)["steps"]["loss_torch"] == metrics(finished)["steps"]["loss_torch"]
    assert metrics(out)["epochs"][-1]["twins"]["torch"]["test_acc"] == \
        metrics(finished)["epochs"][-1]["twins"]["torch"]["test_acc"]


def test_a_second_ctrl_c_stops_at_once_without_a_traceback(mnist_root, tmp_path, monkeypatch, capsys):
    from run import twins

    step = twins.TorchTwin.step

    def step_then_two_ctrl_c(self, start, stop, x=None):
        result = step(self, start, stop, x)
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)              # the second one, before the step ends
        return result

    monkeypatch.setattr(twins.TorchTwin, "step", step_then_two_ctrl_c)
    out = tmp_path / "cut"
    assert train.main(["--impl", "torch", *SMALL, "--data-dir", mnist_root, "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert "Ctrl-C again: stopped at once" in err and "Traceback" not in err
    saved = torch.load(out / "checkpoint.pt", weights_only=True)     # the one from the start stays whole
    assert saved["step"] == 0


# -- the pictures say what they show --------------------------------------------------------------
def _history(n_steps: int) -> dict:
    steps = list(range(1, n_steps + 1))
    return {"steps": {"step": steps, "epoch": [1] * n_steps, "lr": [0.01] * n_steps,
                      "loss_torch": list(np.linspace(2, 0.5, n_steps)),
                      "acc_torch": list(np.linspace(0.1, 0.9, n_steps))},
            "epochs": [{"epoch": 1, "twins": {"torch": {"train_acc": 0.5, "test_acc": 0.8}}}]}


@pytest.mark.draws
def test_the_curves_say_their_running_mean_and_show_the_printed_figures():
    fig = plots.curves(_history(120))
    legends = [t.get_text() for ax in fig.axes[:2] for t in ax.get_legend().get_texts()]
    assert "torch: mean of the last 50 steps" in legends
    assert "torch: training, the epoch's mean (as printed)" in legends
    short = [t.get_text() for t in plots.curves(_history(30)).axes[0].get_legend().get_texts()]
    assert "torch: mean of the last 30 steps" in short


@pytest.mark.draws
def test_the_loss_curve_says_when_it_is_the_smoothed_loss():
    assert plots.curves(_history(30)).axes[0].get_ylabel() == "training loss"
    assert plots.curves(_history(30), 0.1).axes[0].get_ylabel() == "training loss, label smoothing 0.1"


@pytest.mark.draws
def test_no_errors_is_said_in_words():
    labels = np.array([3, 1, 4, 1, 5])
    logits = np.eye(10)[labels]
    data = recipe.Data(None, None, None, labels, np.zeros((5, 28, 28), np.uint8),
                       DATASETS["mnist"])
    fig = plots.misclassified(logits, data, "torch")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any("no test image is misclassified: all 5 are right" in t for t in texts)
    assert "the first 0" not in fig.axes[0].get_title()


def test_checkpoint_load_reads_only_weights(tmp_path):
    """A checkpoint holding an arbitrary object is refused by weights_only=True, in our words."""
    torch.save({"model": {}, "args": {}, "epoch": 0, "payload": Path("x")}, tmp_path / "evil.pt")
    with pytest.raises(checkpoint.CheckpointError, match="weights_only=True"):
        checkpoint.load(tmp_path / "evil.pt", resume=False)
