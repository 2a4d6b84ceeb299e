"""MNIST-format data: the IDX files read with NumPy alone.

IDX, every integer big-endian:
    magic   0x00 0x00 <type code> <number of dimensions d>
    sizes   d × uint32, then the values in C order
images: magic 2051 (0x00000803: uint8, 3-D), count, rows, cols, then the pixels
labels: magic 2049 (0x00000801: uint8, 1-D), count, then labels in 0..9

x = (p / 255 − mean) / std      p: uint8 (N, 28, 28) -> x: (N, 1, 28, 28)

On disk as torchvision keeps them: <root>/MNIST/raw/train-images-idx3-ubyte[.gz] …
twin: torch_ref/data.py (torchvision.datasets.MNIST / FashionMNIST)
story: docs/data.md (every way a file can be wrong, and the message)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scratch import _idx_errors as why
from scratch._idx_errors import DatasetError, DatasetNotFoundError

IMAGES_MAGIC = 2051       # 0x00000803: uint8, 3-D (count, rows, cols)
LABELS_MAGIC = 2049       # 0x00000801: uint8, 1-D (count,)
IDX_TYPES = {             # type code -> big-endian dtype
    0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}
NUM_CLASSES = 10


def read_idx(path: str | os.PathLike,
             magic: int | None = None) -> np.ndarray:
    """The array in one IDX file (gzip if the name ends .gz).

    ``magic``: 2051 (images), 2049 (labels), or None for any.
    Returns a writable copy in native byte order; a bad file
    raises DatasetError naming it and what is wrong.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetNotFoundError(f"{path}: no such file")
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = why.gunzip(path, data)
    _check_magic(path, data, magic)
    dtype, ndim = IDX_TYPES[data[2]], data[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big")
                  for i in range(ndim))
    _check_size(path, data, shape, dtype, header)
    values = np.frombuffer(data, dtype, offset=header)
    return values.reshape(shape).astype(dtype.newbyteorder("="))


def load_mnist(root: str | os.PathLike = "data",
               train: bool = True, dataset: str = "mnist"
               ) -> tuple[np.ndarray, np.ndarray]:
    """One split: images uint8 (N, 28, 28), labels int64 (N,),
    the arrays torchvision's .data and .targets hold."""
    if not isinstance(train, bool):
        raise TypeError(f"load_mnist: train must be a bool, got {train!r}")
    folder = raw_folder(root, dataset)
    names = split_files(train)
    paths = [_find(folder, name) for name in names]
    missing = [f"{n}[.gz]" for n, p in zip(names, paths, strict=True)
               if p is None]
    if missing:
        raise DatasetNotFoundError(
            missing_message(root, dataset, missing))
    images = read_idx(paths[0], IMAGES_MAGIC)     # (N, 28, 28)
    labels = read_idx(paths[1], LABELS_MAGIC)     # (N,)
    labels = labels.astype(np.int64)
    check_pair(images, labels, paths[0], paths[1])
    return images, labels


def normalise(images: np.ndarray, dataset: str = "mnist",
              dtype=np.float32) -> np.ndarray:
    """(p/255 − mean)/std, in place in one new array of dtype.

    images: uint8 (N, 28, 28) -> x: (N, 1, 28, 28)
    """
    info = dataset_info(dataset)
    x = images.astype(dtype)
    x /= 255                           # in place: no second copy
    x -= info.mean
    x /= info.std
    return x[:, None]                  # (N, 1, 28, 28)


@dataclass(frozen=True)
class DatasetInfo:
    """One MNIST-format dataset: its folder, its pixels'
    statistics (training set, p/255) and its class names."""

    folder: str          # torchvision's: <root>/<folder>/raw/
    title: str
    mean: float
    std: float
    classes: tuple[str, ...]


FASHION = ("T-shirt", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Boot")
DATASETS = {
    "mnist": DatasetInfo("MNIST", "MNIST", 0.1307, 0.3081,
                         tuple("0123456789")),
    "fashion-mnist": DatasetInfo("FashionMNIST", "Fashion-MNIST",
                                 0.2860, 0.3530, FASHION),
}
RAW_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def split_files(train: bool) -> tuple[str, str]:
    """The (images, labels) file names of a split, without ``.gz``."""
    prefix = "train" if train else "t10k"
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def dataset_info(dataset: str) -> DatasetInfo:
    if dataset not in DATASETS:
        raise ValueError(f"load_mnist: dataset must be one of {sorted(DATASETS)}, got {dataset!r}")
    return DATASETS[dataset]


def raw_folder(root: str | os.PathLike, dataset: str = "mnist") -> Path:
    """``<root>/MNIST/raw`` (or ``FashionMNIST``), where torchvision keeps the files too."""
    return Path(root) / dataset_info(dataset).folder / "raw"


def missing_message(root, dataset: str, missing: list[str]) -> str:
    info = dataset_info(dataset)
    return why.missing_message(raw_folder(root, dataset), info.title, why.HOW_TO_GET[dataset],
                               missing, RAW_FILES)


def check_pair(images: np.ndarray, labels: np.ndarray, images_path, labels_path) -> None:
    """One label per image, every label a class index 0..9."""
    if len(images) != len(labels):
        raise DatasetError(f"{images_path} holds {len(images)} images but {labels_path} holds "
                           f"{len(labels)} labels: expected one label per image (files from different "
                           f"splits or datasets?)")
    bad = np.flatnonzero((labels < 0) | (labels >= NUM_CLASSES))
    if bad.size:
        first = int(bad[0])
        raise DatasetError(f"{labels_path}: labels must be class indices in 0..{NUM_CLASSES - 1}, found "
                           f"{int(labels[first])} at index {first} ({bad.size} labels out of range)")


def _find(folder: Path, name: str) -> Path | None:
    """The uncompressed file if present (torchvision reads that one), else the ``.gz``."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _check_magic(path: Path, data: bytes, magic: int | None) -> None:
    if len(data) < 4:
        raise DatasetError(f"{path}: {len(data)} bytes, too short for an IDX file (expected at least "
                           f"a 4-byte magic number); {why.fix_hint(path)}")
    found = int.from_bytes(data[:4], "big")
    if magic is not None and found != magic:
        expected = why.describe_magic(magic, IDX_TYPES, IMAGES_MAGIC, LABELS_MAGIC)
        raise DatasetError(f"{path}: wrong magic number {found} (0x{found:08X}), expected {expected}: "
                           f"{why.what_it_is(found, data, path, IMAGES_MAGIC, LABELS_MAGIC)}")
    if data[:2] != b"\x00\x00" or data[2] not in IDX_TYPES or data[3] == 0:
        raise DatasetError(f"{path}: magic number {found} (0x{found:08X}) is not an IDX magic number "
                           f"(expected 0x0000 then a type code in {[hex(c) for c in IDX_TYPES]} and a "
                           f"number of dimensions ≥ 1): "
                           f"{why.what_it_is(found, data, path, IMAGES_MAGIC, LABELS_MAGIC)}")
    header = 4 + 4 * data[3]
    if len(data) < header:
        raise DatasetError(f"{path}: header truncated: {data[3]} dimensions need a {header}-byte header, "
                           f"the file holds {len(data)} bytes; {why.fix_hint(path)}")


def _check_size(path: Path, data: bytes, shape, dtype, header: int) -> None:
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize     # Python int: no overflow
    found = len(data) - header
    if found != expected:
        sizes = " × ".join(str(s) for s in shape)
        verdict = (f"truncated, {expected - found:,} bytes missing" if found < expected
                   else f"{found - expected:,} bytes too many")
        raise DatasetError(f"{path}: header says {sizes} {dtype.name} values ({expected:,} bytes after "
                           f"the {header}-byte header), but the file holds {found:,}: {verdict}; "
                           f"{why.fix_hint(path)}")


__all__ = ["DATASETS", "RAW_FILES", "DatasetError", "DatasetInfo", "DatasetNotFoundError",
           "check_pair", "load_mnist", "normalise", "raw_folder", "read_idx", "split_files"]
