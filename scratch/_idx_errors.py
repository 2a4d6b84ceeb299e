"""What is wrong with a data file, in words: the messages of scratch/data.py's refusals.

Each names the file, what was expected and what was found, and says what to do, so that a
truncated download or a file in the wrong place never surfaces as an error from inside NumPy.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

HOW_TO_GET = {
    "mnist": (
        "torchvision.datasets.MNIST(root, download=True) (what torch_ref.data.load_mnist calls) "
        "downloads them when the network allows; otherwise copy them there by hand from a "
        "machine that has them"),
    "fashion-mnist": (
        "torchvision.datasets.FashionMNIST(root, download=True) (what torch_ref.data.load_mnist "
        "calls) downloads them when the network allows; offline, Debian's dataset-fashion-mnist "
        "package (apt-get install dataset-fashion-mnist) installs them under "
        "/usr/share/datasets/fashion-mnist/: copy them there and decompress them (gunzip *.gz), "
        "since those copies are recompressed and torchvision's md5 check refuses the .gz files "
        "but reads the uncompressed ones"),
}


class DatasetError(ValueError):
    """A data file is corrupted or inconsistent (the message names it and says what is wrong)."""


class DatasetNotFoundError(DatasetError, FileNotFoundError):
    """A data file is missing; the message says where the files go and how to get them.

    Both a ``DatasetError`` (one ``except`` catches every data problem) and a
    ``FileNotFoundError`` (what code that does not know this module expects).
    """


def gunzip(path: Path, data: bytes) -> bytes:
    try:
        return gzip.decompress(data)
    except EOFError as error:
        raise DatasetError(f"{path}: the gzip stream ends early ({error}): the file is truncated, e.g. "
                           f"an interrupted download; {fix_hint(path)}") from error
    except (gzip.BadGzipFile, zlib.error) as error:
        raise DatasetError(f"{path}: not a valid gzip file ({type(error).__name__}: {error}); "
                           f"{fix_hint(path)}") from error


def describe_magic(magic: int, types: dict, images: int, labels: int) -> str:
    dtype = types.get((magic >> 8) & 0xFF)
    kind = {images: "MNIST images", labels: "MNIST labels"}.get(magic, "IDX data")
    return f"{magic} (0x{magic:08X}: {kind}, {dtype.name if dtype else '?'}, {magic & 0xFF}-D)"


def what_it_is(found: int, data: bytes, path: Path, images: int, labels: int) -> str:
    """What a file with an unexpected magic number is, and what to do about it."""
    if data[:2] == b"\x1f\x8b":
        return f"the file is gzip-compressed; rename it {path.name}.gz"
    if found == images:
        return f"this is an image file (magic {images}), not a label file; {fix_hint(path)}"
    if found == labels:
        return f"this is a label file (magic {labels}), not an image file; {fix_hint(path)}"
    return f"not an MNIST-format file, or a corrupted one; {fix_hint(path)}"


def fix_hint(path: Path) -> str:
    return (f"delete {path.name} and get the original file again (torchvision downloads it anew "
            f"when the network allows)")


def missing_message(folder: os.PathLike, title: str, how_to_get: str, missing: list[str],
                    raw_files: tuple[str, ...]) -> str:
    """What is missing, where the four files go and how to get them."""
    return (f"{title} not found: {', '.join(missing)} missing in {folder}/. "
            f"The four files go in {folder}/ with exactly these names: {', '.join(raw_files)} "
            f"(gzip-compressed as published, or uncompressed without the .gz). "
            f"To get them: {how_to_get}.")
