"""im2col: scratch/im2col.py against torch_ref/im2col.py (F.unfold, F.fold), and the padding
modes Conv2d builds its columns with against F.pad."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from parity_tests.helpers import assert_close, f64, refusal, refusal_tests
from scratch.im2col import _batch_first, _batch_last, _unpad, col2im, im2col
from torch_ref.im2col import col2im as torch_col2im
from torch_ref.im2col import im2col as torch_im2col


@pytest.mark.parametrize(("kernel", "dilation", "padding", "stride"),
                         [(3, 1, 0, 1), ((2, 3), (2, 1), (1, 0), (1, 2)), (2, 1, 1, 2)])
def test_im2col_and_col2im_match_unfold_and_fold(kernel, dilation, padding, stride, rng):
    x = rng.standard_normal((2, 3, 7, 6))
    cols = im2col(x, kernel, dilation, padding, stride)
    assert_close(cols, torch_im2col(torch.from_numpy(x), kernel, dilation, padding, stride), "im2col")
    upstream = rng.standard_normal(cols.shape)
    assert_close(col2im(upstream, x.shape, kernel, dilation, padding, stride),
                 torch_col2im(torch.from_numpy(upstream), x.shape, kernel, dilation, padding, stride),
                 "col2im")
    # Adjoints: ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩, which is why col2im is im2col's backward.
    lhs = np.sum(cols * upstream)
    rhs = np.sum(x * col2im(upstream, x.shape, kernel, dilation, padding, stride))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12)


def test_im2col_of_an_empty_batch(rng):
    """N = 0: no columns, as F.unfold (and F.fold back)."""
    x = np.zeros((0, 3, 5, 5))
    cols = im2col(x, 3)
    assert_close(cols, torch_im2col(torch.from_numpy(x), 3), "im2col of N = 0")
    expected = F.fold(torch.zeros(0, 27, 9, dtype=torch.float64), (5, 5), 3)
    assert_close(col2im(cols, x.shape, 3), expected, "col2im of N = 0")


def test_im2col_column_layout_by_hand():
    """Row c·kH·kW + u·kW + v, column (i·W_out + j)·N + n holds x[n, c, i + u, j + v]."""
    x = np.arange(2 * 1 * 3 * 3, dtype=np.float64).reshape(2, 1, 3, 3)
    cols = im2col(x, 2)
    assert cols.shape == (4, 2 * 2 * 2)
    for u in range(2):
        for v in range(2):
            for i in range(2):
                for j in range(2):
                    for n in range(2):
                        assert cols[u * 2 + v, (i * 2 + j) * 2 + n] == x[n, 0, i + u, j + v]


def test_batch_last_and_first_are_inverse(rng):
    """13 samples: the blocks of 8 and a remainder; 70 positions: tiles of 64 and a rest."""
    x = rng.standard_normal((13, 2, 5, 7))
    x_t = _batch_last(x)
    np.testing.assert_array_equal(x_t, np.moveaxis(x, 0, -1))
    np.testing.assert_array_equal(_batch_first(x_t), x)


# -- the padding modes, against F.pad -----------------------------------------------------
@st.composite
def mode_pads(draw):
    """A padding mode, an input size, and pads (top, bottom, left, right) that F.pad takes
    and Conv2d can ask for: per dimension both of one sign (circular, with a crop on one side
    and a wrap on the other, is torch's own story; no Conv2d padding leads there)."""
    mode = draw(st.sampled_from(["reflect", "replicate", "circular"]))
    H, W = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    pads = []
    for size in (H, W):
        high = {"reflect": size - 1, "replicate": 7, "circular": size}[mode]
        if draw(st.booleans()):
            pads += [draw(st.integers(0, high)), draw(st.integers(0, high))]
        else:
            pads += [-draw(st.integers(0, (size - 1) // 2))] * 2
    return mode, (draw(st.integers(0, 3)), draw(st.integers(1, 2)), H, W), tuple(pads)


@settings(max_examples=120, deadline=None, derandomize=True)
@given(case=mode_pads(), seed=st.integers(0, 2**16))
def test_padding_modes_and_their_adjoint_match_f_pad(case, seed):
    mode, shape, (top, bottom, left, right) = case
    assume(shape[2] + top + bottom >= 1 and shape[3] + left + right >= 1)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    t = torch.from_numpy(x).requires_grad_(True)
    expected = F.pad(t, (left, right, top, bottom), mode=mode)
    x_pad = _batch_first(_batch_last(x, (top, bottom, left, right), mode))
    assert_close(x_pad, expected, f"{mode} padding")
    grad_pad = rng.standard_normal(x_pad.shape)
    expected.backward(torch.from_numpy(grad_pad))
    assert_close(_unpad(grad_pad, (top, bottom, left, right), mode, shape[2:]), t.grad,
                 f"{mode} padding's adjoint")


def test_reflect_padding_by_hand():
    """The edge is not repeated: [1, 2, 3] reflected by 2 is [3, 2, 1, 2, 3, 2, 1]."""
    x = np.array([[[[1.0, 2.0, 3.0]]]])
    np.testing.assert_array_equal(_batch_first(_batch_last(x, (0, 0, 2, 2), "reflect"))[0, 0, 0],
                                  [3, 2, 1, 2, 3, 2, 1])
    np.testing.assert_array_equal(_batch_first(_batch_last(x, (0, 0, 2, 2), "circular"))[0, 0, 0],
                                  [2, 3, 1, 2, 3, 1, 2])
    np.testing.assert_array_equal(_batch_first(_batch_last(x, (0, 0, 2, 2), "replicate"))[0, 0, 0],
                                  [1, 1, 1, 2, 3, 3, 3])


# -- refusals -----------------------------------------------------------------------------
REFUSED = [
    refusal("im2col-3d-input", lambda: im2col(f64(3, 5, 5), 3),
            lambda: torch_im2col(torch.zeros(3, 5, 5, dtype=torch.float64)[None, None], 3),
            ValueError, "im2col", "input must be 4-D", "got 3-D"),
    refusal("im2col-kernel-larger-than-input", lambda: im2col(f64(1, 1, 4, 4), 5),
            lambda: torch_im2col(torch.zeros(1, 1, 4, 4), 5),
            ValueError, "im2col", "padded input (4 x 4)", "dilated kernel (5 x 5)"),
    refusal("im2col-negative-padding", lambda: im2col(f64(1, 1, 4, 4), 3, padding=-1),
            lambda: torch_im2col(torch.zeros(1, 1, 4, 4), 3, padding=-1),
            ValueError, "im2col", "padding", "≥ 0", "got -1"),
    refusal("col2im-wrong-columns", lambda: col2im(f64(9, 5), (1, 1, 4, 4), 3),
            lambda: torch_col2im(torch.zeros(9, 5), (1, 1, 4, 4), 3),
            ValueError, "col2im", "cols must have shape (9, 4)", "for output_size (1, 1, 4, 4)",
            "got (9, 5)"),
]
test_scratch_refuses, test_torch_agrees = refusal_tests(REFUSED)
