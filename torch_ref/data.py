"""MNIST-format data through torchvision.

torchvision.datasets.MNIST(root, train, download=True) finds the four files in
<root>/MNIST/raw/, checks each .gz against its md5, extracts and reads it, and downloads only
what is missing: the arrays are torchvision's own (dataset.data, dataset.targets).

x = (p / 255 − mean) / std     by torchvision's normalize

twin: scratch/data.py (its reader diagnoses the files when torchvision fails)
"""

from __future__ import annotations

import os
import zlib
from urllib.error import URLError

import numpy as np
import torch
from torchvision import datasets
from torchvision.datasets.utils import check_integrity
from torchvision.transforms.v2 import functional as TF

from scratch.data import DATASETS as _INFO
from scratch.data import (
    IMAGES_MAGIC,
    LABELS_MAGIC,
    DatasetError,
    DatasetNotFoundError,
    check_pair,
    missing_message,
    raw_folder,
    read_idx,
    split_files,
)

# name -> torchvision class; the class name is also its folder under the root (MNIST/raw/).
DATASETS = {
    "mnist": datasets.MNIST,
    "fashion-mnist": datasets.FashionMNIST,
}

# What torchvision raises: RuntimeError / URLError from the download, OSError / EOFError /
# zlib.error from extracting a .gz, AssertionError / KeyError / ValueError / RuntimeError from
# parsing a bad IDX header or size.
_TORCHVISION_ERRORS = (RuntimeError, URLError, OSError, EOFError, zlib.error,
                       AssertionError, KeyError, ValueError, TypeError)


def load_mnist(root: str | os.PathLike = "data", train: bool = True,
               dataset: str = "mnist") -> tuple[np.ndarray, np.ndarray]:
    """One split of MNIST or Fashion-MNIST: (images uint8 (N, 28, 28), labels int64 (N,)).

    Downloads into ``<root>/<folder>/raw/`` what is missing, when the network allows.
    """
    if not isinstance(train, bool):
        raise TypeError(f"load_mnist: train must be a bool, got {train!r}")
    if dataset not in DATASETS:
        raise ValueError(f"load_mnist: dataset must be one of {sorted(DATASETS)}, got {dataset!r}")
    try:
        data = DATASETS[dataset](root, train=train, download=True)
    except _TORCHVISION_ERRORS as error:
        raise _explain(error, root, train, dataset) from error
    images, labels = data.data.numpy(), data.targets.numpy()
    folder = raw_folder(root, dataset)
    check_pair(images, labels, *(folder / name for name in split_files(train)))
    return images, labels


def normalise(images, dataset: str = "mnist",
              dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """uint8 (N, 28, 28) -> (N, 1, 28, 28), torchvision's way."""
    info = _INFO[dataset]
    x = torch.as_tensor(images).to(dtype).div(255)[:, None]
    return TF.normalize(x, [info.mean], [info.std])


def _explain(error: Exception, root, train: bool, dataset: str) -> DatasetError:
    """The scratch twin's error for what made torchvision fail."""
    folder = raw_folder(root, dataset)
    resources = DATASETS[dataset].resources              # [(name.gz, md5)], all four files
    missing = [gz for gz, _ in resources
               if not (folder / gz).is_file() and not (folder / gz[:-3]).is_file()]
    if missing:
        return DatasetNotFoundError(
            missing_message(root, dataset, missing)
            + f" torchvision needs all four and could not download them: {_summary(error)}"
        )
    for gz, md5 in resources:
        # torchvision tries to download anew a .gz whose md5 is wrong and whose extracted file
        # is absent; offline that fails, and the .gz is the culprit.
        if not (folder / gz[:-3]).is_file() and not check_integrity(str(folder / gz), md5):
            try:
                read_idx(folder / gz)
                why = (f"It reads as valid IDX data, so it may be a recompressed copy: decompress "
                       f"it (gunzip) in {folder}/; torchvision reads an uncompressed file without "
                       f"an md5 check.")
            except DatasetError as diagnosis:
                why = str(diagnosis)
            return DatasetError(
                f"{folder / gz}: corrupted or not the original {_INFO[dataset].title} file (md5 "
                f"differs from {md5}), and torchvision could not download a fresh copy "
                f"({_summary(error)}). {why}"
            )
    images, labels = (folder / name for name in split_files(train))
    try:
        read_idx(images, magic=IMAGES_MAGIC)
        read_idx(labels, magic=LABELS_MAGIC)
    except DatasetError as diagnosis:
        return diagnosis
    return DatasetError(f"torchvision could not read {folder}: {type(error).__name__}: {error}")


def _summary(error: Exception) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    return " ".join(lines[:3]) if lines else type(error).__name__


__all__ = ["DATASETS", "load_mnist", "normalise"]
