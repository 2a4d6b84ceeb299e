"""Weight initialisation: scratch/init.py against torch_ref/init.py (torch.nn.init).

NumPy's and torch's random streams differ, so parity is by distribution: both twins' draws
are checked against the bound or standard deviation worked out by hand from the papers'
formulas (never read back from our own code).

The statistical tolerance
-------------------------
For n independent draws with standard deviation σ:
* the sample mean has standard error σ/√n;
* the sample standard deviation s has standard error σ·√((κ − 1)/(4n)), κ the kurtosis
  (Var(s²) ≈ σ⁴(κ − 1)/n, and s = √s² halves the relative error): κ = 3 for a normal,
  giving σ/√(2n); κ = 9/5 for a uniform, giving σ·√(1/(5n)).
Each check allows K = 5 standard errors: a correct implementation fails one check with
probability 6e-7, so the suite is essentially never flaky for any seed. With n = 2¹⁷ draws,
5 standard errors of s are 0.98% of σ (normal) and 0.62% (uniform), while the mistakes worth
catching are far larger: a missing or extra √2 (ReLU gain, or fan_in/fan_out swapped on a
(256, 512) weight) is 41%, a forgotten receptive field on a 3×3 kernel is 200%, and Xavier's
√(2/(fan_in + fan_out)) and He's √(2/fan_in) on (256, 512) differ by a factor √1.5 (22%).
``test_the_check_catches_wrong_formulas`` runs the check on such wrong draws and sees it fail.
A uniform's bound is checked exactly (no draw beyond ±a) and from below: the largest of n
draws of |w| falls under a(1 − δ) with probability (1 − δ)ⁿ ≤ e^(−nδ), e^(−25) for δ = 25/n.
"""

import math

import numpy as np
import pytest
import torch

from scratch import init
from scratch.module import Parameter
from torch_ref import init as torch_init

K = 5                 # standard errors allowed in each statistical check
N_DRAWS = 2**17       # draws per twin and case
NORMAL_WITHIN_ONE_SIGMA = math.erf(1 / math.sqrt(2))   # P(|w| < σ) = 0.6827 for a normal

LINEAR = (256, 512)           # (out_features, in_features): fan_in 512, fan_out 256
CONV = (64, 32, 3, 3)         # (C_out, C_in, kH, kW):     fan_in 32·9 = 288, fan_out 64·9 = 576


def assert_distribution(sample, kind: str, scale: float, what: str) -> None:
    """``kind`` "uniform": U(−scale, scale); "normal": N(0, scale²)."""
    sample = np.asarray(sample, dtype=np.float64).ravel()
    n = sample.size
    sigma = scale / math.sqrt(3) if kind == "uniform" else scale
    kurtosis = 9 / 5 if kind == "uniform" else 3
    mean, std = sample.mean(), sample.std()
    assert abs(mean) <= K * sigma / math.sqrt(n), f"{what}: mean {mean:.3e}, σ {sigma:.4e}, n {n}"
    std_error = sigma * math.sqrt((kurtosis - 1) / (4 * n))
    assert abs(std - sigma) <= K * std_error, (
        f"{what}: standard deviation {std:.5e}, expected {sigma:.5e} ± {K * std_error:.1e}"
    )
    if kind == "uniform":
        largest = np.abs(sample).max()
        assert largest <= scale, f"{what}: a draw {largest!r} beyond the bound {scale!r}"
        assert largest >= scale * (1 - 25 / n), f"{what}: largest |draw| {largest!r}, bound {scale!r}"
    else:
        p = NORMAL_WITHIN_ONE_SIGMA       # tells a normal from a uniform with the same σ (0.577)
        within = np.mean(np.abs(sample) < sigma)
        assert abs(within - p) <= K * math.sqrt(p * (1 - p) / n), f"{what}: P(|w| < σ) = {within:.4f}"


def draws(fill, shape, twin: str, n: int = N_DRAWS, seed: int = 0) -> np.ndarray:
    """At least n values from repeatedly filling a fresh float64 array/tensor of ``shape``."""
    out, total = [], 0
    generator = np.random.default_rng(seed) if twin == "scratch" else torch.Generator().manual_seed(seed)
    while total < n:
        if twin == "scratch":
            array = np.empty(shape)
            fill(array, generator=generator)
        else:
            array = torch.empty(shape, dtype=torch.float64)
            fill(array, generator=generator)
            array = array.numpy()
        out.append(array.ravel())
        total += array.size
    return np.concatenate(out)


# (function name, keyword arguments, shape, distribution, bound or σ worked out by hand)
CASES = [
    ("xavier_uniform_", {}, LINEAR, "uniform", math.sqrt(6 / (512 + 256))),
    ("xavier_uniform_", {"gain": 5 / 3}, CONV, "uniform", 5 / 3 * math.sqrt(6 / (288 + 576))),
    ("xavier_normal_", {}, LINEAR, "normal", math.sqrt(2 / (512 + 256))),
    ("xavier_normal_", {"gain": math.sqrt(2)}, CONV, "normal", math.sqrt(2) * math.sqrt(2 / (288 + 576))),
    # kaiming defaults: a = 0, mode fan_in, leaky_relu, so gain √(2 / (1 + 0²)) = √2
    ("kaiming_uniform_", {}, LINEAR, "uniform", math.sqrt(2) * math.sqrt(3 / 512)),
    ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}, LINEAR, "uniform",
     math.sqrt(2) * math.sqrt(3 / 256)),
    # torch's Linear default: a = √5, gain √(2 / 6), bound √(1/3)·√(3 / fan_in) = 1/√fan_in
    ("kaiming_uniform_", {"a": math.sqrt(5)}, LINEAR, "uniform", 1 / math.sqrt(512)),
    ("kaiming_uniform_", {"a": 0.2, "mode": "fan_out"}, CONV, "uniform",
     math.sqrt(2 / (1 + 0.2**2)) * math.sqrt(3 / 576)),
    ("kaiming_uniform_", {"nonlinearity": "linear"}, CONV, "uniform", math.sqrt(3 / 288)),
    ("kaiming_normal_", {"nonlinearity": "relu"}, LINEAR, "normal", math.sqrt(2) / math.sqrt(512)),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}, CONV, "normal",
     math.sqrt(2) / math.sqrt(576)),
    ("kaiming_normal_", {"a": 0.2}, CONV, "normal", math.sqrt(2 / (1 + 0.2**2)) / math.sqrt(288)),
    ("kaiming_normal_", {"nonlinearity": "tanh"}, LINEAR, "normal", 5 / 3 / math.sqrt(512)),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "selu"}, LINEAR, "normal",
     3 / 4 / math.sqrt(256)),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "sigmoid"}, (16, 8, 5), "normal",
     1 / math.sqrt(16 * 5)),                                  # a Conv1d weight: fan_out 16·5
    ("uniform_", {"a": -0.3, "b": 0.3}, LINEAR, "uniform", 0.3),
    ("normal_", {"std": 0.02}, LINEAR, "normal", 0.02),
]


@pytest.mark.parametrize("twin", ["scratch", "torch"])
@pytest.mark.parametrize(("name", "kwargs", "shape", "kind", "scale"), CASES,
                         ids=[f"{c[0]}-{c[1]}-{'x'.join(map(str, c[2]))}" for c in CASES])
def test_init_distribution(name, kwargs, shape, kind, scale, twin):
    module = init if twin == "scratch" else torch_init
    fill = getattr(module, name)
    sample = draws(lambda t, generator: fill(t, **kwargs, generator=generator), shape, twin)
    assert_distribution(sample, kind, scale, f"{twin} {name}{kwargs} on {shape}")


@pytest.mark.parametrize("twin", ["scratch", "torch"])
@pytest.mark.parametrize("shape", [(4096, 32), (4096, 2, 3, 3)], ids=["linear", "conv2d"])
def test_default_init(shape, twin):
    """torch's reset_parameters for Linear and Conv2d: w, b ~ U(−1/√fan_in, 1/√fan_in)."""
    module = init if twin == "scratch" else torch_init
    bound = 1 / math.sqrt(math.prod(shape[1:]))           # fan_in = C_in·kH·kW
    weights, biases = [], []

    def fill(weight, generator):
        bias = np.empty(shape[0]) if twin == "scratch" else torch.empty(shape[0], dtype=torch.float64)
        module.default_init_(weight, bias, generator=generator)
        weights.append(np.asarray(weight).ravel())
        biases.append(np.asarray(bias))

    draws(fill, shape, twin, n=2**16 // shape[0] * math.prod(shape))   # 2¹⁶ biases
    assert_distribution(np.concatenate(weights), "uniform", bound, f"{twin} default weight {shape}")
    assert_distribution(np.concatenate(biases), "uniform", bound, f"{twin} default bias {shape}")


@pytest.mark.parametrize("layer", ["linear", "conv2d"])
def test_torch_ref_default_init_is_what_torch_layers_do(layer):
    """torch_ref.init.default_init_ spells out nn.Linear's and nn.Conv2d's reset_parameters:
    the layers' own weights follow the same U(−1/√fan_in, 1/√fan_in)."""
    torch.manual_seed(0)
    weights, biases = [], []
    for _ in range(16):
        module = torch.nn.Linear(32, 4096) if layer == "linear" else torch.nn.Conv2d(8, 1024, 3)
        weights.append(module.weight.detach().numpy().ravel())
        biases.append(module.bias.detach().numpy())
    bound = 1 / math.sqrt(32 if layer == "linear" else 8 * 9)
    # float32 draws: the bound compared is float32(bound), see test_init_keeps_float32
    assert_distribution(np.concatenate(weights), "uniform", float(np.float32(bound)), f"nn {layer} weight")
    assert_distribution(np.concatenate(biases), "uniform", float(np.float32(bound)), f"nn {layer} bias")


def test_the_check_catches_wrong_formulas():
    """The statistical check fails on draws from the usual mistakes (see the module docstring)."""
    rng = np.random.default_rng(0)
    he = math.sqrt(2 / 512)                                   # kaiming_normal_(relu) on LINEAR
    assert_distribution(rng.normal(0, he, N_DRAWS), "normal", he, "right formula")
    wrong = {
        "ReLU gain √2 left out": 1 / math.sqrt(512),
        "fan_in and fan_out swapped": math.sqrt(2 / 256),
        "Xavier's fans in place of He's": math.sqrt(2 / (512 + 256)),
        "receptive field forgotten (3×3 conv)": math.sqrt(2 / (512 / 9)),
        "off by 2%": he * 1.02,
    }
    for mistake, sigma in wrong.items():
        with pytest.raises(AssertionError):
            assert_distribution(rng.normal(0, sigma, N_DRAWS), "normal", he, mistake)
    a = math.sqrt(6 / 768)                                    # xavier_uniform_ on LINEAR
    for mistake, draw in {
        "normal instead of uniform, same σ": rng.normal(0, a / math.sqrt(3), N_DRAWS),
        "bound √(3/(fan_in + fan_out))": rng.uniform(-a / math.sqrt(2), a / math.sqrt(2), N_DRAWS),
        "U(0, a): the sign forgotten": rng.uniform(0, a, N_DRAWS),
    }.items():
        with pytest.raises(AssertionError):
            assert_distribution(draw, "uniform", a, mistake)


def test_tutorial_xavier_is_he_initialisation():
    """Tutorial 002's "Xavier initialization", ``randn(fan_in, fan_out) * sqrt(2 / fan_in)``,
    for its first layer 784 → 128: σ = √(2/784) = 0.0505, which is kaiming_normal_(relu)
    (σ = √2/√fan_in), not xavier_normal_ (σ = √(2/(784 + 128)) = 0.0468, 7.3% less: 33
    standard errors of one sample σ with these 100,352 draws, 23 of a difference of two)."""
    fan_in, fan_out = 784, 128
    rng = np.random.default_rng(0)
    tutorial = rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)   # (in, out) layout
    he_sigma = math.sqrt(2) / math.sqrt(fan_in)
    xavier_sigma = math.sqrt(2 / (fan_in + fan_out))
    assert_distribution(tutorial, "normal", he_sigma, "tutorial 'Xavier' vs He")
    with pytest.raises(AssertionError, match="standard deviation"):
        assert_distribution(tutorial, "normal", xavier_sigma, "tutorial 'Xavier' vs Xavier")

    # the same against both twins' own functions, on torch's (out, in) layout
    for twin in ("scratch", "torch"):
        module = init if twin == "scratch" else torch_init
        he = draws(lambda t, generator, m=module: m.kaiming_normal_(t, nonlinearity="relu",
                                                                     generator=generator),
                   (fan_out, fan_in), twin, n=tutorial.size)
        xavier = draws(lambda t, generator, m=module: m.xavier_normal_(t, generator=generator),
                       (fan_out, fan_in), twin, n=tutorial.size)
        # two sample σ's: the standard error of their difference is √2 that of one
        std_error = math.sqrt(2) * he_sigma / math.sqrt(2 * tutorial.size)
        assert abs(tutorial.std() - he.std()) <= K * std_error, twin
        assert abs(tutorial.std() - xavier.std()) > K * std_error, twin


NONLINEARITIES = [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None),
    ("conv_transpose1d", None), ("conv_transpose2d", None), ("conv_transpose3d", None),
    ("sigmoid", None), ("tanh", None), ("relu", None), ("relu", 0.3), ("selu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 0), ("leaky_relu", 1),
    ("leaky_relu", math.sqrt(5)), ("leaky_relu", np.float64(0.1)),
]


@pytest.mark.parametrize(("nonlinearity", "param"), NONLINEARITIES)
def test_calculate_gain_equals_torch(nonlinearity, param):
    """The same formula, so the same float: compared exactly."""
    assert init.calculate_gain(nonlinearity, param) == torch_init.calculate_gain(nonlinearity, param)


def test_calculate_gain_values_by_hand():
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("leaky_relu") == math.sqrt(2 / (1 + 0.01**2))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == math.sqrt(2 / 6)


@pytest.mark.parametrize(("nonlinearity", "param"), [
    ("softmax", None), ("leaky_relu", True), ("leaky_relu", "0.1"), ("leaky_relu", np.float32(0.2)),
])
def test_calculate_gain_refuses_what_torch_refuses(nonlinearity, param):
    with pytest.raises(ValueError):
        init.calculate_gain(nonlinearity, param)
    with pytest.raises(ValueError):
        torch_init.calculate_gain(nonlinearity, param)


@pytest.mark.parametrize("shape", [(3, 5), (3, 5, 7), (4, 2, 3, 3), (6, 1, 2, 3, 4), (5, 0)])
def test_fans_equal_torch(shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init._calculate_fan_in_and_fan_out(np.empty(shape)) == expected


@pytest.mark.parametrize(("name", "kwargs"), [
    ("xavier_uniform_", {}), ("xavier_normal_", {}), ("kaiming_uniform_", {}), ("kaiming_normal_", {}),
])
def test_init_refuses_a_1d_tensor(name, kwargs):
    """A bias has no fan_out: both twins refuse to Xavier- or He-initialise a 1-D tensor."""
    with pytest.raises(ValueError, match="2 dimensions"):
        getattr(init, name)(np.empty(5), **kwargs)
    with pytest.raises(ValueError):
        getattr(torch_init, name)(torch.empty(5), **kwargs)


@pytest.mark.parametrize("name", ["kaiming_uniform_", "kaiming_normal_"])
def test_kaiming_refuses_an_unknown_mode(name):
    with pytest.raises(ValueError, match="fan_avg"):
        getattr(init, name)(np.empty((3, 4)), mode="fan_avg")
    with pytest.raises(ValueError, match="fan_avg"):
        getattr(torch_init, name)(torch.empty(3, 4), mode="fan_avg")


@pytest.mark.parametrize("name", ["xavier_uniform_", "kaiming_uniform_"])
def test_init_keeps_float32(name):
    """A float32 Parameter is filled in place and stays float32. Rounding to float32 is
    monotone, so draws below the float64 bound stay at or below float32(bound)."""
    param = Parameter(np.zeros(LINEAR), dtype=np.float32)
    data = param.data
    assert getattr(init, name)(param, generator=np.random.default_rng(0)) is param
    assert param.data is data and param.data.dtype == np.float32
    bound = math.sqrt(6 / 768) if name == "xavier_uniform_" else math.sqrt(6 / 512)
    assert np.abs(param.data).max() <= np.float32(bound)
    assert_distribution(param.data, "uniform", float(np.float32(bound)), f"float32 {name}")
    tensor = torch.zeros(LINEAR)
    assert getattr(torch_init, name)(tensor, generator=torch.Generator().manual_seed(0)) is tensor
    assert tensor.dtype == torch.float32
    assert tensor.abs().max().item() <= np.float32(bound)


@pytest.mark.parametrize("name", ["xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
                                  "kaiming_normal_", "default_init_"])
def test_init_follows_the_generator(name):
    """The same seed gives the same weights."""
    fill = getattr(init, name)
    a, b, c = (np.empty(CONV) for _ in range(3))
    fill(a, generator=np.random.default_rng(1))
    fill(b, generator=np.random.default_rng(1))
    fill(c, generator=np.random.default_rng(2))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_init_refuses_a_non_generator():
    with pytest.raises(TypeError, match=r"np\.random\.Generator"):
        init.xavier_uniform_(np.empty((3, 4)), generator=0)
    with pytest.raises(TypeError):
        torch_init.xavier_uniform_(torch.empty(3, 4), generator=0)
