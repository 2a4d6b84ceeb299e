"""The MNIST CNN that train.py trains.                      twin: torch_ref/cnn.py

x: (N, 1, 28, 28) -> conv 5×5 -> max-pool 2 -> ReLU -> conv 5×5 -> max-pool 2 -> ReLU
  -> flatten -> fc -> ReLU -> fc -> logits: (N, 10)

Chosen for test accuracy per second of CPU time, not by habit. With train.py's recipe (Adam
under a one-cycle schedule peaking at lr 0.01, batch 128, three epochs) it reaches 99.32–99.39 %
test accuracy on MNIST over seeds 0–4, in about 14 s of training for the torch twin on two CPU
cores (31 s for this twin, on one). Two epochs give 99.15–99.29 %, too close to 99 % to promise
it. The choices that buy the speed:

* 5×5 kernels without padding shrink the maps quickly (28 → 24 → 12 → 8 → 4), so conv2, the
  most expensive layer, works on 8×8 maps and fc1 has only C₂·16 = 512 inputs;
* max-pool *before* ReLU: the two commute (both are monotone, max(0, max(a, b)) =
  max(max(0, a), max(0, b))), so the output and every gradient are the same as the usual
  conv → ReLU → pool, but ReLU runs on a quarter of the values;
* no BatchNorm or Dropout: each would add work to every step of both twins, and the recipe
  reaches its accuracy without them.

Where the tutorials go wrong, or differ:

* tutorial 002's Keras CNN ends in ``Dense(10, activation='softmax')``, right in Keras, whose
  loss there expects probabilities. Carried over to torch it applies softmax twice:
  ``nn.CrossEntropyLoss`` (and scratch/losses.py's) takes *logits* and does the log-softmax
  itself, stably. Net returns logits; softmax is for reading probabilities off them.
* tutorial 004 scales pixels to p/255 only. The inputs here are also centred and scaled,
  (p/255 − 0.1307)/0.3081 with MNIST's mean and standard deviation, once for the whole data
  set in train.py, so the first layer's weights start at a sensible scale.
* tutorial 004's max-pool assumes even sizes (see scratch/pooling.py). Here every map size is
  even by construction (24, 8), and the pooling layer handles odd ones anyway.
"""

from __future__ import annotations

import numpy as np

from scratch.activations import ReLU
from scratch.conv import Conv2d
from scratch.flatten import Flatten
from scratch.linear import Linear
from scratch.module import Module
from scratch.pooling import MaxPool2d


class Net(Module):
    """logits = fc2(ReLU(fc1(flatten(ReLU(pool(conv2(ReLU(pool(conv1(x))))))))))

    x: (N, 1, 28, 28) -> logits: (N, num_classes)        twin: torch_ref/cnn.py

    conv1 1→C₁ 5×5: 28 → 24, pool → 12;  conv2 C₁→C₂ 5×5: 12 → 8, pool → 4;
    fc1 C₂·4·4 → hidden;  fc2 hidden → num_classes.  torch's default init everywhere.

    The layers without parameters (ReLU, pool, flatten) are modules too, one per use, because
    each keeps what its own backward needs; they add no ``state_dict`` keys, so the keys are
    torch's: conv1.weight, conv1.bias, conv2.…, fc1.…, fc2.….
    """

    def __init__(self, channels: tuple[int, int] = (16, 32), hidden: int = 128, num_classes: int = 10,
                 dtype=None, generator: np.random.Generator | None = None):
        super().__init__()
        self.conv1 = Conv2d(1, channels[0], kernel_size=5, dtype=dtype, generator=generator)
        self.pool1 = MaxPool2d(2)
        self.relu1 = ReLU()
        self.conv2 = Conv2d(channels[0], channels[1], kernel_size=5, dtype=dtype, generator=generator)
        self.pool2 = MaxPool2d(2)
        self.relu2 = ReLU()
        self.flatten = Flatten()
        self.fc1 = Linear(channels[1] * 4 * 4, hidden, dtype=dtype, generator=generator)
        self.relu3 = ReLU()
        self.fc2 = Linear(hidden, num_classes, dtype=dtype, generator=generator)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self.relu1(self.pool1(self.conv1(x)))           # (N, C₁, 12, 12)
        x = self.relu2(self.pool2(self.conv2(x)))           # (N, C₂, 4, 4)
        x = self.relu3(self.fc1(self.flatten(x)))           # (N, hidden)
        return self.fc2(x)                                  # (N, num_classes)

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """∂L/∂logits (N, classes) -> ∂L/∂x (N, 1, 28, 28), filling every param.grad.

        Training passes ``need_input_grad=False``: nothing uses ∂L/∂images, and torch never
        computes it either (the images do not require grad); conv1 then skips a third of its
        backward and this returns None.
        """
        grad = self.fc2.backward(grad_out)                                  # (N, hidden)
        grad = self.flatten.backward(self.fc1.backward(self.relu3.backward(grad)))  # (N, C₂, 4, 4)
        grad = self.conv2.backward(self.pool2.backward(self.relu2.backward(grad)))  # (N, C₁, 12, 12)
        grad = self.pool1.backward(self.relu1.backward(grad))                       # (N, C₁, 24, 24)
        return self.conv1.backward(grad, need_input_grad=need_input_grad)          # (N, 1, 28, 28)
