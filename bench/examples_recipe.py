"""The pytorch/examples MNIST recipe (mnist/main.py), rebuilt as the yardstick for train.py.

    python bench/examples_recipe.py                         # the recipe as published: 14 epochs
    python bench/examples_recipe.py --target-accuracy 0.99  # stop at the first epoch whose test
                                                            # accuracy reaches 99.0 %
    python bench/examples_recipe.py --json out.json         # every epoch's figures, for bench/run.py

Everything that decides how fast the recipe learns is main.py's: the network (two 3×3
convolutions of 32 and 64 channels, ReLU after each, one 2×2 max-pool, dropout 0.25, dense
9216 → 128 → 10 with dropout 0.5, log-softmax), the loss (NLL), Adadelta at lr 1.0 with
StepLR(step_size=1, gamma=0.7) stepped once per epoch, batch 64, test batch 1000, the data
pipeline (torchvision's MNIST with ToTensor and Normalize((0.1307,), (0.3081,)) through a
DataLoader), seed 1, evaluation at the end of every epoch, and its quirks, kept on purpose:

* on the CPU its DataLoader does not shuffle (main.py passes ``shuffle=True`` only in the
  CUDA-only keyword arguments), so every epoch visits the images in the file's order;
* the images go through PIL and ``ToTensor`` one at a time, on every epoch, in the training
  process (no workers on the CPU).

What is added, none of which changes a number the recipe computes: the seconds spent in
``train`` (the training loop, DataLoader included) are timed apart from ``test``;
``--target-accuracy`` stops at the first epoch that reaches it; test accuracy is printed to
0.01 % instead of main.py's whole percent; ``--json`` writes the figures; ``--data-dir``
(main.py reads ``../data``). ``super().__init__()`` replaces main.py's Python 2 form.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F
import torch.optim as optim
from torch import nn
from torch.optim.lr_scheduler import StepLR
from torchvision import datasets, transforms


class Net(nn.Module):
    """main.py's network: 1×28×28 → conv 3×3 (32) → conv 3×3 (64) → pool → 9216 → 128 → 10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)                                   # (N, 32, 26, 26)
        x = F.relu(x)
        x = self.conv2(x)                                   # (N, 64, 24, 24)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)                              # (N, 64, 12, 12)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)                             # (N, 9216)
        x = self.fc1(x)                                     # (N, 128)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)                                     # (N, 10)
        return F.log_softmax(x, dim=1)


def train(args, model, device, train_loader, optimizer, epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            if not args.quiet:
                print(f"Train Epoch: {epoch} [{batch_idx * len(data)}/{len(train_loader.dataset)} "
                      f"({100.0 * batch_idx / len(train_loader):.0f}%)]\tLoss: {loss.item():.6f}")
            if args.dry_run:
                break


def test(model, device, test_loader) -> tuple[float, int]:
    """(mean test loss, correct predictions), as main.py computes them."""
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()    # sum up batch loss
            pred = output.argmax(dim=1, keepdim=True)       # the index of the max log-probability
            correct += pred.eq(target.view_as(pred)).sum().item()
    test_loss /= len(test_loader.dataset)
    print(f"Test set: Average loss: {test_loss:.4f}, Accuracy: {correct}/{len(test_loader.dataset)} "
          f"({100.0 * correct / len(test_loader.dataset):.2f}%)", flush=True)
    return test_loss, correct


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="PyTorch MNIST Example (pytorch/examples mnist/main.py), "
                                                 "timed")
    parser.add_argument("--batch-size", type=int, default=64, metavar="N",
                        help="input batch size for training (default: 64)")
    parser.add_argument("--test-batch-size", type=int, default=1000, metavar="N",
                        help="input batch size for testing (default: 1000)")
    parser.add_argument("--epochs", type=int, default=14, metavar="N",
                        help="number of epochs to train (default: 14)")
    parser.add_argument("--lr", type=float, default=1.0, metavar="LR",
                        help="learning rate (default: 1.0)")
    parser.add_argument("--gamma", type=float, default=0.7, metavar="M",
                        help="learning rate step gamma (default: 0.7)")
    parser.add_argument("--no-cuda", action="store_true", default=False,
                        help="disables CUDA training (default: off)")
    parser.add_argument("--dry-run", action="store_true", default=False,
                        help="quickly check a single pass (default: off)")
    parser.add_argument("--seed", type=int, default=1, metavar="S",
                        help="random seed (default: 1)")
    parser.add_argument("--log-interval", type=int, default=10, metavar="N",
                        help="how many batches to wait before logging training status (default: 10)")
    parser.add_argument("--target-accuracy", type=float, default=None, metavar="A",
                        help="stop after the first epoch whose test accuracy is at least A, a fraction "
                             "(default: train all epochs)")
    parser.add_argument("--quiet", action="store_true", default=False,
                        help="leave out the per-batch log lines (default: off)")
    parser.add_argument("--json", type=Path, default=None, metavar="FILE",
                        help="write every epoch's figures to FILE (default: none)")
    parser.add_argument("--data-dir", type=Path, default=Path("data"), metavar="DIR",
                        help="where torchvision keeps MNIST (default: ./data)")
    return parser


def main(argv: list[str] | None = None) -> dict:
    args = build_parser().parse_args(argv)
    use_cuda = not args.no_cuda and torch.cuda.is_available()
    torch.manual_seed(args.seed)
    device = torch.device("cuda" if use_cuda else "cpu")

    train_kwargs = {"batch_size": args.batch_size}
    test_kwargs = {"batch_size": args.test_batch_size}
    if use_cuda:
        # main.py's own split: workers, pinned memory and shuffling only on CUDA.
        cuda_kwargs = {"num_workers": 1, "pin_memory": True, "shuffle": True}
        train_kwargs.update(cuda_kwargs)
        test_kwargs.update(cuda_kwargs)

    transform = transforms.Compose([
        transforms.ToTensor(),
        transforms.Normalize((0.1307,), (0.3081,)),
    ])
    dataset1 = datasets.MNIST(args.data_dir, train=True, download=True, transform=transform)
    dataset2 = datasets.MNIST(args.data_dir, train=False, transform=transform)
    train_loader = torch.utils.data.DataLoader(dataset1, **train_kwargs)
    test_loader = torch.utils.data.DataLoader(dataset2, **test_kwargs)

    model = Net().to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)
    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)

    print(f"recipe: pytorch/examples mnist on {device} ({torch.get_num_threads()} threads), "
          f"seed {args.seed}, up to {args.epochs} epochs", flush=True)
    record = {"seed": args.seed, "device": str(device), "threads": torch.get_num_threads(),
              "epochs": [], "reached": None}
    for epoch in range(1, args.epochs + 1):
        started = time.perf_counter()
        train(args, model, device, train_loader, optimizer, epoch)
        if use_cuda:
            torch.cuda.synchronize()
        seconds = time.perf_counter() - started
        test_loss, correct = test(model, device, test_loader)
        accuracy = correct / len(test_loader.dataset)
        record["epochs"].append({"epoch": epoch, "train_seconds": seconds, "test_loss": test_loss,
                                 "test_acc": accuracy, "lr": scheduler.get_last_lr()[0]})
        print(f"epoch {epoch}: {seconds:.1f} s of training", flush=True)
        scheduler.step()
        if args.target_accuracy is not None and accuracy >= args.target_accuracy:
            record["reached"] = epoch
            break
    if args.json is not None:
        args.json.write_text(json.dumps(record, indent=1))
    return record


if __name__ == "__main__":
    main()
