"""Reliability: bad input is refused clearly, extreme and non-finite input behaves as in torch.

Three sweeps over every scratch layer, loss, optimizer and scheduler:

1. ``REFUSED``: input torch refuses (any exception). The scratch twin must refuse it too, with
   a ValueError or TypeError whose message names the layer, what it expected and what it got
   (``match`` holds the essential words). Both halves are tested, separately.
2. ``STRICTER``: input torch accepts (silently promoting, broadcasting or warning) and the
   scratch twin refuses on purpose; the test records both facts.
3. Numerics: extreme but finite inputs (±1e4, ±3e38 in float32, ±1e308 in float64) give no
   overflow warning (pytest turns RuntimeWarning into an error) and no NaN; NaN and ±inf
   propagate exactly as in torch (``assert_parity`` compares NaN positions too).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from torch import nn

from parity_tests.helpers import assert_close, assert_parity
from scratch import activations as A
from scratch import losses as L
from scratch.batchnorm import BatchNorm1d, BatchNorm2d
from scratch.conv import Conv2d
from scratch.dropout import Dropout
from scratch.flatten import Flatten
from scratch.linear import Linear
from scratch.lr_scheduler import CosineAnnealingLR, OneCycleLR, StepLR
from scratch.module import Parameter
from scratch.neuron import Neuron
from scratch.optim import SGD, Adadelta, Adam, AdamW
from scratch.pooling import AvgPool2d, MaxPool2d
from torch_ref import activations as TA
from torch_ref import losses as TL
from torch_ref.neuron import Neuron as TorchNeuron


def f32(*shape):
    return np.zeros(shape, dtype=np.float32)


def f64(*shape):
    return np.zeros(shape, dtype=np.float64)


def i64(*values):
    return np.array(values, dtype=np.int64)


def t32(*shape):
    return torch.zeros(shape)


def tl(*values):
    return torch.tensor(values, dtype=torch.long)


def half(*shape):
    return np.full(shape, 0.5, dtype=np.float32)


def scratch_params():
    return [Parameter(np.zeros(2, dtype=np.float32))]


def torch_params():
    return [nn.Parameter(torch.zeros(2))]


def run_schedule(scheduler, steps: int = 3):
    """A few epochs: optimizer.step() then scheduler.step(), as both libraries ask."""
    for _ in range(steps):
        scheduler.optimizer.step()
        scheduler.step()


def scratch_momentum_sgd():
    return SGD(scratch_params(), lr=0.1, momentum=0.9)


def torch_momentum_sgd():
    return torch.optim.SGD(torch_params(), lr=0.1, momentum=0.9)


@dataclass
class Case:
    id: str
    scratch: Callable[[], object]
    torch: Callable[[], object]
    error: type[Exception] | tuple[type[Exception], ...]
    match: str


# -- 1. refused by torch, so refused by scratch, with a clear message ------------------------
LINEAR = "Linear(in_features=4, out_features=3, bias=True)"
CONV = "Conv2d(3, 4, kernel_size=(3, 3), stride=(1, 1))"
MAXPOOL = "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
AVGPOOL = "AvgPool2d(kernel_size=2, stride=2, padding=0, ceil_mode=False, count_include_pad=True)"
BN2D = "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
BN1D = "BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
E = re.escape

REFUSED = [
    # Linear
    Case("Linear-wrong-width", lambda: Linear(4, 3)(f32(2, 5)), lambda: nn.Linear(4, 3)(t32(2, 5)),
         ValueError, E(LINEAR) + r": input must have shape \(\*, in_features=4\), got shape \(2, 5\)"),
    Case("Linear-0d-input", lambda: Linear(4, 3)(f32()), lambda: nn.Linear(4, 3)(t32()),
         ValueError, E(LINEAR) + r": input must have shape .*got shape \(\)"),
    Case("Linear-int-input", lambda: Linear(4, 3)(np.zeros((2, 4), dtype=np.int64)),
         lambda: nn.Linear(4, 3)(torch.zeros(2, 4, dtype=torch.long)),
         TypeError, E(LINEAR) + r": input must be float32 or float64, got dtype int64"),
    Case("Linear-float64-input-float32-layer", lambda: Linear(4, 3)(f64(2, 4)),
         lambda: nn.Linear(4, 3)(torch.zeros(2, 4, dtype=torch.float64)),
         TypeError, E(LINEAR) + r": input has dtype float64 but the layer's parameters are float32"),
    Case("Linear-list-input", lambda: Linear(4, 3)([[0.0] * 4]), lambda: nn.Linear(4, 3)([[0.0] * 4]),
         TypeError, E(LINEAR) + r": input must be a NumPy array, got list"),
    Case("Linear-negative-in_features", lambda: Linear(-1, 3), lambda: nn.Linear(-1, 3),
         ValueError, r"Linear: in_features must be a non-negative int, got -1"),
    Case("Linear-float-out_features", lambda: Linear(4, 2.5), lambda: nn.Linear(4, 2.5),
         (ValueError, TypeError), r"Linear: out_features must be a non-negative int, got 2\.5"),
    Case("Linear-int-dtype", lambda: Linear(4, 3, dtype=np.int32), lambda: nn.Linear(4, 3, dtype=torch.int32),
         TypeError, r"Linear.*dtype must be float32 or float64, got int32"),
    # activations
    Case("LeakyReLU-int-input", lambda: A.LeakyReLU()(np.zeros(3, dtype=np.int64)),
         lambda: TA.LeakyReLU()(torch.zeros(3, dtype=torch.long)),
         TypeError, r"LeakyReLU\(negative_slope=0\.01\): input must be float32 or float64, got dtype int64"),
    Case("LeakyReLU-slope-str", lambda: A.LeakyReLU("0.1"), lambda: TA.LeakyReLU("0.1")(t32(3)),
         TypeError, r"LeakyReLU: negative_slope must be a number, got str"),
    Case("Softmax-int-input", lambda: A.Softmax(1)(np.zeros((2, 3), dtype=np.int64)),
         lambda: TA.Softmax(1)(torch.zeros(2, 3, dtype=torch.long)),
         TypeError, r"Softmax\(dim=1\): input must be float32 or float64, got dtype int64"),
    Case("LogSoftmax-int-input", lambda: A.LogSoftmax(1)(np.zeros((2, 3), dtype=np.int64)),
         lambda: TA.LogSoftmax(1)(torch.zeros(2, 3, dtype=torch.long)),
         TypeError, r"LogSoftmax\(dim=1\): input must be float32 or float64, got dtype int64"),
    Case("Softmax-dim-out-of-range", lambda: A.Softmax(2)(f32(2, 3)), lambda: TA.Softmax(2)(t32(2, 3)),
         ValueError, r"Softmax\(dim=2\): dim must be in \[-2, 1\] for a 2-D input of shape \(2, 3\), "
                     r"got dim=2"),
    Case("LogSoftmax-dim-out-of-range", lambda: A.LogSoftmax(-3)(f32(2, 3)),
         lambda: TA.LogSoftmax(-3)(t32(2, 3)),
         ValueError, r"LogSoftmax\(dim=-3\): dim must be in \[-2, 1\] .*got dim=-3"),
    Case("Softmax-dim-float", lambda: A.Softmax(1.5), lambda: TA.Softmax(1.5)(t32(2, 3)),
         TypeError, r"Softmax: dim must be an int, got float"),
    Case("Sigmoid-list-input", lambda: A.Sigmoid()([0.0, 1.0]), lambda: TA.Sigmoid()([0.0, 1.0]),
         TypeError, r"Sigmoid: input must be a NumPy array, got list"),
    Case("ReLU-list-input", lambda: A.ReLU()([0.0, 1.0]), lambda: TA.ReLU()([0.0, 1.0]),
         TypeError, r"ReLU: input must be a NumPy array, got list"),
    # losses
    Case("MSELoss-target-shape", lambda: L.MSELoss()(f32(4), f32(3)), lambda: TL.MSELoss()(t32(4), t32(3)),
         ValueError, r"MSELoss: target must have the input's shape \(4,\), got \(3,\)"),
    Case("MSELoss-int-input", lambda: L.MSELoss()(np.zeros(4, np.int64), np.zeros(4, np.int64)),
         lambda: TL.MSELoss()(tl(0, 0, 0, 0), tl(0, 0, 0, 0)),
         TypeError, r"MSELoss: input must be float32 or float64, got dtype int64"),
    Case("MSELoss-reduction", lambda: L.MSELoss(reduction="avg"),
         lambda: TL.MSELoss(reduction="avg")(t32(4), t32(4)),
         ValueError, r"MSELoss: reduction must be 'none', 'mean' or 'sum', got 'avg'"),
    Case("MSELoss-none-backward-without-grad",
         lambda: _backward_after(L.MSELoss(reduction="none"), f32(3), f32(3)),
         lambda: TL.MSELoss(reduction="none")(t32(3).requires_grad_(), t32(3)).backward(),
         ValueError, r"MSELoss\.backward: with reduction='none' the loss is an array of shape \(3,\); "
                     r"pass grad_out"),
    Case("BCELoss-input-above-1", lambda: L.BCELoss()(np.array([1.5], np.float32), np.ones(1, np.float32)),
         lambda: TL.BCELoss()(torch.tensor([1.5]), torch.ones(1)),
         ValueError, r"BCELoss: input must be probabilities in \[0, 1\] .*got .*1\.5"),
    Case("BCELoss-input-negative", lambda: L.BCELoss()(np.array([-0.1], np.float32), np.ones(1, np.float32)),
         lambda: TL.BCELoss()(torch.tensor([-0.1]), torch.ones(1)),
         ValueError, r"BCELoss: input must be probabilities in \[0, 1\].*got .*-0\.1"),
    Case("BCELoss-input-nan", lambda: L.BCELoss()(np.array([np.nan], np.float32), np.ones(1, np.float32)),
         lambda: TL.BCELoss()(torch.tensor([float("nan")]), torch.ones(1)),
         ValueError, r"BCELoss: input must be probabilities in \[0, 1\].*got .*nan"),
    Case("BCELoss-target-above-1", lambda: L.BCELoss()(half(2), np.array([1.5, 0], np.float32)),
         lambda: TL.BCELoss()(torch.full((2,), 0.5), torch.tensor([1.5, 0.0])),
         ValueError, r"BCELoss: target must be probabilities in \[0, 1\].*got .*1\.5"),
    Case("BCELoss-target-nan", lambda: L.BCELoss()(half(2), np.array([np.nan, 0], np.float32)),
         lambda: TL.BCELoss()(torch.full((2,), 0.5), torch.tensor([float("nan"), 0.0])),
         ValueError, r"BCELoss: target must be probabilities in \[0, 1\].*got .*nan"),
    Case("BCELoss-target-shape", lambda: L.BCELoss()(half(4, 1), half(4)),
         lambda: TL.BCELoss()(torch.full((4, 1), 0.5), torch.full((4,), 0.5)),
         ValueError, r"BCELoss: target must have the input's shape \(4, 1\), got \(4,\)"),
    Case("BCELoss-int-target", lambda: L.BCELoss()(half(4), np.zeros(4, np.int64)),
         lambda: TL.BCELoss()(torch.full((4,), 0.5), tl(0, 0, 0, 0)),
         TypeError, r"BCELoss: target must be float32 or float64, got dtype int64"),
    Case("BCEWithLogitsLoss-target-shape", lambda: L.BCEWithLogitsLoss()(f32(4, 1), f32(4)),
         lambda: TL.BCEWithLogitsLoss()(t32(4, 1), t32(4)),
         ValueError, r"BCEWithLogitsLoss: target must have the input's shape \(4, 1\), got \(4,\)"),
    Case("BCEWithLogitsLoss-int-target", lambda: L.BCEWithLogitsLoss()(f32(4), np.zeros(4, np.int64)),
         lambda: TL.BCEWithLogitsLoss()(t32(4), tl(0, 0, 0, 0)),
         TypeError, r"BCEWithLogitsLoss: target must be float32 or float64, got dtype int64"),
    Case("BCEWithLogitsLoss-int-input",
         lambda: L.BCEWithLogitsLoss()(np.zeros(4, np.int64), f32(4)),
         lambda: TL.BCEWithLogitsLoss()(tl(0, 0, 0, 0), t32(4)),
         TypeError, r"BCEWithLogitsLoss: input must be float32 or float64, got dtype int64"),
    Case("BCEWithLogitsLoss-pos_weight-shape",
         lambda: L.BCEWithLogitsLoss(pos_weight=np.ones(3, np.float32))(f32(4, 5), f32(4, 5)),
         lambda: TL.BCEWithLogitsLoss(pos_weight=torch.ones(3))(t32(4, 5), t32(4, 5)),
         ValueError, r"BCEWithLogitsLoss: pos_weight of shape \(3,\) does not broadcast to the "
                     r"input's shape \(4, 5\)"),
    Case("CrossEntropyLoss-class-out-of-range", lambda: L.CrossEntropyLoss()(f32(2, 3), i64(0, 3)),
         lambda: TL.CrossEntropyLoss()(t32(2, 3), tl(0, 3)),
         ValueError, r"CrossEntropyLoss: target holds class index 3, out of range: the input has 3 "
                     r"classes, so targets must be in \[0, 2\]"),
    Case("CrossEntropyLoss-negative-class", lambda: L.CrossEntropyLoss()(f32(2, 3), i64(0, -1)),
         lambda: TL.CrossEntropyLoss()(t32(2, 3), tl(0, -1)),
         ValueError, r"CrossEntropyLoss: target holds class index -1, out of range"),
    Case("CrossEntropyLoss-float-class-target",
         lambda: L.CrossEntropyLoss()(f32(2, 3), np.array([0.0, 1.0], np.float32)),
         lambda: TL.CrossEntropyLoss()(t32(2, 3), torch.tensor([0.0, 1.0])),
         TypeError, r"CrossEntropyLoss: target must hold class indices as int64 \(or uint8\), got "
                    r"dtype float32"),
    Case("CrossEntropyLoss-int32-target",
         lambda: L.CrossEntropyLoss()(f32(2, 3), np.array([0, 1], np.int32)),
         lambda: TL.CrossEntropyLoss()(t32(2, 3), torch.tensor([0, 1], dtype=torch.int32)),
         TypeError, r"CrossEntropyLoss: target must hold class indices as int64 .*got dtype int32"),
    Case("CrossEntropyLoss-target-N-by-1", lambda: L.CrossEntropyLoss()(f32(2, 3), i64(0, 1)[:, None]),
         lambda: TL.CrossEntropyLoss()(t32(2, 3), tl(0, 1)[:, None]),
         ValueError, r"CrossEntropyLoss: for input of shape \(2, 3\) the target must have shape "
                     r"\(N, d1, …\) = \(2,\), got \(2, 1\)"),
    Case("CrossEntropyLoss-batch-mismatch", lambda: L.CrossEntropyLoss()(f32(2, 3), i64(0, 1, 2)),
         lambda: TL.CrossEntropyLoss()(t32(2, 3), tl(0, 1, 2)),
         ValueError, r"CrossEntropyLoss: for input of shape \(2, 3\) the target must have shape .*"
                     r"got \(3,\)"),
    Case("CrossEntropyLoss-weight-size",
         lambda: L.CrossEntropyLoss(weight=np.ones(4, np.float32))(f32(2, 3), i64(0, 1)),
         lambda: TL.CrossEntropyLoss(weight=torch.ones(4))(t32(2, 3), tl(0, 1)),
         ValueError, r"CrossEntropyLoss: weight must have one entry per class, shape \(3,\), got \(4,\)"),
    Case("CrossEntropyLoss-label_smoothing-above-1", lambda: L.CrossEntropyLoss(label_smoothing=1.5),
         lambda: TL.CrossEntropyLoss(label_smoothing=1.5)(t32(2, 3), tl(0, 1)),
         ValueError, r"CrossEntropyLoss: label_smoothing must be a number in \[0, 1\], got 1\.5"),
    Case("CrossEntropyLoss-0d-input", lambda: L.CrossEntropyLoss()(f32(), np.array(0)),
         lambda: TL.CrossEntropyLoss()(t32(), torch.tensor(0)),
         ValueError, r"CrossEntropyLoss: input must be \(C,\), \(N, C\) or \(N, C, d1, …\), got a 0-d array"),
    Case("CrossEntropyLoss-int-logits",
         lambda: L.CrossEntropyLoss()(np.zeros((2, 3), np.int64), i64(0, 1)),
         lambda: TL.CrossEntropyLoss()(torch.zeros(2, 3, dtype=torch.long), tl(0, 1)),
         TypeError, r"CrossEntropyLoss: input must be float32 or float64, got dtype int64"),
    Case("CrossEntropyLoss-ignore_index-float", lambda: L.CrossEntropyLoss(ignore_index=1.5),
         lambda: TL.CrossEntropyLoss(ignore_index=1.5)(t32(2, 3), tl(0, 1)),
         TypeError, r"CrossEntropyLoss: ignore_index must be an int, got 1\.5"),
    Case("NLLLoss-class-out-of-range", lambda: L.NLLLoss()(f32(2, 3), i64(0, 3)),
         lambda: TL.NLLLoss()(t32(2, 3), tl(0, 3)),
         ValueError, r"NLLLoss: target holds class index 3, out of range: the input has 3 classes"),
    Case("NLLLoss-float-target", lambda: L.NLLLoss()(f32(2, 3), np.array([0.0, 1.0], np.float32)),
         lambda: TL.NLLLoss()(t32(2, 3), torch.tensor([0.0, 1.0])),
         TypeError, r"NLLLoss: target must hold class indices as int64 \(or uint8\), got dtype float32"),
    # Conv2d
    Case("Conv2d-2d-input", lambda: Conv2d(3, 4, 3)(f32(5, 5)), lambda: nn.Conv2d(3, 4, 3)(t32(5, 5)),
         ValueError, E(CONV) + r": input must be 3-D or 4-D \(N, C_in, H, W\) or \(C_in, H, W\), got 2-D "
                               r"with shape \(5, 5\)"),
    Case("Conv2d-5d-input", lambda: Conv2d(3, 4, 3)(f32(1, 1, 3, 5, 5)),
         lambda: nn.Conv2d(3, 4, 3)(t32(1, 1, 3, 5, 5)),
         ValueError, E(CONV) + r": input must be 3-D or 4-D .*got 5-D"),
    Case("Conv2d-wrong-channels", lambda: Conv2d(3, 4, 3)(f32(1, 2, 5, 5)),
         lambda: nn.Conv2d(3, 4, 3)(t32(1, 2, 5, 5)),
         ValueError, E(CONV) + r": input must have in_channels=3 channels \(dimension -3\), got shape "
                               r"\(1, 2, 5, 5\)"),
    Case("Conv2d-int-input", lambda: Conv2d(3, 4, 3)(np.zeros((1, 3, 5, 5), np.int64)),
         lambda: nn.Conv2d(3, 4, 3)(torch.zeros(1, 3, 5, 5, dtype=torch.long)),
         TypeError, E(CONV) + r": input must be float32 or float64, got dtype int64"),
    Case("Conv2d-float64-input-float32-layer", lambda: Conv2d(3, 4, 3)(f64(1, 3, 5, 5)),
         lambda: nn.Conv2d(3, 4, 3)(torch.zeros(1, 3, 5, 5, dtype=torch.float64)),
         TypeError, E(CONV) + r": input has dtype float64 but the layer's parameters are float32"),
    Case("Conv2d-input-smaller-than-kernel", lambda: Conv2d(3, 4, 3)(f32(1, 3, 2, 2)),
         lambda: nn.Conv2d(3, 4, 3)(t32(1, 3, 2, 2)),
         ValueError, E(CONV) + r": the padded input \(2 x 2\) is smaller than the dilated kernel \(3 x 3\)"),
    Case("Conv2d-kernel-0", lambda: Conv2d(3, 4, 0), lambda: nn.Conv2d(3, 4, 0)(t32(1, 3, 5, 5)),
         ValueError, r"Conv2d: kernel_size must be an int or a pair of ints ≥ 1, got 0"),
    Case("Conv2d-stride-0", lambda: Conv2d(3, 4, 3, stride=0),
         lambda: nn.Conv2d(3, 4, 3, stride=0)(t32(1, 3, 5, 5)),
         ValueError, r"Conv2d: stride must be an int or a pair of ints ≥ 1, got 0"),
    Case("Conv2d-negative-padding", lambda: Conv2d(3, 4, 3, padding=-1),
         lambda: nn.Conv2d(3, 4, 3, padding=-1)(t32(1, 3, 5, 5)),
         ValueError, r"Conv2d: padding must be an int or a pair of ints ≥ 0, got -1"),
    Case("Conv2d-dilation-0", lambda: Conv2d(3, 4, 3, dilation=0),
         lambda: nn.Conv2d(3, 4, 3, dilation=0)(t32(1, 3, 5, 5)),
         ValueError, r"Conv2d: dilation must be an int or a pair of ints ≥ 1, got 0"),
    Case("Conv2d-groups-not-dividing", lambda: Conv2d(3, 4, 3, groups=2),
         lambda: nn.Conv2d(3, 4, 3, groups=2),
         ValueError, r"Conv2d: in_channels=3 and out_channels=4 must both be divisible by groups=2"),
    Case("Conv2d-negative-in_channels", lambda: Conv2d(-1, 4, 3), lambda: nn.Conv2d(-1, 4, 3),
         ValueError, r"Conv2d: in_channels must be a non-negative int, got -1"),
    Case("Conv2d-same-padding-strided", lambda: Conv2d(3, 4, 3, stride=2, padding="same"),
         lambda: nn.Conv2d(3, 4, 3, stride=2, padding="same"),
         ValueError, r"Conv2d: padding='same' is not supported for strided convolutions"),
    Case("Conv2d-unknown-padding-string", lambda: Conv2d(3, 4, 3, padding="full"),
         lambda: nn.Conv2d(3, 4, 3, padding="full"),
         ValueError, r"Conv2d: padding must be an int, a pair of ints, 'valid' or 'same', got 'full'"),
    Case("Conv2d-int-dtype", lambda: Conv2d(3, 4, 3, dtype=np.int32),
         lambda: nn.Conv2d(3, 4, 3, dtype=torch.int32),
         TypeError, r"Conv2d.*dtype must be float32 or float64, got int32"),
    # pooling
    Case("MaxPool2d-2d-input", lambda: MaxPool2d(2)(f32(4, 4)), lambda: nn.MaxPool2d(2)(t32(4, 4)),
         ValueError, E(MAXPOOL) + r": input must be 3-D or 4-D \(N, C, H, W\) or \(C, H, W\), got 2-D "
                                  r"with shape \(4, 4\)"),
    Case("MaxPool2d-5d-input", lambda: MaxPool2d(2)(f32(1, 1, 1, 4, 4)),
         lambda: nn.MaxPool2d(2)(t32(1, 1, 1, 4, 4)),
         ValueError, E(MAXPOOL) + r": input must be 3-D or 4-D .*got 5-D"),
    Case("MaxPool2d-empty-channels", lambda: MaxPool2d(2)(f32(1, 0, 4, 4)),
         lambda: nn.MaxPool2d(2)(t32(1, 0, 4, 4)),
         ValueError, E(MAXPOOL) + r": input must have non-empty C, H and W, got shape \(1, 0, 4, 4\)"),
    Case("MaxPool2d-input-too-small", lambda: MaxPool2d(3)(f32(1, 1, 2, 2)),
         lambda: nn.MaxPool2d(3)(t32(1, 1, 2, 2)),
         ValueError, r"MaxPool2d\(kernel_size=3.*\): input of spatial size \(2, 2\) is too small"),
    Case("MaxPool2d-kernel-0", lambda: MaxPool2d(0), lambda: nn.MaxPool2d(0)(t32(1, 1, 4, 4)),
         ValueError, r"MaxPool2d: kernel_size must be an int or a pair of ints ≥ 1, got 0"),
    Case("MaxPool2d-stride-0", lambda: MaxPool2d(2, stride=0),
         lambda: nn.MaxPool2d(2, stride=0)(t32(1, 1, 4, 4)),
         ValueError, r"MaxPool2d: stride must be an int or a pair of ints ≥ 1, got 0"),
    Case("MaxPool2d-negative-padding", lambda: MaxPool2d(2, padding=-1),
         lambda: nn.MaxPool2d(2, padding=-1)(t32(1, 1, 4, 4)),
         ValueError, r"MaxPool2d: padding must be an int or a pair of ints ≥ 0, got -1"),
    Case("MaxPool2d-padding-over-half-kernel", lambda: MaxPool2d(2, padding=2),
         lambda: nn.MaxPool2d(2, padding=2)(t32(1, 1, 4, 4)),
         ValueError, r"MaxPool2d: padding must be at most half of kernel_size, got padding=2 with "
                     r"kernel_size=2"),
    Case("MaxPool2d-dilation-0", lambda: MaxPool2d(2, dilation=0),
         lambda: nn.MaxPool2d(2, dilation=0)(t32(1, 1, 4, 4)),
         ValueError, r"MaxPool2d: dilation must be an int or a pair of ints ≥ 1, got 0"),
    Case("AvgPool2d-2d-input", lambda: AvgPool2d(2)(f32(4, 4)), lambda: nn.AvgPool2d(2)(t32(4, 4)),
         ValueError, E(AVGPOOL) + r": input must be 3-D or 4-D .*got 2-D with shape \(4, 4\)"),
    Case("AvgPool2d-input-too-small", lambda: AvgPool2d(3)(f32(1, 1, 2, 2)),
         lambda: nn.AvgPool2d(3)(t32(1, 1, 2, 2)),
         ValueError, r"AvgPool2d\(kernel_size=3.*\): input of spatial size \(2, 2\) is too small"),
    Case("AvgPool2d-kernel-0", lambda: AvgPool2d(0), lambda: nn.AvgPool2d(0)(t32(1, 1, 4, 4)),
         ValueError, r"AvgPool2d: kernel_size must be an int or a pair of ints ≥ 1, got 0"),
    Case("AvgPool2d-divisor_override-0", lambda: AvgPool2d(2, divisor_override=0),
         lambda: nn.AvgPool2d(2, divisor_override=0)(t32(1, 1, 4, 4)),
         ValueError, r"AvgPool2d: divisor_override must be None or a non-zero int, got 0"),
    # Flatten
    Case("Flatten-start_dim-out-of-range", lambda: Flatten(3)(f32(2, 3)), lambda: nn.Flatten(3)(t32(2, 3)),
         ValueError, r"Flatten\(start_dim=3, end_dim=-1\): start_dim=3 is out of range for an input "
                     r"with 2 dims"),
    Case("Flatten-start-after-end", lambda: Flatten(2, 1)(f32(2, 3, 4)),
         lambda: nn.Flatten(2, 1)(t32(2, 3, 4)),
         ValueError, r"Flatten\(start_dim=2, end_dim=1\): start_dim must not come after end_dim"),
    Case("Flatten-float-dim", lambda: Flatten(1.5), lambda: nn.Flatten(1.5)(t32(2, 3, 4)),
         TypeError, r"Flatten: start_dim must be an int, got 1\.5"),
    # Dropout
    Case("Dropout-p-above-1", lambda: Dropout(1.5), lambda: nn.Dropout(1.5),
         ValueError, r"Dropout: p \(the drop probability\) must be between 0 and 1, got 1\.5"),
    Case("Dropout-p-negative", lambda: Dropout(-0.1), lambda: nn.Dropout(-0.1),
         ValueError, r"Dropout: p \(the drop probability\) must be between 0 and 1, got -0\.1"),
    Case("Dropout-p-str", lambda: Dropout("0.5"), lambda: nn.Dropout("0.5"),
         (ValueError, TypeError), r"Dropout: p \(the drop probability\) must be between 0 and 1, got '0\.5'"),
    Case("Dropout-int-input", lambda: Dropout(0.5)(np.zeros(4, np.int64)),
         lambda: nn.Dropout(0.5)(torch.zeros(4, dtype=torch.long)),
         TypeError, r"Dropout\(p=0\.5, inplace=False\): input must be float32 or float64, got dtype int64"),
    # BatchNorm
    Case("BatchNorm2d-wrong-channels", lambda: BatchNorm2d(3)(f32(2, 4, 5, 5)),
         lambda: nn.BatchNorm2d(3)(t32(2, 4, 5, 5)),
         ValueError, E(BN2D) + r": input must have num_features=3 channels in dimension 1, got shape "
                               r"\(2, 4, 5, 5\)"),
    Case("BatchNorm2d-3d-input", lambda: BatchNorm2d(3)(f32(3, 5, 5)),
         lambda: nn.BatchNorm2d(3)(t32(3, 5, 5)),
         ValueError, E(BN2D) + r": input must be 4-D \(N, C, H, W\), got 3-D with shape \(3, 5, 5\)"),
    Case("BatchNorm1d-4d-input", lambda: BatchNorm1d(3)(f32(2, 3, 5, 5)),
         lambda: nn.BatchNorm1d(3)(t32(2, 3, 5, 5)),
         ValueError, E(BN1D) + r": input must be 2-D \(N, C\) or 3-D \(N, C, L\), got 4-D"),
    Case("BatchNorm1d-one-value-per-channel", lambda: BatchNorm1d(3)(f32(1, 3)),
         lambda: nn.BatchNorm1d(3)(t32(1, 3)),
         ValueError, E(BN1D) + r": expected more than 1 value per channel when training, got input size "
                               r"\(1, 3\)"),
    Case("BatchNorm1d-num_features-0", lambda: BatchNorm1d(0), lambda: nn.BatchNorm1d(0)(t32(2, 0)),
         ValueError, r"BatchNorm1d: num_features must be a positive int, got 0"),
    Case("BatchNorm1d-negative-eps", lambda: BatchNorm1d(3, eps=-1),
         lambda: nn.BatchNorm1d(3, eps=-1)(torch.randn(4, 3)),
         ValueError, r"BatchNorm1d: eps must be a (non-negative|positive) number, got -1"),
    Case("BatchNorm1d-zero-eps-training", lambda: BatchNorm1d(3, eps=0)(f32(4, 3)),
         lambda: nn.BatchNorm1d(3, eps=0)(torch.zeros(4, 3)),
         ValueError, r"BatchNorm1d.*eps must be positive.*got 0"),
    Case("BatchNorm1d-int-input", lambda: BatchNorm1d(3)(np.zeros((4, 3), np.int64)),
         lambda: nn.BatchNorm1d(3)(torch.zeros(4, 3, dtype=torch.long)),
         TypeError, E(BN1D) + r": input must be float32 or float64, got dtype int64"),
    Case("BatchNorm1d-float64-input-float32-layer", lambda: BatchNorm1d(3)(f64(4, 3)),
         lambda: nn.BatchNorm1d(3)(torch.zeros(4, 3, dtype=torch.float64)),
         TypeError, E(BN1D) + r": input has dtype float64 but the layer's parameters are float32"),
    Case("BatchNorm1d-momentum-str", lambda: BatchNorm1d(3, momentum="0.1"),
         lambda: nn.BatchNorm1d(3, momentum="0.1")(torch.randn(4, 3)),
         (ValueError, TypeError), r"BatchNorm1d: momentum must be a number or None, got '0\.1'"),
    # Neuron
    Case("Neuron-wrong-width", lambda: Neuron(3)(f32(2, 4)), lambda: TorchNeuron(3)(t32(2, 4)),
         ValueError, r"Neuron\(n_inputs=3, bias=True\): input must have shape \(\*, n_inputs=3\), got "
                     r"shape \(2, 4\)"),
    Case("Neuron-int-input", lambda: Neuron(3)(np.zeros((2, 3), np.int64)),
         lambda: TorchNeuron(3)(torch.zeros(2, 3, dtype=torch.long)),
         TypeError, r"Neuron\(n_inputs=3, bias=True\): input must be float32 or float64, got dtype int64"),
    Case("Neuron-n_inputs-0", lambda: Neuron(0), lambda: TorchNeuron(0),
         ValueError, r"Neuron: n_inputs must be a positive int, got 0"),
    Case("Neuron-unknown-activation", lambda: Neuron(3, activation="softsign"),
         lambda: TorchNeuron(3, activation="softsign"),
         ValueError, r"Neuron: activation must be one of \[.*\], got 'softsign'"),
    # optimizers
    Case("SGD-negative-lr", lambda: SGD(scratch_params(), lr=-0.1),
         lambda: torch.optim.SGD(torch_params(), lr=-0.1),
         ValueError, r"SGD: lr must be >= 0, got -0\.1"),
    Case("SGD-negative-momentum", lambda: SGD(scratch_params(), lr=0.1, momentum=-1),
         lambda: torch.optim.SGD(torch_params(), lr=0.1, momentum=-1),
         ValueError, r"SGD: momentum must be >= 0, got -1"),
    Case("SGD-negative-weight_decay", lambda: SGD(scratch_params(), lr=0.1, weight_decay=-1),
         lambda: torch.optim.SGD(torch_params(), lr=0.1, weight_decay=-1),
         ValueError, r"SGD: weight_decay must be >= 0, got -1"),
    Case("SGD-nesterov-without-momentum", lambda: SGD(scratch_params(), lr=0.1, nesterov=True),
         lambda: torch.optim.SGD(torch_params(), lr=0.1, nesterov=True),
         ValueError, r"SGD: nesterov needs momentum > 0 and dampening = 0, got momentum=0"),
    Case("SGD-empty-params", lambda: SGD([], lr=0.1), lambda: torch.optim.SGD([], lr=0.1),
         ValueError, r"SGD: got an empty parameter list"),
    Case("SGD-module-as-params", lambda: SGD(Linear(2, 2), lr=0.1),
         lambda: torch.optim.SGD(nn.Linear(2, 2), lr=0.1),
         TypeError, r"SGD: params must be an iterable of Parameters or of dicts, got a Linear "
                    r"\(pass model\.parameters\(\)\)"),
    Case("SGD-lr-str", lambda: SGD(scratch_params(), lr="0.1"),
         lambda: torch.optim.SGD(torch_params(), lr="0.1"),
         TypeError, r"SGD: lr must be a number, got '0\.1'"),
    Case("Adam-negative-lr", lambda: Adam(scratch_params(), lr=-0.1),
         lambda: torch.optim.Adam(torch_params(), lr=-0.1),
         ValueError, r"Adam: lr must be >= 0, got -0\.1"),
    Case("Adam-nan-lr", lambda: Adam(scratch_params(), lr=float("nan")),
         lambda: torch.optim.Adam(torch_params(), lr=float("nan")),
         ValueError, r"Adam: lr must be >= 0, got nan"),
    Case("Adam-negative-eps", lambda: Adam(scratch_params(), eps=-1),
         lambda: torch.optim.Adam(torch_params(), eps=-1),
         ValueError, r"Adam: eps must be >= 0, got -1"),
    Case("Adam-beta1-1", lambda: Adam(scratch_params(), betas=(1.0, 0.999)),
         lambda: torch.optim.Adam(torch_params(), betas=(1.0, 0.999)),
         ValueError, r"Adam: betas\[0\] must be in \[0, 1\), got 1\.0"),
    Case("Adam-beta2-negative", lambda: Adam(scratch_params(), betas=(0.9, -0.1)),
         lambda: torch.optim.Adam(torch_params(), betas=(0.9, -0.1)),
         ValueError, r"Adam: betas\[1\] must be in \[0, 1\), got -0\.1"),
    Case("Adam-negative-weight_decay", lambda: Adam(scratch_params(), weight_decay=-1),
         lambda: torch.optim.Adam(torch_params(), weight_decay=-1),
         ValueError, r"Adam: weight_decay must be >= 0, got -1"),
    Case("Adam-one-beta", lambda: Adam(scratch_params(), betas=(0.9,)),
         lambda: torch.optim.Adam(torch_params(), betas=(0.9,)),
         (ValueError, TypeError), r"Adam: betas must be a pair \(beta1, beta2\), got \(0\.9,\)"),
    Case("AdamW-negative-lr", lambda: AdamW(scratch_params(), lr=-0.1),
         lambda: torch.optim.AdamW(torch_params(), lr=-0.1),
         ValueError, r"AdamW: lr must be >= 0, got -0\.1"),
    Case("AdamW-beta1-above-1", lambda: AdamW(scratch_params(), betas=(1.5, 0.999)),
         lambda: torch.optim.AdamW(torch_params(), betas=(1.5, 0.999)),
         ValueError, r"AdamW: betas\[0\] must be in \[0, 1\), got 1\.5"),
    Case("AdamW-negative-weight_decay", lambda: AdamW(scratch_params(), weight_decay=-0.01),
         lambda: torch.optim.AdamW(torch_params(), weight_decay=-0.01),
         ValueError, r"AdamW: weight_decay must be >= 0, got -0\.01"),
    # schedulers
    Case("StepLR-step_size-0", lambda: run_schedule(StepLR(SGD(scratch_params(), lr=0.1), step_size=0)),
         lambda: run_schedule(torch.optim.lr_scheduler.StepLR(torch.optim.SGD(torch_params(), lr=0.1),
                                                              step_size=0)),
         ValueError, r"StepLR: step_size must be a positive int, got 0"),
    Case("CosineAnnealingLR-T_max-0",
         lambda: run_schedule(CosineAnnealingLR(SGD(scratch_params(), lr=0.1), T_max=0)),
         lambda: run_schedule(torch.optim.lr_scheduler.CosineAnnealingLR(
             torch.optim.SGD(torch_params(), lr=0.1), T_max=0)),
         ValueError, r"CosineAnnealingLR: T_max must be a positive int, got 0"),
    Case("OneCycleLR-total_steps-0", lambda: OneCycleLR(scratch_momentum_sgd(), max_lr=0.1, total_steps=0),
         lambda: torch.optim.lr_scheduler.OneCycleLR(torch_momentum_sgd(), max_lr=0.1, total_steps=0),
         ValueError, r"OneCycleLR: total_steps must be a positive int, got 0"),
    Case("OneCycleLR-negative-epochs",
         lambda: OneCycleLR(scratch_momentum_sgd(), max_lr=0.1, epochs=-1, steps_per_epoch=10),
         lambda: torch.optim.lr_scheduler.OneCycleLR(torch_momentum_sgd(), max_lr=0.1, epochs=-1,
                                                     steps_per_epoch=10),
         ValueError, r"OneCycleLR: epochs must be a positive int, got -1"),
    Case("OneCycleLR-no-length", lambda: OneCycleLR(scratch_momentum_sgd(), max_lr=0.1),
         lambda: torch.optim.lr_scheduler.OneCycleLR(torch_momentum_sgd(), max_lr=0.1),
         ValueError, r"OneCycleLR: give total_steps, or both epochs and steps_per_epoch"),
    Case("OneCycleLR-pct_start-above-1",
         lambda: OneCycleLR(scratch_momentum_sgd(), max_lr=0.1, total_steps=10, pct_start=1.5),
         lambda: torch.optim.lr_scheduler.OneCycleLR(torch_momentum_sgd(), max_lr=0.1, total_steps=10,
                                                     pct_start=1.5),
         ValueError, r"OneCycleLR: pct_start must be a float in \[0, 1\], got 1\.5"),
    Case("OneCycleLR-unknown-anneal",
         lambda: OneCycleLR(scratch_momentum_sgd(), max_lr=0.1, total_steps=10, anneal_strategy="exp"),
         lambda: torch.optim.lr_scheduler.OneCycleLR(torch_momentum_sgd(), max_lr=0.1, total_steps=10,
                                                     anneal_strategy="exp"),
         ValueError, r"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got 'exp'"),
    Case("OneCycleLR-optimizer-without-momentum",
         lambda: OneCycleLR(Adadelta(scratch_params()), max_lr=0.1, total_steps=10),
         lambda: torch.optim.lr_scheduler.OneCycleLR(torch.optim.Adadelta(torch_params()), max_lr=0.1,
                                                     total_steps=10),
         ValueError, r"OneCycleLR: cycle_momentum needs an optimizer with momentum or betas, got Adadelta"),
    Case("OneCycleLR-stepped-past-the-end",
         lambda: run_schedule(OneCycleLR(scratch_momentum_sgd(), max_lr=0.1, total_steps=2)),
         lambda: run_schedule(torch.optim.lr_scheduler.OneCycleLR(torch_momentum_sgd(), max_lr=0.1,
                                                                  total_steps=2)),
         ValueError, r"OneCycleLR: tried to step 3 times, but total_steps is 2"),
    Case("StepLR-not-an-optimizer", lambda: StepLR(object(), step_size=2),
         lambda: torch.optim.lr_scheduler.StepLR(object(), step_size=2),
         TypeError, r"StepLR: optimizer must be a scratch\.optim Optimizer, got object"),
]


def _backward_after(loss, *inputs):
    loss(*inputs)
    return loss.backward()


def _params(cases):
    return [pytest.param(case, id=case.id) for case in cases]


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors:UserWarning")   # Conv2d(k=0)
@pytest.mark.filterwarnings("ignore:Using a target size:UserWarning")   # MSELoss broadcasting, then refuses
@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in REFUSED])
def test_torch_refuses(case):
    with pytest.raises(Exception):  # noqa: B017 (torch's exception types vary; refusing is what counts)
        case.torch()


@pytest.mark.parametrize("case", _params(REFUSED))
def test_scratch_refuses_clearly(case):
    with pytest.raises(case.error, match=case.match):
        case.scratch()


# -- 2. accepted by torch, refused by scratch on purpose ---------------------------------------
STRICTER = [
    # every scratch layer computes in float32/float64; torch computes these in integers or promotes
    Case("Sigmoid-int-input", lambda: A.Sigmoid()(np.zeros(3, np.int64)),
         lambda: TA.Sigmoid()(torch.zeros(3, dtype=torch.long)),
         TypeError, r"Sigmoid: input must be float32 or float64, got dtype int64"),
    Case("Tanh-int-input", lambda: A.Tanh()(np.zeros(3, np.int64)),
         lambda: TA.Tanh()(torch.zeros(3, dtype=torch.long)),
         TypeError, r"Tanh: input must be float32 or float64, got dtype int64"),
    Case("ReLU-int-input", lambda: A.ReLU()(np.zeros(3, np.int64)),
         lambda: TA.ReLU()(torch.zeros(3, dtype=torch.long)),
         TypeError, r"ReLU: input must be float32 or float64, got dtype int64"),
    Case("MaxPool2d-int-input", lambda: MaxPool2d(2)(np.zeros((1, 1, 4, 4), np.int64)),
         lambda: nn.MaxPool2d(2)(torch.zeros(1, 1, 4, 4, dtype=torch.long)),
         TypeError, E(MAXPOOL) + r": input must be float32 or float64, got dtype int64"),
    Case("AvgPool2d-int-input", lambda: AvgPool2d(2)(np.zeros((1, 1, 4, 4), np.int64)),
         lambda: nn.AvgPool2d(2)(torch.zeros(1, 1, 4, 4, dtype=torch.long)),
         TypeError, E(AVGPOOL) + r": input must be float32 or float64, got dtype int64"),
    Case("Flatten-int-input", lambda: Flatten()(np.zeros((2, 3), np.int64)),
         lambda: nn.Flatten()(torch.zeros(2, 3, dtype=torch.long)),
         TypeError, r"Flatten\(start_dim=1, end_dim=-1\): input must be float32 or float64, got dtype int64"),
    # torch warns, then broadcasts (N, 1) against (N,) into an (N, N) loss
    Case("MSELoss-N-by-1-against-N", lambda: L.MSELoss()(f32(4, 1), f32(4)),
         lambda: TL.MSELoss()(t32(4, 1), t32(4)),
         ValueError, r"MSELoss: target must have the input's shape \(4, 1\), got \(4,\)"),
    # torch silently promotes the other argument
    Case("MSELoss-int-target", lambda: L.MSELoss()(f32(4), np.zeros(4, np.int64)),
         lambda: TL.MSELoss()(t32(4), tl(0, 0, 0, 0)),
         TypeError, r"MSELoss: target must be float32 or float64, got dtype int64"),
    Case("MSELoss-float64-target-float32-input", lambda: L.MSELoss()(f32(4), f64(4)),
         lambda: TL.MSELoss()(t32(4), torch.zeros(4, dtype=torch.float64)),
         TypeError, r"MSELoss: target has dtype float64 but input has dtype float32"),
    Case("CrossEntropyLoss-float64-probabilities-float32-logits",
         lambda: L.CrossEntropyLoss()(f32(2, 3), f64(2, 3)),
         lambda: TL.CrossEntropyLoss()(t32(2, 3), torch.zeros(2, 3, dtype=torch.float64)),
         TypeError, r"CrossEntropyLoss: target has dtype float64 but input has dtype float32"),
    # torch's label smoothing below 0 is silently accepted (the loss then rewards wrong classes)
    Case("CrossEntropyLoss-negative-label_smoothing", lambda: L.CrossEntropyLoss(label_smoothing=-0.1),
         lambda: TL.CrossEntropyLoss(label_smoothing=-0.1)(t32(2, 3), tl(0, 1)),
         ValueError, r"CrossEntropyLoss: label_smoothing must be a number in \[0, 1\], got -0\.1"),
    # torch's implicit softmax dimension is deprecated and picks the batch dim of 3-D input
    Case("Softmax-dim-None", lambda: A.Softmax(), lambda: TA.Softmax()(t32(2, 3)),
         ValueError, r"Softmax: dim=None is not supported; pass the dimension to normalise"),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in STRICTER])
def test_scratch_stricter_than_torch(case):
    with pytest.raises(case.error, match=case.match):
        case.scratch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)     # torch may warn (MSE broadcast, dim=None)
        case.torch()                                     # but accepts: the difference is deliberate


def test_mse_broadcast_is_a_real_bug_in_torch():
    """Why MSELoss-N-by-1-against-N is refused: torch builds a loss over N·N pairs."""
    x = torch.tensor([[1.0], [2.0]])
    y = torch.tensor([1.0, 2.0])
    with pytest.warns(UserWarning, match="different to the input size"):
        broadcast = TL.MSELoss()(x, y)
    assert broadcast.item() == pytest.approx(0.5)      # ((0 + 1 + 1 + 0) / 4), not 0


# -- 3. numerics -----------------------------------------------------------------------------
BIG = {np.float32: 3e38, np.float64: 1e308}          # near the largest finite value of each dtype
DTYPES = [pytest.param(np.float32, id="float32"), pytest.param(np.float64, id="float64")]


def extreme_vector(dtype):
    big = BIG[dtype]
    return np.array([-big, -1e4, -100, -1, 0, 1, 100, 1e4, big], dtype=dtype)


def extreme_rows(dtype):
    """Rows of scores whose spread stays within the dtype's range (x − max(x) is finite)."""
    big = BIG[dtype]
    return np.array([[big, 0, -1e4], [1e4, -1e4, 0], [-big, -big, -big], [big, big, 0],
                     [-1e4, -1e4, 1e4]], dtype=dtype)


def probabilities(dtype):
    info = np.finfo(dtype)
    return np.array([0, info.smallest_subnormal, 1e-30, 0.5, 1 - info.eps, 1], dtype=dtype)


def _assert_finite(result):
    assert not np.isnan(result["out"]).any(), f"NaN in the output: {result['out']}"
    grads = result["grads"] if isinstance(result["grads"], tuple) else (result["grads"],)
    for grad in grads:
        assert not np.isnan(grad).any(), f"NaN in the gradient: {grad}"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("scratch", "reference"), [
    (A.Sigmoid, TA.Sigmoid), (A.Tanh, TA.Tanh), (A.ReLU, TA.ReLU), (A.LeakyReLU, TA.LeakyReLU),
], ids=["Sigmoid", "Tanh", "ReLU", "LeakyReLU"])
def test_elementwise_extreme_finite(scratch, reference, dtype):
    _assert_finite(assert_parity(scratch(), reference(), extreme_vector(dtype), dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("scratch", "reference"), [(A.Softmax, TA.Softmax), (A.LogSoftmax, TA.LogSoftmax)],
                         ids=["Softmax", "LogSoftmax"])
def test_softmax_extreme_finite(scratch, reference, dtype):
    _assert_finite(assert_parity(scratch(dim=1), reference(dim=1), extreme_rows(dtype), dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_cross_entropy_extreme_finite(reduction, dtype):
    target = i64(0, 1, 2, 0, 1)      # every loss finite: ≤ 2e4, or big + log 2 for row 3's class 2
    result = assert_parity(L.CrossEntropyLoss(reduction=reduction), TL.CrossEntropyLoss(reduction=reduction),
                           extreme_rows(dtype), target, dtype=dtype)
    _assert_finite(result)
    assert np.isfinite(result["out"]).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("target", [0.0, 1.0, 0.5])
def test_bce_with_logits_extreme_finite(target, dtype):
    x = extreme_vector(dtype)
    y = np.full(x.shape, target, dtype=dtype)
    loss = L.BCEWithLogitsLoss(reduction="none")
    result = assert_parity(loss, TL.BCEWithLogitsLoss(reduction="none"), x, y, dtype=dtype)
    _assert_finite(result)
    moderate = np.array([-1e4, -100, 0, 100, 1e4], dtype=dtype)
    result = assert_parity(L.BCEWithLogitsLoss(), TL.BCEWithLogitsLoss(), moderate,
                           np.full(moderate.shape, target, dtype=dtype), dtype=dtype)
    _assert_finite(result)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["none", "mean"])
@pytest.mark.parametrize("target", [0.0, 1.0, 0.5])
def test_bce_extreme_probabilities(target, reduction, dtype):
    """p = 0 and 1 exactly, a subnormal, 1 − eps: the logs clamp at −100, nothing is NaN."""
    p = probabilities(dtype)
    result = assert_parity(L.BCELoss(reduction=reduction), TL.BCELoss(reduction=reduction), p,
                           np.full(p.shape, target, dtype=dtype), dtype=dtype)
    _assert_finite(result)


# scores whose spread exceeds the dtype's range: x − max(x) overflows to −inf, where e^(x − max)
# is 0 anyway; torch gives −inf and 0 there without complaint.
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("scratch", "reference"), [(A.Softmax, TA.Softmax), (A.LogSoftmax, TA.LogSoftmax)],
                         ids=["Softmax", "LogSoftmax"])
def test_softmax_scores_spanning_the_range(scratch, reference, dtype):
    big = BIG[dtype]
    x = np.array([[big, -big, 0], [-big, big, 1]], dtype=dtype)
    _assert_finite(assert_parity(scratch(dim=1), reference(dim=1), x, dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_scores_spanning_the_range(dtype):
    big = BIG[dtype]
    x = np.array([[big, -big, 0], [-big, big, 1]], dtype=dtype)
    result = assert_parity(L.CrossEntropyLoss(reduction="none"), TL.CrossEntropyLoss(reduction="none"),
                           x, i64(0, 2), dtype=dtype)          # losses 0 and big − 1: finite
    _assert_finite(result)


# -- NaN and ±inf propagate as in torch ------------------------------------------------------
NAN, INF = np.nan, np.inf
NONFINITE = np.array([NAN, INF, -INF, 0, 1, -1])
NONFINITE_ROWS = np.array([[NAN, 0, 1], [INF, 0, 1], [-INF, 0, 1], [INF, INF, 0], [-INF, -INF, -INF],
                           [INF, -INF, 0]])
NONFINITE_IMAGE = np.array([[[[NAN, 1, 2, 3], [INF, 0, -INF, 1], [1, 2, 3, 4], [-INF, -INF, 0, NAN]]]])

POSINF = np.array([NAN, INF, 0, 1, -1])
NEGINF = np.array([-INF, 0, 1])



def _nonfinite_cases():
    """(id, scratch factory, torch factory, inputs); both dtypes each."""
    def bce_logits(target, x):
        return (lambda: L.BCEWithLogitsLoss(reduction="none"), lambda: TL.BCEWithLogitsLoss(reduction="none"),
                (x, np.full(x.shape, target)))

    return [
        ("Sigmoid", A.Sigmoid, TA.Sigmoid, (NONFINITE,)),
        ("Tanh", A.Tanh, TA.Tanh, (NONFINITE,)),
        ("ReLU", A.ReLU, TA.ReLU, (NONFINITE,)),
        ("LeakyReLU", A.LeakyReLU, TA.LeakyReLU, (NONFINITE,)),
        ("Softmax", lambda: A.Softmax(1), lambda: TA.Softmax(1), (NONFINITE_ROWS,)),
        ("LogSoftmax", lambda: A.LogSoftmax(1), lambda: TA.LogSoftmax(1), (NONFINITE_ROWS,)),
        ("CrossEntropyLoss", lambda: L.CrossEntropyLoss(reduction="none"),
         lambda: TL.CrossEntropyLoss(reduction="none"), (NONFINITE_ROWS, i64(0, 1, 0, 2, 1, 1))),
        ("NLLLoss", lambda: L.NLLLoss(reduction="none"), lambda: TL.NLLLoss(reduction="none"),
         (NONFINITE_ROWS, i64(0, 1, 0, 2, 1, 1))),
        ("MSELoss", lambda: L.MSELoss(reduction="none"), lambda: TL.MSELoss(reduction="none"),
         (NONFINITE, np.full(6, 0.5))),
        ("MSELoss-nonfinite-target", lambda: L.MSELoss(), lambda: TL.MSELoss(),
         (np.zeros(6), NONFINITE)),
        ("BCEWithLogitsLoss-posinf-target-0", *bce_logits(0.0, POSINF)),
        ("BCEWithLogitsLoss-posinf-target-0.5", *bce_logits(0.5, POSINF)),
        ("BCEWithLogitsLoss-posinf-target-1", *bce_logits(1.0, POSINF)),
        ("BCEWithLogitsLoss-neginf-target-0", *bce_logits(0.0, NEGINF)),
        ("BCEWithLogitsLoss-neginf-target-0.5", *bce_logits(0.5, NEGINF)),
        ("BCEWithLogitsLoss-neginf-target-1", *bce_logits(1.0, NEGINF)),
        ("MaxPool2d", lambda: MaxPool2d(2), lambda: nn.MaxPool2d(2), (NONFINITE_IMAGE,)),
        ("AvgPool2d", lambda: AvgPool2d(2), lambda: nn.AvgPool2d(2), (NONFINITE_IMAGE,)),
        ("Flatten", Flatten, nn.Flatten, (NONFINITE_IMAGE,)),
        ("Dropout-p1", lambda: Dropout(1.0), lambda: nn.Dropout(1.0), (NONFINITE,)),
        ("Linear", lambda: Linear(3, 2), lambda: nn.Linear(3, 2), (NONFINITE_ROWS,)),
        ("Neuron", lambda: Neuron(3), lambda: TorchNeuron(3), (NONFINITE_ROWS,)),
        ("Conv2d", lambda: Conv2d(1, 2, 2), lambda: nn.Conv2d(1, 2, 2), (NONFINITE_IMAGE,)),
        ("BatchNorm1d", lambda: BatchNorm1d(3), lambda: nn.BatchNorm1d(3), (NONFINITE_ROWS,)),
    ]


def _nonfinite_params():
    params = []
    for name, scratch, reference, inputs in _nonfinite_cases():
        for dtype in (np.float32, np.float64):
            params.append(pytest.param(scratch, reference, inputs, dtype,
                                       id=f"{name}-{np.dtype(dtype).name}"))
    return params


@pytest.mark.parametrize(("scratch", "reference", "inputs", "dtype"), _nonfinite_params())
def test_nan_and_inf_propagate_as_torch(scratch, reference, inputs, dtype):
    torch.manual_seed(0)
    assert_parity(scratch(), reference(), *inputs, dtype=dtype)     # NaN positions compared too


@pytest.mark.parametrize("dtype", DTYPES)
def test_step_nan_and_inf_as_torch(dtype):
    x = NONFINITE.astype(dtype)
    expected = TA.Step()(torch.from_numpy(x))
    assert_close(A.Step()(x), expected, "Step forward", dtype=dtype)
