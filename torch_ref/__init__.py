"""nn-parity, with PyTorch: the same concepts as ``scratch/``, file for file, written with
torch.nn and torch.nn.functional. This half is the independent witness: it never re-derives
the maths by hand, and autograd computes every backward.
"""

from torch_ref import init, lr_scheduler, optim
from torch_ref.activations import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Step, Tanh
from torch_ref.batchnorm import BatchNorm1d, BatchNorm2d
from torch_ref.dropout import Dropout
from torch_ref.flatten import Flatten
from torch_ref.linear import Linear
from torch_ref.losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from torch_ref.neuron import Neuron
from torch_ref.perceptron import Perceptron
from torch_ref.pooling import AvgPool2d, MaxPool2d

__all__ = [
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "MaxPool2d",
    "NLLLoss",
    "Neuron",
    "Perceptron",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Step",
    "Tanh",
    "init",
    "lr_scheduler",
    "optim",
]
