"""Data augmentation: an affine warp of each image, drawn anew.

Output pixel p (centred coordinates, the image centre at 0)
reads the input at  M⁻¹ p,  where
    M = T(translate) · C · R(angle) · S(scale) · Sh(shear) · C⁻¹
R turns by `angle` degrees, clockwise on screen (torchvision's
affine; its rotate turns the other way), Sh shears by
shear = (x, y) degrees; the value read is interpolated from
the four nearest pixels, `fill` off the image (0 by default).

img: (…, C, H, W) -> out: (…, C, H, W)
twin: torch_ref/augment.py (torchvision.transforms.v2)
story: docs/augment.md ("artificially expand training data")
"""

from __future__ import annotations

import math

import numpy as np

from scratch import _checks as check


def affine(img: np.ndarray, angle: float, translate, scale: float,
           shear, interpolation: str = "bilinear", fill=None,
           center=None) -> np.ndarray:
    """torchvision's affine: img (…, C, H, W) warped by M."""
    check.input("affine", img, layout="(…, C, H, W)")
    H, W = img.shape[-2:]
    m = inverse_matrix(angle, translate, scale, shear, center, H, W)
    return warp(img, np.asarray(m, img.dtype), interpolation, fill)


def warp(img: np.ndarray, m: np.ndarray, interpolation="bilinear",
         fill=None) -> np.ndarray:
    """img (…, C, H, W) read at M⁻¹ p for every output pixel p;
    m: M⁻¹ as (6,), or (N, 6), one per image of (N, C, H, W)."""
    H, W = img.shape[-2:]
    rows, cols = np.mgrid[0:H, 0:W].astype(img.dtype)
    y, x = rows - (H - 1) / 2, cols - (W - 1) / 2      # centred
    m = m[..., None, None]                    # (6, 1, 1) or (N, 6, 1, 1)
    a, b, c, d, e, f = np.moveaxis(m, -3, 0)
    src_x = a * x + b * y + c + (W - 1) / 2   # (H, W) or (N, H, W)
    src_y = d * x + e * y + f + (H - 1) / 2
    sample = {"bilinear": _bilinear, "nearest": _nearest}
    check.choice("warp", "interpolation", interpolation, tuple(sample))
    out, cover = sample[interpolation](img, src_x, src_y)
    if fill is None:                            # zeros outside
        return out
    return cover * (out - fill) + fill          # torchvision's mask


def inverse_matrix(angle, translate, scale, shear, center, H, W):
    """M⁻¹ as 6 numbers (a, b, c, d, e, f): x_in = a x + b y + c,
    y_in = d x + e y + f, in pixel units about the centre."""
    translate, shear = check.affine_args(translate, scale, shear)
    cx, cy = (0.0, 0.0) if center is None else (
        center[0] - W / 2, center[1] - H / 2)
    rot = math.radians(angle)
    sx, sy = (math.radians(s) for s in shear)
    # R · Sh, whose determinant is 1: [[a, b], [c, d]]
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    m = [d / scale, -b / scale, 0.0, -c / scale, a / scale, 0.0]
    tx, ty = translate
    m[2] = m[0] * (-cx - tx) + m[1] * (-cy - ty) + cx   # un-translate,
    m[5] = m[3] * (-cx - tx) + m[4] * (-cy - ty) + cy   # about C
    return m


def _bilinear(img, src_x, src_y):
    """img sampled at (src_y, src_x): the four nearest pixels
    weighted by nearness, 0 off the image; and the weight that
    fell on the image (1 inside, less at the edges)."""
    x0, y0 = np.floor(src_x), np.floor(src_y)
    wx, wy = src_x - x0, src_y - y0                    # in [0, 1)
    x0, y0 = x0.astype(np.intp), y0.astype(np.intp)
    out = cover = 0
    for dy, ky in ((0, 1 - wy), (1, wy)):
        for dx, kx in ((0, 1 - wx), (1, wx)):
            k, pixels = _corner(img, y0 + dy, x0 + dx, kx * ky)
            out, cover = out + k * pixels, cover + k
    return out, cover


def _nearest(img, src_x, src_y):
    rows = np.rint(src_y).astype(np.intp)      # ties to even, as torch
    cols = np.rint(src_x).astype(np.intp)
    k, pixels = _corner(img, rows, cols, np.ones_like(src_x))
    return k * pixels, k


def _corner(img, rows, cols, weight):
    """img[…, rows, cols] and weight, both 0 off the image;
    rows (N, H, W) index image n of img (N, C, H, W) each."""
    H, W = img.shape[-2:]
    inside = (rows >= 0) & (rows < H) & (cols >= 0) & (cols < W)
    flat = np.clip(rows, 0, H - 1) * W + np.clip(cols, 0, W - 1)
    weight = weight * inside
    if flat.ndim == 2:                          # one grid for all
        return weight, img.reshape(*img.shape[:-2], H * W)[..., flat]
    pixels = img.reshape(*img.shape[:2], H * W)   # a grid per image
    index = flat.reshape(len(flat), 1, H * W)
    picked = np.take_along_axis(pixels, index, axis=2)
    return weight[:, None], picked.reshape(img.shape)


class RandomAffine:
    """torchvision's RandomAffine, drawn per image from a Generator:
    angle ~ U(degrees), (tx, ty) = round(U(±translate · (W, H))),
    scale ~ U(scale), shear_x ~ U(shear[:2]), shear_y ~ U(shear[2:]).
    """

    def __init__(self, degrees, translate=None, scale=None,
                 shear=None, interpolation: str = "bilinear",
                 fill=0.0, center=None, generator=None):
        self.degrees = check.symmetric_range("RandomAffine", "degrees",
                                             degrees, (2,))
        self.translate = check.fractions("RandomAffine", translate)
        self.scale = check.scale_range("RandomAffine", scale)
        self.shear = None if shear is None else check.symmetric_range(
            "RandomAffine", "shear", shear, (2, 4))
        self.interpolation, self.fill = interpolation, fill
        self.center = center
        self.generator = check.generator("RandomAffine", generator)

    def get_params(self, height: int, width: int) -> dict:
        """One draw, in torchvision's order (make_params)."""
        u = self.generator.uniform
        angle = float(u(*self.degrees))
        tx = ty = 0
        if self.translate is not None:
            tx = round(u(-self.translate[0] * width, self.translate[0] * width))
            ty = round(u(-self.translate[1] * height, self.translate[1] * height))
        scale = 1.0 if self.scale is None else float(u(*self.scale))
        shear_x = shear_y = 0.0
        if self.shear is not None:
            shear_x = float(u(*self.shear[:2]))
            if len(self.shear) == 4:
                shear_y = float(u(*self.shear[2:]))
        return {"angle": angle, "translate": [tx, ty],
                "scale": scale, "shear": [shear_x, shear_y]}

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """images (N, C, H, W): each warped by its own draw."""
        check.input("RandomAffine", images, ndim=4,
                    layout="(N, C, H, W)")
        H, W = images.shape[-2:]
        m = np.array([inverse_matrix(**self.get_params(H, W),
                                     center=self.center, H=H, W=W)
                      for _ in images], dtype=images.dtype)  # (N, 6)
        return warp(images, m, self.interpolation, self.fill)


__all__ = ["RandomAffine", "affine", "inverse_matrix", "warp"]
