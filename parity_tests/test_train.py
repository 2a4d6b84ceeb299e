"""train.py: the command line, short runs of each twin, the float64 lockstep, checkpoints.

Runs call ``train.main([...])`` in-process on a few hundred images (``--limit-train``,
``--limit-test``) and read what they write into ``tmp_path``.
"""

import json
import os
import signal

import numpy as np
import pytest
import torch

import torch_ref.data
import train
from parity_tests.helpers import assert_close
from run import checkpoint, cli, plots, recipe, twins

SMALL = ["--limit-train", "320", "--limit-test", "200", "--batch-size", "64", "--epochs", "2"]


pytestmark = pytest.mark.usefixtures("restore_torch_settings")


@pytest.fixture(autouse=True)
def _no_plots(monkeypatch):
    """Drawing the PNGs takes a second per run; only ``smoke_runs`` (set up before this
    function-scoped fixture patches) draws them."""
    monkeypatch.setattr(plots, "draw", lambda *args, **kwargs: None)


@pytest.fixture(scope="module")
def smoke_runs(mnist_root, tmp_path_factory) -> dict:
    """One short run of each twin (2 epochs of 5 steps), shared by the tests that read them."""
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    outs = {}
    for impl in ("torch", "scratch"):
        outs[impl] = tmp_path_factory.mktemp(f"smoke-{impl}")
        assert run(["--impl", impl, *SMALL], mnist_root, outs[impl]) == 0
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic)
    return outs


def run(argv, mnist_root, out=None) -> int:
    argv = [*argv, "--data-dir", mnist_root]
    if out is not None:
        argv += ["--out", str(out)]
    return train.main(argv)


def metrics(out) -> dict:
    return json.loads((out / "metrics.json").read_text())


# -- the command line ----------------------------------------------------------------------------
BAD_ARGS = [
    (["--lr", "-0.1"], "--lr"),
    (["--lr", "0"], "--lr"),
    (["--lr", "nan"], "--lr"),
    (["--batch-size", "0"], "--batch-size"),
    (["--epochs", "-1"], "--epochs"),
    (["--epochs", "two"], "--epochs"),
    (["--limit-train", "0"], "--limit-train"),
    (["--seed", "-3"], "--seed"),
    (["--device", "tpu"], "--device"),
    (["--impl", "jax"], "--impl"),
    (["--optimizer", "rmsprop"], "--optimizer"),
    (["--label-smoothing", "-0.1"], "--label-smoothing"),
    (["--label-smoothing", "1.5"], "--label-smoothing"),
    (["--label-smoothing", "some"], "--label-smoothing"),
    (["--dtype", "float16"], "--dtype"),
    (["--dataset", "cifar10"], "--dataset"),
    (["--resume", "no/such/checkpoint.pt"], "--resume"),
    (["--evaluate", "no/such/checkpoint.pt"], "--evaluate"),
]


@pytest.mark.parametrize(("argv", "flag"), BAD_ARGS)
def test_bad_arguments_exit_2_naming_the_flag(argv, flag, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: train.py")
    assert flag in err


def test_cuda_without_a_gpu_exits_2(capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(SystemExit) as exit_info:
        train.main(["--device", "cuda"])
    assert exit_info.value.code == 2
    assert "no CUDA device" in capsys.readouterr().err


def test_a_file_that_is_not_a_checkpoint_exits_2(tmp_path, capsys):
    path = tmp_path / "notes.pt"
    path.write_text("not a checkpoint")
    with pytest.raises(SystemExit) as exit_info:
        train.main(["--evaluate", str(path)])
    assert exit_info.value.code == 2
    assert "notes.pt" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--resume", "--evaluate"])
def test_a_checkpoint_of_another_architecture_names_the_keys(flag, smoke_runs, tmp_path, capsys):
    checkpoint = torch.load(smoke_runs["torch"] / "checkpoint.pt", weights_only=True)
    checkpoint["model"]["fc3.weight"] = checkpoint["model"].pop("fc2.weight")
    checkpoint["model"]["conv1.weight"] = torch.zeros(8, 1, 3, 3)
    path = tmp_path / "other.pt"
    torch.save(checkpoint, path)
    with pytest.raises(SystemExit) as exit_info:
        train.main([flag, str(path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "missing ['fc2.weight']" in err and "unexpected ['fc3.weight']" in err
    assert "conv1.weight is (8, 1, 3, 3), Net has (16, 1, 5, 5)" in err


def test_every_option_states_its_default():
    for action in cli.build_parser()._actions:
        if action.option_strings and action.dest != "help":
            assert action.help.rstrip().endswith(")") and "(default: " in action.help, action.dest


def test_missing_data_says_where_the_files_go(tmp_path, monkeypatch, capsys):
    class Offline(torch_ref.data.DATASETS["mnist"]):
        def __init__(self, *args, **kwargs):
            raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: no network")

    monkeypatch.setitem(torch_ref.data.DATASETS, "mnist", Offline)
    with pytest.raises(SystemExit) as exit_info:
        train.main(["--data-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "run")])
    message = str(exit_info.value.code)
    assert str(tmp_path / "nowhere" / "MNIST" / "raw") in message
    assert "t10k-labels-idx1-ubyte.gz" in message and "no network" in message


def test_corrupted_data_names_the_file_and_what_is_wrong(tmp_path, mnist_root, monkeypatch):
    """A truncated IDX file: torchvision's own error names no file; train.py's names it and says
    what the header promised and what was found (the from-scratch reader's diagnosis)."""
    import gzip
    import urllib.request
    from urllib.error import URLError

    def refuse(*args, **kwargs):
        raise URLError("network disabled by the test")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    source = os.path.join(mnist_root, "MNIST", "raw")
    for name in ("train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        with gzip.open(os.path.join(source, name + ".gz")) as f:
            (raw / name).write_bytes(f.read())
    with gzip.open(os.path.join(source, "train-images-idx3-ubyte.gz")) as f:
        (raw / "train-images-idx3-ubyte").write_bytes(f.read(16 + 5 * 784))    # 5 of 60,000 images
    recipe._read.cache_clear()
    with pytest.raises(SystemExit) as exit_info:
        train.main(["--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "run")])
    message = str(exit_info.value.code)
    assert f"{raw / 'train-images-idx3-ubyte'}: header says 60000 × 28 × 28" in message
    assert "truncated" in message


# -- short runs ----------------------------------------------------------------------------------
@pytest.mark.parametrize("impl", ["torch", "scratch"])
def test_smoke_run_writes_everything(impl, smoke_runs):
    out = smoke_runs[impl]
    for name in ("checkpoint.pt", "metrics.json", "metrics.csv", "curves.png", "confusion.png",
                 "misclassified.png"):
        assert (out / name).stat().st_size > 0, name
    m = metrics(out)
    assert [r["epoch"] for r in m["epochs"]] == [1, 2]
    figures = m["epochs"][-1]["twins"][impl]
    assert figures["test_acc"] > 0.5                      # 640 images seen: far better than chance
    assert len(m["steps"]["step"]) == 10 and len(m["steps"][f"loss_{impl}"]) == 10
    checkpoint = torch.load(out / "checkpoint.pt", weights_only=True)
    assert {"model", "optimizer", "args", "epoch"} <= set(checkpoint)
    assert checkpoint["epoch"] == 2 and checkpoint["args"]["impl"] == impl


def test_same_seed_same_numbers(smoke_runs, mnist_root, tmp_path):
    """A second torch run with the same seed repeats the first exactly."""
    assert run(["--impl", "torch", *SMALL], mnist_root, tmp_path) == 0
    a, b = metrics(smoke_runs["torch"]), metrics(tmp_path)
    assert a["steps"]["loss_torch"] == b["steps"]["loss_torch"]
    for epoch_a, epoch_b in zip(a["epochs"], b["epochs"], strict=True):
        for key in ("train_loss", "train_acc", "test_loss", "test_acc"):
            assert epoch_a["twins"]["torch"][key] == epoch_b["twins"]["torch"][key], key


def test_scratch_twin_starts_where_the_torch_twin_does(smoke_runs):
    """Same initial weights, same batches: the first losses agree to float32 rounding."""
    torch_losses = metrics(smoke_runs["torch"])["steps"]["loss_torch"]
    scratch_losses = metrics(smoke_runs["scratch"])["steps"]["loss_scratch"]
    assert_close(scratch_losses[0], torch_losses[0], "first loss", dtype=np.float32)
    assert_close(scratch_losses[1], torch_losses[1], "second loss", dtype=np.float32)


def test_the_seed_sets_weights_and_order(mnist_root):
    args = [cli.parse_args(["--seed", seed, "--data-dir", mnist_root])[0] for seed in ("0", "0", "1")]
    weights = [twins.build_twins(a, torch.device("cpu"), 10)[0].parameters()["conv1.weight"] for a in args]
    np.testing.assert_array_equal(weights[0], weights[1])
    assert not np.array_equal(weights[0], weights[2])
    np.testing.assert_array_equal(recipe.epoch_order(0, 1, 100), recipe.epoch_order(0, 1, 100))
    assert not np.array_equal(recipe.epoch_order(0, 1, 100), recipe.epoch_order(0, 2, 100))
    assert not np.array_equal(recipe.epoch_order(0, 1, 100), recipe.epoch_order(1, 1, 100))


def test_lockstep_float64_agrees_to_1e9(mnist_root, tmp_path):
    out = tmp_path / "both"
    argv = ["--impl", "both", "--dtype", "float64", "--limit-train", "480", "--batch-size", "16",
            "--epochs", "1", "--limit-test", "300", "--optimizer", "sgd"]
    assert run(argv, mnist_root, out) == 0
    m = metrics(out)
    steps = m["steps"]
    assert len(steps["rel_diff"]) == 30
    assert max(steps["rel_diff"]) < 1e-9
    assert_close(steps["loss_scratch"], steps["loss_torch"], "per-step losses", rtol=1e-9, atol=0)
    assert steps["loss_torch"][-1] < 0.8 * steps["loss_torch"][0]   # it did learn
    lockstep = m["lockstep"]
    assert lockstep["steps_within_tolerance"] == 30
    assert lockstep["max_param_diff"] < 1e-9
    assert lockstep["test_disagreements"] == 0


def test_lockstep_float32_reports_the_drift(mnist_root, tmp_path, capsys):
    out = tmp_path / "both32"
    argv = ["--impl", "both", "--limit-train", "640", "--batch-size", "64", "--epochs", "1",
            "--limit-test", "200"]
    assert run(argv, mnist_root, out) == 0
    rel = metrics(out)["steps"]["rel_diff"]
    assert len(rel) == 10
    assert 0 < max(rel) < 1e-3                 # float32 rounding: visible, and small
    assert "lockstep (float32, 10 steps)" in capsys.readouterr().out


# -- checkpoints ---------------------------------------------------------------------------------
@pytest.mark.parametrize("impl", ["torch", "scratch"])
def test_checkpoint_evaluates_in_the_other_twin(impl, smoke_runs, mnist_root, capsys):
    """The weights travel: a checkpoint of either twin, evaluated by both in float64, gives the
    same prediction on every test image."""
    capsys.readouterr()
    argv = ["--evaluate", str(smoke_runs[impl] / "checkpoint.pt"), "--impl", "both", "--dtype", "float64",
            "--limit-test", "500"]
    assert run(argv, mnist_root) == 0
    printed = capsys.readouterr().out
    assert "predictions differ on 0 of 500 test images" in printed


def test_model_and_optimizer_state_travel_both_ways(mnist_root):
    """torch → scratch and scratch → torch, optimizer state included: after the transfer the
    receiving twin takes the same next step as the sender."""
    args, _ = cli.parse_args(["--impl", "both", "--dtype", "float64", "--data-dir", mnist_root])
    data = recipe.load_data("mnist", args.data_dir, "float64", limit_train=256, limit_test=10)
    order = recipe.epoch_order(0, 0, 256)
    for sender, receiver in ((0, 1), (1, 0)):
        pair = twins.build_twins(args, torch.device("cpu"), 10)
        for twin in pair:
            twin.set_data(data)
            twin.start(args, total_steps=4, steps_done=0)
            twin.begin_epoch(order)
        for batch in range(2):                          # only the sender trains
            pair[sender].step(batch * 64, (batch + 1) * 64)
        saved = checkpoint.to_cpu(pair[sender].state())
        pair[receiver].load(saved)
        pair[receiver].start(args, total_steps=4, steps_done=2)
        losses = [float(twin.step(128, 192)[0]) for twin in (pair[sender], pair[receiver])]
        assert_close(losses[1], losses[0], f"next loss after transfer {sender}→{receiver}")
        a, b = (twin.parameters() for twin in pair)
        for key in a:
            assert_close(b[key], a[key], f"{key} after transfer {sender}→{receiver} and one step")
        assert pair[receiver].lr == pair[sender].lr


@pytest.mark.parametrize("impl", ["torch", "scratch"])
def test_ctrl_c_then_resume_equals_an_uninterrupted_run(impl, smoke_runs, mnist_root, tmp_path, monkeypatch):
    argv = ["--impl", impl, *SMALL]

    twin_class = twins.TorchTwin if impl == "torch" else twins.ScratchTwin
    step = twin_class.step
    calls = []

    def step_then_ctrl_c(self, start, stop, x=None):
        result = step(self, start, stop, x)
        calls.append(start)
        if len(calls) == 3:                               # mid-epoch 1 (5 steps per epoch)
            os.kill(os.getpid(), signal.SIGINT)
        return result

    monkeypatch.setattr(twin_class, "step", step_then_ctrl_c)
    out = tmp_path / "cut"
    assert run(argv, mnist_root, out) == 130
    checkpoint = torch.load(out / "checkpoint.pt", weights_only=True)
    assert (checkpoint["epoch"], checkpoint["batch"], checkpoint["step"]) == (0, 3, 3)
    monkeypatch.setattr(twin_class, "step", step)
    assert train.main(["--resume", str(out / "checkpoint.pt"), "--data-dir", mnist_root]) == 0

    whole, cut = metrics(smoke_runs[impl]), metrics(out)
    assert cut["steps"][f"loss_{impl}"] == whole["steps"][f"loss_{impl}"]
    for a, b in zip(cut["epochs"], whole["epochs"], strict=True):
        for key in ("train_loss", "train_acc", "test_loss", "test_acc"):
            assert a["twins"][impl][key] == b["twins"][impl][key], key
    final = torch.load(out / "checkpoint.pt", weights_only=True)["model"]
    reference = torch.load(smoke_runs[impl] / "checkpoint.pt", weights_only=True)["model"]
    for key in reference:
        assert torch.equal(final[key], reference[key]), key


def test_resume_refuses_other_settings(smoke_runs, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train.main(["--resume", str(smoke_runs["torch"] / "checkpoint.pt"), "--lr", "0.5"])
    assert exit_info.value.code == 2
    assert "--lr 0.5 differs" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        train.main(["--resume", str(smoke_runs["torch"] / "checkpoint.pt"), "--label-smoothing", "0"])
    assert exit_info.value.code == 2
    assert f"--label-smoothing 0.0 differs from the checkpoint's {recipe.LABEL_SMOOTHING}" in \
        capsys.readouterr().err


def test_a_checkpoint_from_before_label_smoothing_resumes_without_it(smoke_runs, mnist_root, tmp_path):
    """Runs saved before --label-smoothing existed trained on the plain target: resuming one
    goes on with 0, not with today's default."""
    saved = torch.load(smoke_runs["torch"] / "checkpoint.pt", weights_only=True)
    del saved["args"]["label_smoothing"]
    torch.save(saved, tmp_path / "old.pt")
    args, _ = cli.parse_args(["--resume", str(tmp_path / "old.pt"), "--data-dir", mnist_root])
    assert recipe.LABEL_SMOOTHING != 0 and args.label_smoothing == 0.0


def test_diverging_loss_stops_naming_the_step(mnist_root, tmp_path, capsys):
    out = tmp_path / "nan"
    argv = ["--impl", "torch", "--lr", "1e6", "--optimizer", "sgd", *SMALL]
    assert run(argv, mnist_root, out) == 1
    err = capsys.readouterr().err
    assert "loss is nan at step" in err or "loss is inf at step" in err
    checkpoint = torch.load(out / "checkpoint.pt", weights_only=True)   # the last good state
    assert all(torch.isfinite(v).all() for v in checkpoint["model"].values())


def test_dry_run_writes_nothing(mnist_root, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert train.main(["--dry-run", "--impl", "both", "--data-dir", mnist_root]) == 0
    assert list(tmp_path.iterdir()) == []
    assert "nothing was written" in capsys.readouterr().out


@pytest.mark.cuda
def test_torch_twin_on_cuda_matches_the_cpu(mnist_root, tmp_path):
    argv = ["--impl", "torch", "--dtype", "float64", *SMALL]
    assert run([*argv, "--device", "cuda"], mnist_root, tmp_path / "gpu") == 0
    assert run([*argv, "--device", "cpu"], mnist_root, tmp_path / "cpu") == 0
    gpu, cpu = metrics(tmp_path / "gpu"), metrics(tmp_path / "cpu")
    assert_close(gpu["steps"]["loss_torch"], cpu["steps"]["loss_torch"], "losses on cuda vs cpu", rtol=1e-9)


def test_augment_keeps_the_lockstep_and_changes_the_batches(mnist_root, tmp_path):
    """--augment warps every training batch (the same images for both twins): the float64
    lockstep still holds, and the losses differ from the same run without it."""
    argv = ["--impl", "both", "--dtype", "float64", "--limit-train", "640", "--batch-size", "64",
            "--epochs", "1", "--limit-test", "100"]
    assert run([*argv, "--augment"], mnist_root, tmp_path / "augmented") == 0
    assert run(argv, mnist_root, tmp_path / "plain") == 0
    augmented, plain = metrics(tmp_path / "augmented")["steps"], metrics(tmp_path / "plain")["steps"]
    assert max(augmented["rel_diff"]) < 1e-9
    assert augmented["loss_torch"][0] != plain["loss_torch"][0]
    assert metrics(tmp_path / "augmented")["args"]["augment"] is True
