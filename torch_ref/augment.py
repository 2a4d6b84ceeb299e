"""Data augmentation: an affine warp of each image, drawn anew.

out(p) = img(M⁻¹ p),  M = T · C · R · S · Sh · C⁻¹
img: (…, C, H, W) -> out: (…, C, H, W)

twin: scratch/augment.py
"""

from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF

# torchvision's own: the inverse matrix,
# a sampling grid, then grid_sample.
affine = TF.affine
RandomAffine = v2.RandomAffine

__all__ = ["RandomAffine", "affine"]
