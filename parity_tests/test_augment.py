"""Augmentation: scratch/augment.py against torchvision.transforms.v2 (torch_ref/augment.py).

affine equals torchvision's on float64 batches to 1e-6 for every argument form; its
conventions (the centre, the sign of the angle, translate, scale, shear, the fill) are checked
on single pixels by hand; RandomAffine draws torchvision's parameters from a Generator.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision.transforms import InterpolationMode

from parity_tests.helpers import assert_close, refusal, refusal_tests
from scratch.augment import RandomAffine, affine
from torch_ref.augment import RandomAffine as TorchRandomAffine
from torch_ref.augment import affine as torch_affine

MODES = {"bilinear": InterpolationMode.BILINEAR, "nearest": InterpolationMode.NEAREST}
CASES = [
    {"angle": 12.5, "translate": [2, -3], "scale": 1.1, "shear": [4.0, 0.0]},    # the issue's
    {"angle": -30.0, "translate": [5, 1], "scale": 0.8, "shear": [10.0, -7.0]},
    {"angle": 90, "translate": (0, 0), "scale": 1.0, "shear": 0},
    {"angle": 175.0, "translate": [0.5, -1.25], "scale": 1.7, "shear": 20.0},
    {"angle": 3.0, "translate": [0, 0], "scale": 1.0, "shear": [15.0]},
]


def torch_result(img, interpolation="bilinear", **kwargs):
    return torch_affine(torch.from_numpy(img), interpolation=MODES[interpolation], **kwargs).numpy()


@pytest.mark.parametrize("case", CASES, ids=[f"case{i}" for i in range(len(CASES))])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("fill", [None, 0.7])
def test_affine_equals_torchvision(case, interpolation, fill, rng):
    img = rng.random((2, 1, 28, 28))
    ours = affine(img, **case, interpolation=interpolation, fill=fill)
    expected = torch_result(img, interpolation, **case, fill=fill)
    assert_close(ours, expected, "affine")


@pytest.mark.parametrize("shape", [(3, 20, 31), (2, 3, 17, 12), (5, 9)], ids=["CHW", "NCHW-rgb", "HW"])
def test_affine_other_shapes_and_a_centre(shape, rng):
    img = rng.standard_normal(shape)
    if len(shape) == 2:                              # torchvision needs (…, C, H, W): one channel
        img = img[None]
    args = {"angle": 21.0, "translate": [1, 2], "scale": 0.9, "shear": [3.0, 5.0], "center": [4, 6]}
    assert_close(affine(img, **args), torch_result(img, **args), "affine")


def test_float32_stays_float32(rng):
    img = rng.random((2, 1, 28, 28)).astype(np.float32)
    out = affine(img, **CASES[0])
    assert out.dtype == np.float32
    assert_close(out, torch_result(img, **CASES[0]), "float32 affine", dtype=np.float32)


# -- the conventions, by hand on single pixels (7 × 7, centre at row 3, column 3) ------------------
def pixel(row: int, col: int) -> np.ndarray:
    img = np.zeros((1, 7, 7))
    img[0, row, col] = 1.0
    return img


def where(img: np.ndarray) -> list[tuple[int, int]]:
    return [tuple(int(i) for i in p) for p in np.argwhere(img[0] > 0.5)]


IDENTITY = {"angle": 0.0, "translate": [0, 0], "scale": 1.0, "shear": [0.0, 0.0]}


@pytest.mark.parametrize(("change", "start", "end"), [
    ({"angle": 90.0}, (3, 5), (5, 3)),          # right of the centre -> below it: clockwise on screen
    ({"angle": -90.0}, (3, 5), (1, 3)),
    ({"angle": 180.0}, (1, 2), (5, 4)),
    ({"translate": [2, -1]}, (3, 3), (2, 5)),   # x to the right, y up the screen when negative
    ({"scale": 2.0}, (3, 4), (3, 5)),           # scaled about the centre
    ({"shear": [45.0, 0.0]}, (5, 3), (5, 1)),   # x shear: x − tan(45°)·y, y down the screen
    ({"angle": 37.0, "scale": 1.3}, (3, 3), (3, 3)),   # the centre stays put
])
def test_the_conventions_by_hand(change, start, end):
    out = affine(pixel(*start), **{**IDENTITY, **change})
    assert where(out) == [end]


def test_half_a_pixel_shift_splits_the_value():
    out = affine(pixel(3, 3), **{**IDENTITY, "translate": [0.5, 0]})
    assert out[0, 3, 3] == pytest.approx(0.5) and out[0, 3, 4] == pytest.approx(0.5)
    assert out.sum() == pytest.approx(1.0)


def test_what_is_uncovered_takes_the_fill():
    ones = np.ones((1, 9, 9))
    assert affine(ones, **{**IDENTITY, "angle": 45.0})[0, 0, 0] == 0.0
    assert affine(ones, **{**IDENTITY, "angle": 45.0}, fill=-0.5)[0, 0, 0] == -0.5
    assert affine(ones, **{**IDENTITY, "angle": 45.0}, fill=-0.5)[0, 4, 4] == 1.0


# -- RandomAffine ------------------------------------------------------------------------------
ARGS = {"degrees": 10, "translate": (0.1, 0.2), "scale": (0.9, 1.1), "shear": (-5, 5, -2, 2)}


def test_random_affine_draws_within_torchvisions_ranges():
    ours = RandomAffine(**ARGS, generator=np.random.default_rng(0))
    theirs = TorchRandomAffine(**ARGS)
    torch.manual_seed(0)
    mine = [ours.get_params(28, 28) for _ in range(500)]
    reference = [theirs.make_params([torch.zeros(1, 28, 28)]) for _ in range(500)]
    for draws in (mine, reference):
        angles = np.array([d["angle"] for d in draws])
        tx, ty = np.array([d["translate"] for d in draws]).T
        scales = np.array([d["scale"] for d in draws])
        shears = np.array([d["shear"] for d in draws])
        assert -10 <= angles.min() < -9 and 9 < angles.max() <= 10
        assert set(tx) == set(range(-3, 4)) and set(ty) == set(range(-6, 7))   # round(U(±0.1·28)), …
        assert 0.9 <= scales.min() < 0.91 and 1.09 < scales.max() <= 1.1
        assert np.abs(shears[:, 0]).max() <= 5 and np.abs(shears[:, 1]).max() <= 2


def test_random_affine_warps_each_image_by_its_own_draw(rng):
    images = rng.random((6, 1, 28, 28))
    out = RandomAffine(**ARGS, fill=-0.42, generator=np.random.default_rng(3))(images)
    replay = RandomAffine(**ARGS, fill=-0.42, generator=np.random.default_rng(3))
    for image, warped in zip(images, out, strict=True):
        params = replay.get_params(28, 28)
        expected = torch_result(image, **params, fill=-0.42)
        assert_close(warped, expected, f"image warped by {params}")
    assert not np.allclose(out[0], out[1])


REFUSED = [
    refusal("negative-degrees", lambda: RandomAffine(-5), lambda: TorchRandomAffine(-5),
            ValueError, "RandomAffine", "degrees", "positive", "-5"),
    refusal("translate-above-1", lambda: RandomAffine(5, translate=(0.1, 1.5)),
            lambda: TorchRandomAffine(5, translate=(0.1, 1.5)), ValueError, "translate", "[0, 1]", "1.5"),
    refusal("scale-zero", lambda: RandomAffine(5, scale=(0, 1)), lambda: TorchRandomAffine(5, scale=(0, 1)),
            ValueError, "scale", "positive", "(0, 1)"),
    refusal("shear-three", lambda: RandomAffine(5, shear=(1, 2, 3)),
            lambda: TorchRandomAffine(5, shear=(1, 2, 3)), ValueError, "shear", "2 or 4", "(1, 2, 3)"),
    refusal("affine-scale-zero", lambda: affine(np.zeros((1, 4, 4)), 0.0, [0, 0], 0.0, 0.0),
            lambda: torch_affine(torch.zeros(1, 4, 4), 0.0, [0, 0], 0.0, 0.0),
            ValueError, "scale", "positive"),
    refusal("affine-translate-one", lambda: affine(np.zeros((1, 4, 4)), 0.0, [1], 1.0, 0.0),
            lambda: torch_affine(torch.zeros(1, 4, 4), 0.0, [1], 1.0, 0.0), ValueError, "translate", "two"),
]
test_scratch_refuses, test_torch_agrees = refusal_tests(REFUSED)
