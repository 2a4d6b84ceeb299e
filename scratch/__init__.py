"""nn-parity, from scratch: every layer, loss and optimiser in NumPy with a hand-written backward.

Read each file beside its twin in ``torch_ref/`` (the same file name).

Shapes (the letters of the torch docs, used everywhere):
    N batch · C_in, C_out channels · H, W height and width · kH, kW kernel size
    images are NCHW; a Linear weight is (out_features, in_features); a Conv2d weight is
    (C_out, C_in / groups, kH, kW).

Output size of a convolution or pooling window, per spatial dimension:
    H_out = ⌊(H + 2·padding − dilation·(kH − 1) − 1) / stride⌋ + 1

The contract of a scratch Module (see ``scratch/module.py``):
    out = layer(x)                 forward, keeps in layer.cache what backward needs
    grad_x = layer.backward(g)     g = ∂L/∂out; adds ∂L/∂θ into each param.grad, returns ∂L/∂x
"""

from scratch import (
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
from scratch.activations import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Step, Tanh
from scratch.augment import RandomAffine
from scratch.batchnorm import BatchNorm1d, BatchNorm2d
from scratch.cnn import Net
from scratch.conv import Conv2d, conv2d, conv2d_naive, convolve2d
from scratch.cross_entropy import CrossEntropyLoss, NLLLoss
from scratch.dropout import Dropout
from scratch.flatten import Flatten
from scratch.gradient_flow import DeepMLP
from scratch.im2col import col2im, im2col
from scratch.linear import Linear
from scratch.losses import BCELoss, BCEWithLogitsLoss, MSELoss
from scratch.mlp import MLP, MoonsNet, XORNet
from scratch.module import Module, Parameter
from scratch.neuron import Neuron
from scratch.perceptron import Perceptron
from scratch.pooling import AvgPool2d, MaxPool2d
from scratch.regularization import EarlyStopping, L1Penalty, L2Penalty
from scratch.sequential import Sequential

__all__ = [
    "MLP", "AvgPool2d", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "Conv2d",
    "CrossEntropyLoss", "DeepMLP", "Dropout", "EarlyStopping", "Flatten", "L1Penalty", "L2Penalty",
    "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "MaxPool2d", "Module", "MoonsNet", "NLLLoss",
    "Net", "Neuron", "Parameter", "Perceptron", "RandomAffine", "ReLU", "Sequential", "Sigmoid",
    "Softmax", "Step", "Tanh", "XORNet", "augment", "autograd", "col2im", "conv2d", "conv2d_naive",
    "convolve2d", "data", "gradient_descent", "gradient_flow", "im2col", "init", "lr_scheduler",
    "optim", "regularization", "training",
]
