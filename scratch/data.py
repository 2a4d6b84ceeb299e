"""MNIST-format data: the IDX files read with NumPy alone.
twin: torch_ref/data.py (torchvision.datasets.MNIST / FashionMNIST)

IDX layout, every integer big-endian:

    magic   4 bytes: 0x00 0x00 <type code> <number of dimensions d>
    sizes   d × uint32
    values  the array, C order

    images: magic 2051 (0x00000803: uint8, 3-D), count, rows, cols, then count·rows·cols pixels
    labels: magic 2049 (0x00000801: uint8, 1-D), count, then count labels in 0..9

On disk, as torchvision keeps them (so one folder serves both halves):

    <root>/MNIST/raw/train-images-idx3-ubyte[.gz]      <root>/FashionMNIST/raw/...
                     train-labels-idx1-ubyte[.gz]
                     t10k-images-idx3-ubyte[.gz]
                     t10k-labels-idx1-ubyte[.gz]

A file is read uncompressed when present (torchvision extracts the ``.gz`` beside it and
reads that), else gzip-compressed. Every way a file can be wrong (missing, not gzip, a gzip
stream cut short, a wrong magic number, a size that disagrees with the header, image and
label counts that differ, a label outside 0..9) raises a ``DatasetError`` that names the
file, what was expected and what was found, never an error from deep inside NumPy.
"""

from __future__ import annotations

import gzip
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# IDX type codes (third byte of the magic number) -> big-endian NumPy dtype
IDX_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
IMAGES_MAGIC = 2051       # 0x00000803: uint8, 3-D (count, rows, cols)
LABELS_MAGIC = 2049       # 0x00000801: uint8, 1-D (count,)
NUM_CLASSES = 10


class DatasetError(ValueError):
    """A data file is corrupted or inconsistent (the message names it and says what is wrong)."""


class DatasetNotFoundError(DatasetError, FileNotFoundError):
    """A data file is missing; the message says where the files go and how to get them.

    Both a ``DatasetError`` (one ``except`` catches every data problem) and a
    ``FileNotFoundError`` (what code that does not know this module expects).
    """


@dataclass(frozen=True)
class DatasetInfo:
    """One MNIST-format dataset: its folder under the root and where its files come from."""

    folder: str          # torchvision's class name, which is also its folder: <root>/<folder>/raw/
    title: str
    how_to_get: str      # a sentence for the missing-file message


DATASETS = {
    "mnist": DatasetInfo(
        folder="MNIST",
        title="MNIST",
        how_to_get=(
            "torchvision.datasets.MNIST(root, download=True) (what torch_ref.data.load_mnist "
            "calls) downloads them when the network allows; otherwise copy them there by hand "
            "from a machine that has them"
        ),
    ),
    "fashion-mnist": DatasetInfo(
        folder="FashionMNIST",
        title="Fashion-MNIST",
        how_to_get=(
            "torchvision.datasets.FashionMNIST(root, download=True) (what torch_ref.data.load_mnist "
            "calls) downloads them when the network allows; offline, Debian's dataset-fashion-mnist "
            "package (apt-get install dataset-fashion-mnist) installs them under "
            "/usr/share/datasets/fashion-mnist/: copy them there and decompress them (gunzip *.gz), "
            "since those copies are recompressed and torchvision's md5 check refuses the .gz files "
            "but reads the uncompressed ones"
        ),
    ),
}

RAW_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


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


def missing_message(root: str | os.PathLike, dataset: str, missing: list[str]) -> str:
    """What is missing, where the four files go and how to get them."""
    info = dataset_info(dataset)
    folder = raw_folder(root, dataset)
    return (
        f"{info.title} not found: {', '.join(missing)} missing in {folder}/. "
        f"The four files go in {folder}/ with exactly these names: {', '.join(RAW_FILES)} "
        f"(gzip-compressed as published, or uncompressed without the .gz). "
        f"To get them: {info.how_to_get}."
    )


def read_idx(path: str | os.PathLike, magic: int | None = None) -> np.ndarray:
    """The array stored in one IDX file (gzip-compressed when the name ends in ``.gz``).

    ``magic``: the magic number the file must carry (2051 images, 2049 labels), or None for
    any valid IDX file. Returns a new, writable array in native byte order.
    Raises ``DatasetNotFoundError`` / ``DatasetError`` naming the file and the problem.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetNotFoundError(f"{path}: no such file")
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = _gunzip(path, data)

    if len(data) < 4:
        raise DatasetError(
            f"{path}: {len(data)} bytes, too short for an IDX file (expected at least a 4-byte "
            f"magic number); {_fix_hint(path)}"
        )
    found = int.from_bytes(data[:4], "big")
    type_code, ndim = data[2], data[3]
    if magic is not None and found != magic:
        raise DatasetError(
            f"{path}: wrong magic number {found} (0x{found:08X}), expected {_describe_magic(magic)}: "
            f"{_what_it_is(found, data, path)}"
        )
    if data[:2] != b"\x00\x00" or type_code not in IDX_TYPES or ndim == 0:
        raise DatasetError(
            f"{path}: magic number {found} (0x{found:08X}) is not an IDX magic number "
            f"(expected 0x0000 then a type code in {[hex(c) for c in IDX_TYPES]} and a number of "
            f"dimensions ≥ 1): {_what_it_is(found, data, path)}"
        )
    dtype = IDX_TYPES[type_code]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetError(
            f"{path}: header truncated: {ndim} dimensions need a {header}-byte header, the file "
            f"holds {len(data)} bytes; {_fix_hint(path)}"
        )
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize   # Python int: no overflow
    found_bytes = len(data) - header
    if found_bytes != expected:
        sizes = " × ".join(str(s) for s in shape)
        verdict = (f"truncated, {expected - found_bytes:,} bytes missing" if found_bytes < expected
                   else f"{found_bytes - expected:,} bytes too many")
        raise DatasetError(
            f"{path}: header says {sizes} {dtype.name} values ({expected:,} bytes after the "
            f"{header}-byte header), but the file holds {found_bytes:,}: {verdict}; {_fix_hint(path)}"
        )
    values = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="))        # a native-order, writable copy


def load_mnist(root: str | os.PathLike = "data", train: bool = True,
               dataset: str = "mnist") -> tuple[np.ndarray, np.ndarray]:
    """One split of MNIST or Fashion-MNIST from ``<root>/<folder>/raw/``.

    Returns ``(images, labels)``: images uint8 (N, 28, 28), labels int64 (N,), the arrays
    torchvision's ``dataset.data`` and ``dataset.targets`` hold (twin: torch_ref/data.py).
    Only the split's two files are needed; torchvision needs all four.
    """
    if not isinstance(train, bool):
        raise TypeError(f"load_mnist: train must be a bool, got {train!r}")
    folder = raw_folder(root, dataset)
    names = split_files(train)
    paths = [_find(folder, name) for name in names]
    missing = [f"{name}[.gz]" for name, path in zip(names, paths, strict=True) if path is None]
    if missing:
        raise DatasetNotFoundError(missing_message(root, dataset, missing))
    images = read_idx(paths[0], magic=IMAGES_MAGIC)                      # (N, rows, cols) uint8
    labels = read_idx(paths[1], magic=LABELS_MAGIC).astype(np.int64)     # (N,) int64
    check_pair(images, labels, paths[0], paths[1])
    return images, labels


def check_pair(images: np.ndarray, labels: np.ndarray, images_path, labels_path) -> None:
    """One label per image, every label a class index 0..9."""
    if len(images) != len(labels):
        raise DatasetError(
            f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} "
            f"labels: expected one label per image (files from different splits or datasets?)"
        )
    bad = np.flatnonzero((labels < 0) | (labels >= NUM_CLASSES))
    if bad.size:
        first = int(bad[0])
        raise DatasetError(
            f"{labels_path}: labels must be class indices in 0..{NUM_CLASSES - 1}, found "
            f"{int(labels[first])} at index {first} ({bad.size} labels out of range)"
        )


def _find(folder: Path, name: str) -> Path | None:
    """The uncompressed file if present (torchvision reads that one), else the ``.gz``."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _gunzip(path: Path, data: bytes) -> bytes:
    try:
        return gzip.decompress(data)
    except EOFError as error:
        raise DatasetError(
            f"{path}: the gzip stream ends early ({error}): the file is truncated, e.g. an "
            f"interrupted download; {_fix_hint(path)}"
        ) from error
    except (gzip.BadGzipFile, zlib.error) as error:
        raise DatasetError(
            f"{path}: not a valid gzip file ({type(error).__name__}: {error}); {_fix_hint(path)}"
        ) from error


def _describe_magic(magic: int) -> str:
    dtype = IDX_TYPES.get((magic >> 8) & 0xFF)
    kind = {IMAGES_MAGIC: "MNIST images", LABELS_MAGIC: "MNIST labels"}.get(magic, "IDX data")
    return f"{magic} (0x{magic:08X}: {kind}, {dtype.name if dtype else '?'}, {magic & 0xFF}-D)"


def _what_it_is(found: int, data: bytes, path: Path) -> str:
    """What a file with an unexpected magic number is, and what to do about it."""
    if data[:2] == b"\x1f\x8b":
        return f"the file is gzip-compressed; rename it {path.name}.gz"
    if found == IMAGES_MAGIC:
        return f"this is an image file (magic 2051), not a label file; {_fix_hint(path)}"
    if found == LABELS_MAGIC:
        return f"this is a label file (magic 2049), not an image file; {_fix_hint(path)}"
    return f"not an MNIST-format file, or a corrupted one; {_fix_hint(path)}"


def _fix_hint(path: Path) -> str:
    return (f"delete {path.name} and get the original file again (torchvision downloads it anew "
            f"when the network allows)")


__all__ = ["DATASETS", "RAW_FILES", "DatasetError", "DatasetInfo", "DatasetNotFoundError",
           "check_pair", "load_mnist", "raw_folder", "read_idx", "split_files"]
