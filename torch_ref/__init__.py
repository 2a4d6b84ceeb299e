"""nn-parity, with PyTorch: the same concepts as ``scratch/``, file for file, written with
torch.nn and torch.nn.functional. This half is the independent witness: it never re-derives
the maths by hand, and autograd computes every backward.
"""

from torch_ref import (
    augment,
    autograd,
    gradient_descent,
    gradient_flow,
    init,
    lr_scheduler,
    optim,
    regularization,
    training,
)
from torch_ref.activations import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Step, Tanh
from torch_ref.augment import RandomAffine
from torch_ref.batchnorm import BatchNorm1d, BatchNorm2d
from torch_ref.cnn import Net
from torch_ref.conv import Conv2d, conv2d, conv2d_naive, convolve2d
from torch_ref.cross_entropy import CrossEntropyLoss, NLLLoss
from torch_ref.dropout import Dropout
from torch_ref.flatten import Flatten
from torch_ref.gradient_flow import DeepMLP
from torch_ref.im2col import col2im, im2col
from torch_ref.linear import Linear
from torch_ref.losses import BCELoss, BCEWithLogitsLoss, MSELoss
from torch_ref.mlp import MLP, MoonsNet, XORNet
from torch_ref.neuron import Neuron
from torch_ref.perceptron import Perceptron
from torch_ref.pooling import AvgPool2d, MaxPool2d
from torch_ref.regularization import EarlyStopping, L1Penalty, L2Penalty
from torch_ref.sequential import Sequential

__all__ = [
    "MLP", "AvgPool2d", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "Conv2d",
    "CrossEntropyLoss", "DeepMLP", "Dropout", "EarlyStopping", "Flatten", "L1Penalty", "L2Penalty",
    "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "MaxPool2d", "MoonsNet", "NLLLoss", "Net",
    "Neuron", "Perceptron", "RandomAffine", "ReLU", "Sequential", "Sigmoid", "Softmax", "Step",
    "Tanh", "XORNet",
    "augment", "autograd", "col2im", "conv2d", "conv2d_naive", "convolve2d", "data",
    "gradient_descent", "gradient_flow", "im2col", "init", "lr_scheduler", "optim", "regularization",
    "training",
]
