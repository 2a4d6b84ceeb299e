"""The torch twin and the scratch twin behind one interface, so a run is one loop over them.

Each twin holds its model, optimizer, loss and schedule, and its copy of the data (on its
device). ``step(start, stop)`` trains on batch order[start:stop] with its own
``training.train_step`` and returns (loss, number correct); ``evaluate()`` gives the test loss
and logits; ``state()`` / ``load()`` move weights and optimizer state through checkpoints in
torch's layout, so either twin's checkpoint loads into the other.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

import scratch.lr_scheduler
import scratch.optim
import torch_ref.training
from run import checkpoint, recipe
from scratch._data_parallel import DataParallel
from scratch.cnn import Net as ScratchNet
from scratch.cross_entropy import CrossEntropyLoss
from torch_ref.cnn import Net as TorchNet


class TorchTwin:
    """torch_ref/cnn.py's Net with torch.optim: autograd does the backward."""

    name = "torch"

    def __init__(self, net: TorchNet, args, device: torch.device):
        self.device = device
        self.model = net.to(device=device, dtype=recipe.TORCH_DTYPES[args.dtype])
        self.optimizer = recipe.make_optimizer(torch.optim, self.model.parameters(), args)
        self.loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
        self.scheduler = None

    def set_data(self, data: recipe.Data) -> None:
        """The data set on the twin's device, once (torch.from_numpy shares memory on the CPU)."""
        self.x_train, self.y_train, self.x_test, self.y_test = (
            torch.from_numpy(a).to(self.device) for a in (data.x_train, data.y_train, data.x_test,
                                                           data.y_test))

    def start(self, args, total_steps: int, steps_done: int) -> None:
        self.scheduler = recipe.make_scheduler(torch.optim.lr_scheduler, self.optimizer, args,
                                               total_steps, steps_done)

    def begin_epoch(self, order: np.ndarray) -> None:
        self.order = torch.from_numpy(order).to(self.device)   # once per epoch, then gathers

    def step(self, start: int, stop: int, x: np.ndarray | None = None):
        """(loss, correct) of one step on batch order[start:stop] (or on the images ``x`` given
        for it), as device tensors: reading them would make the GPU wait."""
        idx = self.order[start:stop]
        y = self.y_train[idx]
        x = self.x_train[idx] if x is None else torch.from_numpy(x).to(self.device)
        loss, out = torch_ref.training.train_step(self.model, self.loss_fn, self.optimizer, x, y)
        self.scheduler.step()
        return loss, (out.argmax(1) == y).sum()

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    @torch.no_grad()
    def evaluate(self) -> tuple[float, np.ndarray]:
        """(mean test loss, logits as float64 NumPy) with the model in eval mode."""
        self.model.eval()
        logits = torch.cat([self.model(self.x_test[i:i + recipe.EVAL_BATCH_SIZE])
                            for i in range(0, len(self.x_test), recipe.EVAL_BATCH_SIZE)])
        loss = F.cross_entropy(logits, self.y_test)
        self.model.train()
        return float(loss), logits.double().cpu().numpy()

    def state(self) -> dict:
        return {"model": checkpoint.to_cpu(self.model.state_dict()),
                "optimizer": checkpoint.to_cpu(self.optimizer.state_dict())}

    def load(self, state: dict, optimizer: bool = True) -> None:
        self.model.load_state_dict(state["model"])
        if optimizer:
            self.optimizer.load_state_dict(state["optimizer"])

    def parameters(self) -> dict[str, np.ndarray]:
        return {k: v.detach().double().cpu().numpy() for k, v in self.model.state_dict().items()}


class ScratchTwin:
    """scratch/cnn.py's Net with scratch.optim: its own backward, by hand, on the CPU."""

    name = "scratch"

    def __init__(self, net: ScratchNet, args):
        self.model = net.to(args.dtype)
        self.optimizer = recipe.make_optimizer(scratch.optim, self.model.parameters(), args)
        self.loss_fn = CrossEntropyLoss(label_smoothing=args.label_smoothing)
        self.test_loss_fn = CrossEntropyLoss()          # plain, as the torch twin's F.cross_entropy
        self.scheduler = None
        # training.train_step with the batch split into one share per thread, each share's
        # forward and backward on its own core (the twin's use of the cores; one thread: the
        # plain step)
        self.train_step = DataParallel(args.threads or recipe.cores()).step

    def set_data(self, data: recipe.Data) -> None:
        self.x_train, self.y_train = data.x_train, data.y_train
        self.x_test, self.y_test = data.x_test, data.y_test

    def start(self, args, total_steps: int, steps_done: int) -> None:
        self.scheduler = recipe.make_scheduler(scratch.lr_scheduler, self.optimizer, args,
                                               total_steps, steps_done)

    def begin_epoch(self, order: np.ndarray) -> None:
        self.order = order

    def step(self, start: int, stop: int, x: np.ndarray | None = None):
        idx = self.order[start:stop]
        y = self.y_train[idx]
        x = self.x_train[idx] if x is None else x
        loss, out = self.train_step(self.model, self.loss_fn, self.optimizer, x, y)
        self.scheduler.step()
        return loss, int((out.argmax(1) == y).sum())

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def evaluate(self) -> tuple[float, np.ndarray]:
        self.model.eval()
        logits = np.concatenate([self.model(self.x_test[i:i + recipe.EVAL_BATCH_SIZE])
                                 for i in range(0, len(self.x_test), recipe.EVAL_BATCH_SIZE)])
        loss = self.test_loss_fn(logits, self.y_test)
        self.model.train()
        return float(loss), logits.astype(np.float64)

    def state(self) -> dict:
        return {"model": checkpoint.to_torch(self.model.state_dict()),
                "optimizer": checkpoint.to_torch(self.optimizer.state_dict())}

    def load(self, state: dict, optimizer: bool = True) -> None:
        self.model.load_state_dict(state["model"])
        if optimizer:
            self.optimizer.load_state_dict(state["optimizer"])

    def parameters(self) -> dict[str, np.ndarray]:
        return {k: v.astype(np.float64) for k, v in self.model.state_dict().items()}


def build_twins(args, device: torch.device, num_classes: int) -> list:
    """The twins --impl asks for, from the same initial weights: torch initialises (on the CPU,
    so the weights do not depend on the device) and the scratch twin gets a copy."""
    torch.manual_seed(args.seed)
    net = TorchNet(num_classes=num_classes)
    twins = []
    if args.impl in ("torch", "both"):
        twins.append(TorchTwin(net, args, device))
    if args.impl in ("scratch", "both"):
        scratch_net = ScratchNet(num_classes=num_classes)
        scratch_net.load_state_dict({k: v.detach().cpu().numpy() for k, v in net.state_dict().items()})
        twins.append(ScratchTwin(scratch_net, args))
    return twins
