"""BatchNorm: scratch/batchnorm.py against torch_ref/batchnorm.py (torch.nn.BatchNorm1d/2d).

assert_parity compares the buffers too (running_mean, running_var, num_batches_tracked), so
every parity test below also checks the running-statistics update.
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from parity_tests.helpers import (
    DTYPES,
    NONFINITE_ROWS,
    assert_close,
    assert_numerical_grad,
    assert_parity,
    f32,
    f64,
    refusal,
    refusal_tests,
    stricter,
    t32,
)
from scratch.batchnorm import BatchNorm1d, BatchNorm2d
from torch_ref.batchnorm import BatchNorm1d as TorchBatchNorm1d
from torch_ref.batchnorm import BatchNorm2d as TorchBatchNorm2d

TWINS = {1: (BatchNorm1d, TorchBatchNorm1d), 2: (BatchNorm2d, TorchBatchNorm2d)}


def _torch_layer(dim: int, C: int, seed: int, **kwargs):
    """A torch layer whose γ, β and running statistics are not their trivial defaults."""
    layer = TWINS[dim][1](C, **kwargs)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        if layer.weight is not None:
            layer.weight.uniform_(0.5, 1.5, generator=generator)
        if layer.bias is not None:
            layer.bias.uniform_(-1, 1, generator=generator)
        if layer.running_mean is not None:
            layer.running_mean.uniform_(-1, 1, generator=generator)
            layer.running_var.uniform_(0.5, 2, generator=generator)
    return layer


def _run_steps(dim, shape, dtype, training, steps=3, seed=0, **kwargs):
    """Several batches through both twins: the running statistics accumulate on both sides."""
    rng = np.random.default_rng(seed)
    C = shape[1]
    torch_layer = _torch_layer(dim, C, seed, **kwargs).train(training)
    scratch_layer = TWINS[dim][0](C, **kwargs).train(training)
    for step in range(steps):
        x = rng.standard_normal(shape) * rng.uniform(0.5, 3) + rng.uniform(-2, 2)
        ran = assert_parity(scratch_layer, torch_layer, x, dtype=dtype, copy=step == 0, seed=step)
        scratch_layer, torch_layer = ran["scratch"], ran["torch"]   # the statistics accumulate
    return scratch_layer, torch_layer


SHAPES = [
    (1, (8, 3)), (1, (2, 3)), (1, (4, 3, 5)), (1, (1, 3, 4)),    # (1, C, L): M = L > 1 values
    (2, (4, 3, 5, 6)), (2, (2, 1, 1, 2)), (2, (1, 2, 3, 3)),
]


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize(("dim", "shape"), SHAPES)
@pytest.mark.parametrize("kwargs", [
    {},
    {"affine": False},
    {"momentum": None},                                      # cumulative moving average
    {"track_running_stats": False},                          # batch statistics in eval too
    {"bias": False, "momentum": 0.5},
], ids=["default", "no-affine", "cma", "no-stats", "no-bias"])
def test_batchnorm_parity(dim, shape, kwargs, training):
    _run_steps(dim, shape, np.float64, training, **kwargs)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize(("dim", "shape"), SHAPES)
def test_batchnorm_parity_float32(dim, shape, training):
    _run_steps(dim, shape, np.float32, training)
    _run_steps(dim, shape, np.float32, training, momentum=None, affine=False)


@settings(derandomize=True, deadline=None, max_examples=40)
@given(dim=st.sampled_from([1, 2]), N=st.integers(2, 5), C=st.integers(1, 4),
       spatial=st.lists(st.integers(1, 4), min_size=0, max_size=2),
       affine=st.booleans(), track=st.booleans(), momentum=st.sampled_from([0.1, None, 0.9, 1.0]),
       training=st.booleans(), seed=st.integers(0, 2**16))
def test_batchnorm_parity_property(dim, N, C, spatial, affine, track, momentum, training, seed):
    spatial = [*spatial, 3, 2][:2] if dim == 2 else spatial[:1]
    _run_steps(dim, (N, C, *spatial), np.float64, training, steps=2, seed=seed, affine=affine,
               track_running_stats=track, momentum=momentum)


def test_batchnorm_running_stats_by_hand(rng):
    """momentum 0.1 from (0, 1): running_mean = 0.1 μ, running_var = 0.9 + 0.1 · unbiased σ²;
    momentum None: after k batches, the plain averages of the k batch means and variances."""
    batches = [rng.standard_normal((6, 2)) * 2 + 1 for _ in range(3)]
    layer = BatchNorm1d(2).double()
    layer(batches[0])
    assert_close(layer.running_mean, 0.1 * batches[0].mean(axis=0), "running_mean")
    assert_close(layer.running_var, 0.9 + 0.1 * batches[0].var(axis=0, ddof=1), "running_var")
    cma = BatchNorm1d(2, momentum=None).double()
    for batch in batches:
        cma(batch)
    assert_close(cma.running_mean, np.mean([b.mean(axis=0) for b in batches], axis=0), "CMA mean")
    assert_close(cma.running_var, np.mean([b.var(axis=0, ddof=1) for b in batches], axis=0),
                 "CMA var")
    assert cma.num_batches_tracked == 3


def test_batchnorm_normalises_with_biased_variance(rng):
    x = rng.standard_normal((5, 3)) * 4 - 1
    out = BatchNorm1d(3, eps=1e-300).double()(x)
    assert_close(out, (x - x.mean(axis=0)) / x.std(axis=0), "x̂ with the biased σ")


def test_batchnorm_eval_uses_running_stats(rng):
    layer = BatchNorm2d(2).double().eval()
    layer.running_mean = np.array([1.0, -2.0])
    layer.running_var = np.array([4.0, 0.25])
    x = rng.standard_normal((1, 2, 2, 2))                   # batch of 1 is fine in eval
    expected = (x - np.array([1.0, -2.0])[:, None, None]) / np.sqrt(
        np.array([4.0, 0.25]) + 1e-5)[:, None, None]
    assert_close(layer(x), expected, "eval output")
    assert layer.num_batches_tracked == 0                   # eval never updates


def test_batchnorm_state_dict_matches_torch():
    for dim, kwargs in [(1, {}), (2, {}), (2, {"affine": False}), (1, {"track_running_stats": False}),
                        (1, {"affine": False, "track_running_stats": False}), (2, {"bias": False})]:
        scratch_state = TWINS[dim][0](4, **kwargs).state_dict()
        torch_state = TWINS[dim][1](4, **kwargs).state_dict()
        assert list(scratch_state) == list(torch_state), kwargs      # same keys, same order
        for key, value in torch_state.items():
            assert scratch_state[key].shape == tuple(value.shape), key
            assert scratch_state[key].dtype == value.numpy().dtype, key   # num_batches_tracked: int64
    layer = BatchNorm1d(3).double()
    layer(np.random.default_rng(0).standard_normal((4, 3)))
    assert layer.num_batches_tracked.dtype == np.int64 and layer.num_batches_tracked.shape == ()


@pytest.mark.parametrize(("dim", "shape"), [(1, (1, 3)), (1, (1, 3, 1)), (2, (1, 3, 1, 1))])
def test_batchnorm_refuses_one_value_per_channel_in_training_like_torch(dim, shape):
    scratch_cls, torch_cls = TWINS[dim]
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        torch_cls(3)(torch.zeros(shape))
    with pytest.raises(ValueError, match="expected more than 1 value per channel when training"):
        scratch_cls(3)(np.zeros(shape, dtype=np.float32))
    with pytest.raises(ValueError, match="more than 1 value per channel"):    # no running stats
        scratch_cls(3, track_running_stats=False).eval()(np.zeros(shape, dtype=np.float32))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        torch_cls(3, track_running_stats=False).eval()(torch.zeros(shape))
    assert_parity(scratch_cls(3).eval(), torch_cls(3).eval(), np.ones(shape))  # eval: fine


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize(("dim", "shape", "kwargs"), [
    (1, (5, 3), {}), (1, (3, 2, 4), {"affine": False}), (2, (2, 2, 3, 3), {}),
    (2, (2, 2, 2, 3), {"track_running_stats": False}),
])
def test_batchnorm_numerical_gradient(dim, shape, kwargs, training, rng):
    layer = TWINS[dim][0](shape[1], **kwargs).double().train(training)
    if layer.weight is not None:
        layer.weight.data[:] = rng.uniform(0.5, 1.5, shape[1])
        layer.bias.data[:] = rng.uniform(-1, 1, shape[1])
    assert_numerical_grad(layer, rng.standard_normal(shape) * 2 + 0.5)


@pytest.mark.parametrize(("dtype", "offset"), [(np.float64, 1e4), (np.float32, 1e2)])
def test_batchnorm_extreme_and_constant_inputs(dtype, offset, rng):
    """A large offset (σ ≪ |μ|) and a constant channel (σ² = 0, so x̂ = 0 and 1/√ε scales).
    float32 gets a smaller offset: x − μ loses log₂(|μ|/σ) bits to cancellation on both sides,
    differently summed, so 1e4 with σ = 10 leaves ~1e-4 relative agreement, the tier's limit."""
    x = rng.standard_normal((6, 3, 2, 2)) * 10 + offset
    x[:, 1] = 7.0
    for training in (True, False):
        assert_parity(BatchNorm2d(3).train(training), _torch_layer(2, 3, 1).train(training), x,
                      dtype=dtype)


def test_batchnorm_refuses_bad_inputs_like_torch():
    with pytest.raises(ValueError, match=r"input must be 2-D \(N, C\) or 3-D \(N, C, L\), got 4-D"):
        BatchNorm1d(3)(np.zeros((4, 3, 2, 2), dtype=np.float32))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        TorchBatchNorm1d(3)(torch.zeros(4, 3, 2, 2))
    with pytest.raises(ValueError, match=r"input must be 4-D \(N, C, H, W\), got 3-D"):
        BatchNorm2d(3)(np.zeros((4, 3, 2), dtype=np.float32))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        TorchBatchNorm2d(3)(torch.zeros(4, 3, 2))
    with pytest.raises(ValueError, match=r"num_features=3 channels in dimension 1, got shape \(4, 4\)"):
        BatchNorm1d(3)(np.zeros((4, 4), dtype=np.float32))
    with pytest.raises(RuntimeError, match="should contain 4 elements not 3"):
        TorchBatchNorm1d(3)(torch.zeros(4, 4))
    with pytest.raises(TypeError, match=r"float64 but the layer's parameters are float32"):
        BatchNorm1d(3)(np.zeros((4, 3)))
    with pytest.raises(RuntimeError, match="mixed dtype"):
        TorchBatchNorm1d(3)(torch.zeros(4, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="num_features must be a positive int"):
        BatchNorm2d(0)


# -- empty batches, argument forms, refusals ---------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize(("dim", "empty", "full"), [
    (1, (0, 3), (4, 3)), (1, (0, 3, 4), (2, 3, 4)), (1, (2, 3, 0), (2, 3, 5)),
    (2, (0, 3, 2, 2), (2, 3, 2, 2)), (2, (2, 3, 0, 2), (2, 3, 1, 2)),
])
@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"track_running_stats": False},
                                    {"affine": False}], ids=["default", "cma", "no-stats", "no-affine"])
def test_batchnorm_empty_batch_as_torch(dim, empty, full, kwargs, training, dtype, rng):
    """N·L = 0: an empty output, ∂L/∂γ = ∂L/∂β = 0, the running statistics untouched, but
    num_batches_tracked counts the batch (so the cumulative average after it weighs it)."""
    torch_layer = _torch_layer(dim, 3, 0, **kwargs).train(training)
    layer = TWINS[dim][0](3, **kwargs).train(training)
    for step, shape in enumerate([empty, full, empty, full]):
        x = rng.standard_normal(shape) * 2 + 1
        ran = assert_parity(layer, torch_layer, x, dtype=dtype, copy=step == 0, seed=step)
        layer, torch_layer = ran["scratch"], ran["torch"]        # the statistics accumulate
        assert ran["out"].shape == shape
    if training and layer.track_running_stats:
        assert layer.num_batches_tracked == torch_layer.num_batches_tracked == 4


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("kwargs", [
    {"momentum": -0.5}, {"momentum": 1}, {"momentum": 2.0}, {"momentum": np.float32(0.3)},
    {"momentum": float("nan")}, {"eps": 1}, {"eps": np.float32(1e-3)}, {"eps": float("inf")},
    {"eps": float("nan")}, {"momentum": None, "track_running_stats": False},
    {"affine": False, "bias": True}, {"affine": True, "bias": False, "track_running_stats": False},
], ids=lambda kwargs: "-".join(f"{k}={v}" for k, v in kwargs.items()))
def test_batchnorm_constructor_arguments_as_torch(kwargs, training):
    """Every argument that changes the maths, in the forms torch takes (ints, NumPy numbers,
    momentum outside [0, 1], NaN and inf eps): the same outputs, gradients and buffers."""
    scratch_layer, torch_layer = _run_steps(1, (5, 3), np.float64, training, **kwargs)
    for name in ("eps", "momentum"):
        assert str(getattr(scratch_layer, name)) == str(getattr(torch_layer, name)), name


def test_batchnorm_eps_0_in_eval_with_running_stats_as_torch(rng):
    """Normalising with the running variance, eps = 0 is fine (torch refuses it in training)."""
    assert_parity(BatchNorm1d(3, eps=0).eval(), _torch_layer(1, 3, 2, eps=0).eval(),
                  rng.standard_normal((4, 3)))


def test_batchnorm_numpy_int_num_features_as_torch(rng):
    layer = BatchNorm2d(np.int64(2))
    assert layer.num_features == 2 and type(layer.num_features) is int
    assert_parity(layer, TorchBatchNorm2d(np.int64(2)), rng.standard_normal((2, 2, 3, 3)))


def test_batchnorm_backward_before_forward_names_the_layer():
    with pytest.raises(RuntimeError, match=r"BatchNorm2d\(3, eps=1e-05.*\.backward.*before forward"):
        BatchNorm2d(3).backward(np.zeros((2, 3, 1, 1)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm1d_nan_and_inf_propagate_as_torch(dtype):
    torch.manual_seed(0)
    assert_parity(BatchNorm1d(3), nn.BatchNorm1d(3), NONFINITE_ROWS, dtype=dtype)


BN2D = "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
BN1D = "BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
BN1D_EPS0 = "BatchNorm1d(3, eps=0, momentum=0.1, affine=True, track_running_stats=True)"
REFUSED = [
    refusal("BatchNorm2d-wrong-channels", lambda: BatchNorm2d(3)(f32(2, 4, 5, 5)),
            lambda: nn.BatchNorm2d(3)(t32(2, 4, 5, 5)), ValueError, BN2D,
            "input must have num_features=3 channels in dimension 1", "got shape (2, 4, 5, 5)"),
    refusal("BatchNorm2d-3d-input", lambda: BatchNorm2d(3)(f32(3, 5, 5)),
            lambda: nn.BatchNorm2d(3)(t32(3, 5, 5)), ValueError, BN2D,
            "input must be 4-D (N, C, H, W)", "got 3-D with shape (3, 5, 5)"),
    refusal("BatchNorm1d-4d-input", lambda: BatchNorm1d(3)(f32(2, 3, 5, 5)),
            lambda: nn.BatchNorm1d(3)(t32(2, 3, 5, 5)), ValueError, BN1D,
            "input must be 2-D (N, C) or 3-D (N, C, L)", "got 4-D"),
    refusal("BatchNorm1d-unbatched-input", lambda: BatchNorm1d(3)(f32(3)),
            lambda: nn.BatchNorm1d(3)(t32(3)), ValueError, BN1D,
            "input must be 2-D (N, C) or 3-D (N, C, L)", "got 1-D with shape (3,)"),
    refusal("BatchNorm1d-0d-input", lambda: BatchNorm1d(3)(f32()),
            lambda: nn.BatchNorm1d(3)(t32()), ValueError, BN1D,
            "input must be 2-D (N, C) or 3-D (N, C, L)", "got 0-D with shape ()"),
    refusal("BatchNorm1d-one-value-per-channel", lambda: BatchNorm1d(3)(f32(1, 3)),
            lambda: nn.BatchNorm1d(3)(t32(1, 3)), ValueError, BN1D,
            "expected more than 1 value per channel when training", "got input size (1, 3)"),
    refusal("BatchNorm1d-num_features-0", lambda: BatchNorm1d(0), lambda: nn.BatchNorm1d(0)(t32(2, 0)),
            ValueError, "BatchNorm1d:", "num_features must be a positive int", "got 0"),
    refusal("BatchNorm1d-num_features-float", lambda: BatchNorm1d(3.0), lambda: nn.BatchNorm1d(3.0),
            ValueError, "BatchNorm1d:", "num_features must be a positive int", "got 3.0"),
    refusal("BatchNorm1d-num_features-bool", lambda: BatchNorm1d(True), lambda: nn.BatchNorm1d(True),
            ValueError, "BatchNorm1d:", "num_features must be a positive int", "got True"),
    refusal("BatchNorm1d-negative-eps", lambda: BatchNorm1d(3, eps=-1),
            lambda: nn.BatchNorm1d(3, eps=-1)(torch.randn(4, 3)),
            ValueError, "BatchNorm1d:", "eps must be a non-negative number", "got -1"),
    refusal("BatchNorm1d-negative-eps-eval", lambda: BatchNorm1d(3, eps=-1),
            lambda: nn.BatchNorm1d(3, eps=-1).eval()(torch.randn(4, 3)),
            ValueError, "BatchNorm1d:", "eps must be a non-negative number", "got -1"),
    refusal("BatchNorm1d-zero-eps-training", lambda: BatchNorm1d(3, eps=0)(f32(4, 3)),
            lambda: nn.BatchNorm1d(3, eps=0)(torch.zeros(4, 3)), ValueError, BN1D_EPS0,
            "eps must be positive when normalising with batch statistics", "got 0"),
    refusal("BatchNorm1d-zero-eps-empty-batch", lambda: BatchNorm1d(3, eps=0)(f32(0, 3)),
            lambda: nn.BatchNorm1d(3, eps=0)(torch.zeros(0, 3)), ValueError, BN1D_EPS0,
            "eps must be positive when normalising with batch statistics", "got 0"),
    refusal("BatchNorm1d-zero-eps-eval-no-stats",
            lambda: BatchNorm1d(3, eps=0, track_running_stats=False).eval()(f32(4, 3)),
            lambda: nn.BatchNorm1d(3, eps=0, track_running_stats=False).eval()(torch.zeros(4, 3)),
            ValueError, "BatchNorm1d(3, eps=0", "eps must be positive", "got 0"),
    refusal("BatchNorm1d-int-input", lambda: BatchNorm1d(3)(np.zeros((4, 3), np.int64)),
            lambda: nn.BatchNorm1d(3)(torch.zeros(4, 3, dtype=torch.long)), TypeError, BN1D,
            "input must be float32 or float64", "got dtype int64"),
    refusal("BatchNorm1d-float64-input-float32-layer", lambda: BatchNorm1d(3)(f64(4, 3)),
            lambda: nn.BatchNorm1d(3)(torch.zeros(4, 3, dtype=torch.float64)), TypeError, BN1D,
            "input has dtype float64", "the layer's parameters are float32"),
    refusal("BatchNorm1d-momentum-str", lambda: BatchNorm1d(3, momentum="0.1"),
            lambda: nn.BatchNorm1d(3, momentum="0.1")(torch.randn(4, 3)),
            (ValueError, TypeError), "BatchNorm1d:", "momentum must be a number or None", "got '0.1'"),
]
STRICTER = [
    # torch's kernel returns an empty batch early, before checking channels or dtype; scratch
    # checks them whatever the batch size
    stricter("BatchNorm1d-empty-wrong-channels", lambda: BatchNorm1d(3)(f32(0, 4)),
             lambda: nn.BatchNorm1d(3)(t32(0, 4)), ValueError, BN1D,
             "input must have num_features=3 channels in dimension 1", "got shape (0, 4)"),
    stricter("BatchNorm1d-empty-int-input", lambda: BatchNorm1d(3)(np.zeros((0, 3), np.int64)),
             lambda: nn.BatchNorm1d(3)(torch.zeros(0, 3, dtype=torch.long)), TypeError, BN1D,
             "input must be float32 or float64", "got dtype int64"),
    stricter("BatchNorm1d-empty-float64-input-float32-layer", lambda: BatchNorm1d(3)(f64(0, 3)),
             lambda: nn.BatchNorm1d(3)(torch.zeros(0, 3, dtype=torch.float64)), TypeError, BN1D,
             "input has dtype float64", "the layer's parameters are float32"),
    # torch's CPU kernel normalises half input with float32 parameters; scratch layers
    # compute in float32 or float64
    stricter("BatchNorm1d-float16-input", lambda: BatchNorm1d(3)(np.zeros((4, 3), np.float16)),
             lambda: nn.BatchNorm1d(3)(torch.randn(4, 3).half()), TypeError, BN1D,
             "input must be float32 or float64", "got dtype float16"),
    stricter("BatchNorm1d-float16-dtype", lambda: BatchNorm1d(3, dtype=np.float16),
             lambda: nn.BatchNorm1d(3, dtype=torch.float16)(torch.randn(4, 3).half()),
             TypeError, "BatchNorm1d:", "dtype must be float32 or float64", "got float16"),
    # torch reads True as 1; a bool here is more likely a misplaced affine= or
    # track_running_stats= flag
    stricter("BatchNorm1d-eps-bool", lambda: BatchNorm1d(3, eps=True),
             lambda: nn.BatchNorm1d(3, eps=True)(torch.randn(4, 3)),
             ValueError, "BatchNorm1d:", "eps must be a non-negative number", "got True"),
    stricter("BatchNorm1d-momentum-bool", lambda: BatchNorm1d(3, momentum=True),
             lambda: nn.BatchNorm1d(3, momentum=True)(torch.randn(4, 3)),
             ValueError, "BatchNorm1d:", "momentum must be a number or None", "got True"),
]
test_scratch_refuses, test_torch_agrees = refusal_tests(REFUSED + STRICTER)
