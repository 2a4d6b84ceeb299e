"""Data: scratch/data.py (IDX read with NumPy) against torch_ref/data.py (torchvision).

The parity test reads the real MNIST files with both and compares bytes. The reliability
tests corrupt small hand-made IDX files in tmp_path, one way each, and check that both twins
refuse them with a message naming the file and the problem. The network is cut for every
test here (urlopen raises), so torchvision's download attempts fail at once and offline.
"""

from __future__ import annotations

import gzip
import struct
import urllib.request
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import torch
from torchvision import datasets

from parity_tests.helpers import assert_close
from scratch.data import DATASETS, RAW_FILES, DatasetError, DatasetNotFoundError, normalise, read_idx
from scratch.data import load_mnist as scratch_load
from torch_ref.data import DATASETS as TORCH_DATASETS
from torch_ref.data import load_mnist as torch_load
from torch_ref.data import normalise as torch_normalise

LOADERS = [pytest.param(scratch_load, id="scratch"), pytest.param(torch_load, id="torch")]

# Published facts about MNIST, not our output: the first labels of each split and the
# training set's class counts (LeCun et al.; quoted in most tutorials).
FIRST_TRAIN_LABELS = [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
FIRST_TEST_LABELS = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
TRAIN_CLASS_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Every urlopen raises URLError; the list records the URLs torchvision tried."""
    tried = []

    def refuse(request, *args, **kwargs):
        tried.append(getattr(request, "full_url", request))
        raise URLError("network disabled by the test")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    return tried


# -- parity on the real files ---------------------------------------------------------------
@pytest.mark.parametrize("train", [True, False], ids=["train", "test"])
def test_mnist_parity_byte_identical(mnist_root, train, no_network):
    images, labels = scratch_load(mnist_root, train=train)
    torch_images, torch_labels = torch_load(mnist_root, train=train)
    assert no_network == []                      # the files were found; nothing was downloaded
    n = 60000 if train else 10000
    assert images.shape == torch_images.shape == (n, 28, 28)
    assert labels.shape == torch_labels.shape == (n,)
    assert images.dtype == torch_images.dtype == np.uint8
    assert labels.dtype == torch_labels.dtype == np.int64
    assert images.tobytes() == torch_images.tobytes()
    assert labels.tobytes() == torch_labels.tobytes()
    first = FIRST_TRAIN_LABELS if train else FIRST_TEST_LABELS
    assert labels[:10].tolist() == first
    if train:
        assert np.bincount(labels).tolist() == TRAIN_CLASS_COUNTS
    assert images.flags.writeable               # a copy the caller may normalise in place


@pytest.mark.parametrize("dataset", ["mnist", "fashion-mnist"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_normalise_matches_torchvision(dataset, dtype, rng):
    """(p/255 − mean)/std, shaped (N, 1, 28, 28), as torchvision's normalize computes it."""
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    images[0, 0, :2] = (0, 255)                          # the two ends of the pixel range
    x = normalise(images, dataset, dtype)
    expected = torch_normalise(images, dataset, {np.float64: torch.float64, np.float32: torch.float32}[dtype])
    assert x.dtype == dtype and x.shape == (5, 1, 28, 28)
    assert_close(x, expected, f"normalised {dataset} pixels", dtype=dtype)
    info = DATASETS[dataset]                              # published statistics, by hand
    assert_close(x[0, 0, 0, :2], np.array([-info.mean / info.std, (1 - info.mean) / info.std]),
                 "the ends of the pixel range", dtype=dtype)


def test_dataset_tables_agree():
    """Both halves name the same datasets, folders (torchvision's class names) and files."""
    assert set(DATASETS) == set(TORCH_DATASETS) == {"mnist", "fashion-mnist"}
    for name, info in DATASETS.items():
        assert info.folder == TORCH_DATASETS[name].__name__
        assert [f for f, _ in TORCH_DATASETS[name].resources] == list(RAW_FILES)


@pytest.mark.skipif(not Path("/usr/share/datasets/fashion-mnist").is_dir(),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_mnist_parity(tmp_path):
    """Debian's copies are recompressed (torchvision's md5 refuses the .gz): decompressed,
    both twins read them, byte for byte alike."""
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in RAW_FILES:
        data = gzip.decompress((Path("/usr/share/datasets/fashion-mnist") / name).read_bytes())
        (raw / name[:-3]).write_bytes(data)
    for train in (True, False):
        ours = scratch_load(tmp_path, train, "fashion-mnist")
        theirs = torch_load(tmp_path, train, "fashion-mnist")
        for a, b in zip(ours, theirs, strict=True):
            assert a.dtype == b.dtype and a.tobytes() == b.tobytes()


# -- small IDX files written by hand --------------------------------------------------------
def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """An IDX file: big-endian magic (0x00 0x00 type ndim), sizes, values."""
    codes = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C,
             np.float32: 0x0D, np.float64: 0x0E}
    if magic is None:
        magic = codes[array.dtype.type] << 8 | array.ndim
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def make_root(tmp_path: Path, n_train: int = 5, n_test: int = 3) -> Path:
    """A root with the four files, uncompressed (torchvision reads them without an md5)."""
    rng = np.random.default_rng(0)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(idx_bytes(images))
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(idx_bytes(labels))
    return tmp_path


def gzip_instead(raw: Path, name: str, data: bytes) -> Path:
    """Replace the uncompressed file by ``name.gz`` holding ``data`` (not gzip-checked)."""
    (raw / name).unlink()
    path = raw / f"{name}.gz"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("load", LOADERS)
def test_small_files_read_alike(tmp_path, load):
    root = make_root(tmp_path)
    raw = root / "MNIST" / "raw"
    expected = read_idx(raw / "t10k-images-idx3-ubyte")
    images, labels = load(root, train=False)
    assert images.tobytes() == expected.tobytes()
    assert labels.dtype == np.int64 and labels.shape == (3,)


def test_scratch_reads_gzip_and_plain_alike(tmp_path):
    root = make_root(tmp_path)
    raw = root / "MNIST" / "raw"
    plain = scratch_load(root, train=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        gzip_instead(raw, name, gzip.compress((raw / name).read_bytes()))
    compressed = scratch_load(root, train=True)
    for a, b in zip(plain, compressed, strict=True):
        assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize(("dtype", "shape"), [(np.int16, (2, 3)), (np.int32, (4,)),
                                              (np.float32, (2, 1, 2)), (np.float64, (3,)),
                                              (np.int8, (5,))])
def test_read_idx_other_types_big_endian(tmp_path, dtype, shape):
    values = (np.arange(np.prod(shape)).reshape(shape) * 3 - 4).astype(dtype)
    path = tmp_path / "x.idx"
    path.write_bytes(idx_bytes(values))
    read = read_idx(path)
    assert read.dtype == np.dtype(dtype) and read.dtype.isnative
    np.testing.assert_array_equal(read, values)


# -- corrupted files: both twins refuse, with the file and the problem named ---------------
def corrupt(raw: Path, how: str) -> tuple[Path, str]:
    """Apply one corruption to the training files; returns (path to blame, expected words)."""
    images = raw / "train-images-idx3-ubyte"
    labels = raw / "train-labels-idx1-ubyte"
    data = images.read_bytes()
    if how == "labels-magic-in-images":
        images.write_bytes(struct.pack(">I", 2049) + data[4:])
        return images, r"wrong magic number 2049 \(0x00000801\), expected 2051.*label file"
    if how == "images-magic-in-labels":
        labels.write_bytes(struct.pack(">I", 2051) + labels.read_bytes()[4:])
        return labels, r"wrong magic number 2051 \(0x00000803\), expected 2049.*image file"
    if how == "garbage-magic":
        images.write_bytes(b"\x12\x34\x56\x78" + data[4:])
        return images, r"wrong magic number 305419896 \(0x12345678\), expected 2051"
    if how == "truncated":
        images.write_bytes(data[:-100])
        return images, r"header says 5 × 28 × 28 uint8 values \(3,920 bytes.*holds 3,820: truncated, 100"
    if how == "padded":
        images.write_bytes(data + b"\0" * 7)
        return images, r"holds 3,927: 7 bytes too many"
    if how == "header-cut":
        images.write_bytes(data[:10])
        return images, r"header truncated: 3 dimensions need a 16-byte header, the file holds 10"
    if how == "empty":
        images.write_bytes(b"")
        return images, r"0 bytes, too short for an IDX file"
    if how == "count-mismatch":
        labels.write_bytes(idx_bytes(np.zeros(4, dtype=np.uint8)))
        return labels, r"holds 5 images but .*train-labels-idx1-ubyte holds 4 labels"
    if how == "label-out-of-range":
        labels.write_bytes(idx_bytes(np.array([1, 2, 9, 10, 255], dtype=np.uint8)))
        return labels, r"labels must be class indices in 0\.\.9, found 10 at index 3 \(2 labels"
    if how == "gzip-in-plain-name":
        images.write_bytes(gzip.compress(data))
        return images, r"wrong magic number .*gzip-compressed; rename it train-images-idx3-ubyte\.gz"
    raise AssertionError(how)


CORRUPTIONS = ["labels-magic-in-images", "images-magic-in-labels", "garbage-magic", "truncated",
               "padded", "header-cut", "empty", "count-mismatch", "label-out-of-range",
               "gzip-in-plain-name"]


@pytest.mark.parametrize("load", LOADERS)
@pytest.mark.parametrize("how", CORRUPTIONS)
def test_corrupted_file_is_refused_clearly(tmp_path, how, load):
    raw = make_root(tmp_path) / "MNIST" / "raw"
    blamed, words = corrupt(raw, how)
    with pytest.raises(DatasetError, match=words) as caught:
        load(tmp_path, train=True)
    assert str(blamed) in str(caught.value)
    assert not isinstance(caught.value, DatasetNotFoundError)


@pytest.mark.parametrize("how", ["labels-magic-in-images", "garbage-magic", "truncated", "padded",
                                 "header-cut", "empty"])
def test_torchvision_alone_fails_cryptically(tmp_path, how):
    """What the torch twin's translation is for: torchvision's own error names no file."""
    raw = make_root(tmp_path) / "MNIST" / "raw"
    blamed, _ = corrupt(raw, how)
    with pytest.raises((AssertionError, RuntimeError, ValueError, KeyError)) as caught:
        datasets.MNIST(tmp_path, train=True, download=True)
    assert str(blamed) not in str(caught.value)


@pytest.mark.parametrize("load", LOADERS)
def test_torch_twin_chains_torchvision_error(tmp_path, load):
    raw = make_root(tmp_path) / "MNIST" / "raw"
    corrupt(raw, "garbage-magic")
    with pytest.raises(DatasetError) as caught:
        load(tmp_path, train=True)
    if load is torch_load:            # `raise ... from` keeps torchvision's own error
        assert isinstance(caught.value.__cause__, AssertionError)


BAD_GZIP = {
    # name: (bytes from the good gzip stream, expected words)
    "not-gzip": (lambda good: b"<html>404 Not Found</html>", r"not a valid gzip file \(BadGzipFile"),
    "truncated-gzip": (lambda good: good[: len(good) // 2], r"gzip stream ends early.*truncated"),
    "crc-mismatch": (lambda good: good[:-8] + b"\0" * 8, r"not a valid gzip file \(BadGzipFile: CRC"),
}


@pytest.mark.parametrize("load", LOADERS)
@pytest.mark.parametrize("how", sorted(BAD_GZIP))
def test_bad_gzip_is_refused_clearly(tmp_path, how, load, no_network):
    raw = make_root(tmp_path) / "MNIST" / "raw"
    name = "train-images-idx3-ubyte"
    damage, words = BAD_GZIP[how]
    path = gzip_instead(raw, name, damage(gzip.compress((raw / name).read_bytes())))
    with pytest.raises(DatasetError, match=words) as caught:
        load(tmp_path, train=True)
    message = str(caught.value)
    assert str(path) in message
    if load is torch_load:
        # torchvision saw the md5 differ, tried to download a fresh copy, and could not
        assert no_network, "torchvision should have tried (and failed) to download"
        assert "could not download a fresh copy" in message
        assert "f68b3c2dcbeaaa9fbdd348bbdeb94873" in message


@pytest.mark.parametrize("load", LOADERS)
@pytest.mark.parametrize("dataset", ["mnist", "fashion-mnist"])
def test_missing_files_say_where_and_how(tmp_path, load, dataset):
    """An empty root and no network: where the four files go, their names, how to get them."""
    with pytest.raises(DatasetNotFoundError) as caught:
        load(tmp_path, train=True, dataset=dataset)
    assert isinstance(caught.value, FileNotFoundError)
    message = str(caught.value)
    folder = DATASETS[dataset].folder
    assert f"{tmp_path / folder / 'raw'}/" in message
    for name in RAW_FILES:
        assert name in message
    assert "torchvision" in message and "copy them there" in message
    assert "train-images-idx3-ubyte" in message.split("missing in")[0]
    if dataset == "fashion-mnist":
        assert "dataset-fashion-mnist" in message
        assert "/usr/share/datasets/fashion-mnist/" in message


def test_download_impossible(tmp_path, no_network):
    """torchvision tries every mirror, each refused; the twin says what to do, and keeps
    torchvision's error as the cause."""
    with pytest.raises(DatasetNotFoundError, match="could not download them: Error downloading") as caught:
        torch_load(tmp_path, train=False)
    assert len(no_network) == len(datasets.MNIST.mirrors)
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert "network disabled by the test" in str(caught.value)


def test_scratch_needs_only_the_split_it_reads(tmp_path):
    raw = make_root(tmp_path) / "MNIST" / "raw"
    (raw / "t10k-labels-idx1-ubyte").unlink()
    images, _ = scratch_load(tmp_path, train=True)
    assert images.shape == (5, 28, 28)
    with pytest.raises(DatasetNotFoundError, match=r"t10k-labels-idx1-ubyte\[\.gz\] missing in"):
        scratch_load(tmp_path, train=False)


def test_torch_twin_needs_all_four(tmp_path, no_network):
    """torchvision checks every file before reading one split: the message says so."""
    raw = make_root(tmp_path) / "MNIST" / "raw"
    (raw / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DatasetNotFoundError,
                       match=r"t10k-labels-idx1-ubyte\.gz missing in .*torchvision needs all four"):
        torch_load(tmp_path, train=True)
    assert no_network                                  # it tried to download the missing one


def test_recompressed_copy(tmp_path):
    """A valid .gz that is not byte for byte the original (Debian's Fashion-MNIST): scratch reads
    it; torchvision's md5 check refuses it, and the torch twin says to decompress it."""
    raw = make_root(tmp_path) / "MNIST" / "raw"
    name = "train-labels-idx1-ubyte"
    path = gzip_instead(raw, name, gzip.compress((raw / name).read_bytes()))
    _, labels = scratch_load(tmp_path, train=True)
    assert labels.shape == (5,)
    with pytest.raises(DatasetError, match=r"may be a recompressed copy: decompress it \(gunzip\)") as caught:
        torch_load(tmp_path, train=True)
    assert str(path) in str(caught.value)


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"nope\.idx: no such file"):
        read_idx(tmp_path / "nope.idx")


@pytest.mark.parametrize("load", LOADERS)
def test_bad_arguments(tmp_path, load):
    with pytest.raises(ValueError, match=r"dataset must be one of \['fashion-mnist', 'mnist'\], got 'cifar'"):
        load(tmp_path, dataset="cifar")
    with pytest.raises(TypeError, match="train must be a bool, got 'yes'"):
        load(tmp_path, train="yes")
