"""MNIST: download from public mirrors, verify, cache, and parse the IDX files with NumPy.

    x_train, y_train, x_test, y_test = fs.datasets.load_mnist()   # (60000, 784) float32 in [0, 1]
    train = fs.datasets.MNIST(train=True)                         # a Dataset for fs.data.DataLoader

Where the files live: `<cache>/mnist/`, with `<cache>` = the `root` argument, else the
environment variable FROM_SCRATCH_DATA, else ~/.cache/from_scratch. Offline, put the four
canonical files (names in MNIST_SHA256) there by hand.

Trust nothing: every file is checked against the SHA-256 of its *decompressed* content at every
load (the .gz bytes may differ between mirrors and recompressions; the content may not).
Decompressing is needed to parse anyway, and hashing 55 MB costs a few hundredths of a second
with hardware SHA, so no "already verified" marker is kept. A download goes to a hidden
temporary file in the cache directory and is renamed into place only once complete and
verified, so an interrupted or corrupted download never poisons the cache.

The mirror list, the checksums and the timeout are module-level tables, so a test can point
them at a local server.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import sys
import tempfile
import warnings
import zlib
from pathlib import Path
from typing import Callable

import numpy as np

from .data import Dataset

ENV_VAR = "FROM_SCRATCH_DATA"

# Tried in order. yann.lecun.com (torchvision's first mirror) has refused downloads for years,
# so it comes last; ossci-datasets is torchvision's fallback, cvdf-datasets TensorFlow's.
MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]

# SHA-256 of the decompressed IDX content of each canonical file.
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz":
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte.gz":
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte.gz":
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte.gz":
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
SPLITS = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
          "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}

TIMEOUT = 30.0  # seconds per network operation (connect, each read), not for a whole file
MAX_DOWNLOAD_BYTES = 64 * 2**20  # the largest MNIST file is 9.9 MB; refuse anything absurd

Progress = Callable[[str, int, "int | None"], None]  # (file name, bytes so far, total or None)


class ChecksumError(ValueError):
    """A file is not the one expected: wrong content, or not a complete gzip file."""


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The cache directory: `root`, else $FROM_SCRATCH_DATA, else ~/.cache/from_scratch."""
    if root is not None:
        return Path(root).expanduser()
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    return Path.home() / ".cache" / "from_scratch"


# ---------------------------------------------------------------------- the IDX format

# IDX: two zero bytes, a type code, the number of dimensions, then one big-endian uint32 per
# dimension, then the values in C order, big-endian.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(data: bytes, name: str = "IDX data") -> np.ndarray:
    """Parse IDX bytes (already decompressed) into an array; reject anything malformed."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{name} is not an IDX file: it should start with two zero bytes, "
                         f"but starts with {bytes(data[:4])!r}")
    code, ndim = data[2], data[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"{name}: unknown IDX type code 0x{code:02x} "
                         f"(expected one of {', '.join(f'0x{c:02x}' for c in _IDX_DTYPES)})")
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise ValueError(f"{name}: IDX header with {ndim} dimensions is missing or truncated "
                         f"({len(data)} bytes)")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "followed by extra bytes"
        raise ValueError(f"{name}: the header announces shape {shape} of {dtype.name} "
                         f"({expected} bytes in all) but the file has {len(data)} bytes: "
                         f"it is {what}")
    arr = np.frombuffer(data, dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=False)  # native order; no copy for uint8


def _read_gz_verified(path: Path, sha256: str) -> bytes:
    """Decompress `path` and return its content if its SHA-256 is `sha256`."""
    try:
        content = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError
        raise ChecksumError(f"{path} is not a complete gzip file ({e})") from None
    digest = hashlib.sha256(content).hexdigest()
    if digest != sha256:
        raise ChecksumError(f"{path} has the wrong content: SHA-256 of the decompressed data "
                            f"is {digest[:16]}..., expected {sha256[:16]}...")
    return content


# ---------------------------------------------------------------------- downloading

def _stderr_progress(name: str, done: int, total: int | None) -> None:
    """progress=True: one self-overwriting line per file on stderr (never on stdout)."""
    end = "\n" if total is not None and done >= total else ""
    size = f"{done / 1e6:.1f} / {total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB"
    sys.stderr.write(f"\rdownloading {name}: {size}{end}")
    sys.stderr.flush()


def _download(url: str, directory: Path, name: str, progress: Progress | None) -> bytes:
    """Fetch `url` into directory/name through a verified temporary file; return the content."""
    import urllib.request
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".part")
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "from_scratch"})
        with os.fdopen(fd, "wb") as out, \
                urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            done = 0
            while chunk := response.read(1 << 16):
                done += len(chunk)
                if done > MAX_DOWNLOAD_BYTES:
                    raise ChecksumError(f"more than {MAX_DOWNLOAD_BYTES} bytes: not MNIST")
                out.write(chunk)
                if progress is not None:
                    progress(name, done, total)
        if total is not None and done != total:
            raise ChecksumError(f"connection closed after {done} of {total} bytes")
        content = _read_gz_verified(Path(tmp), MNIST_SHA256[name])
        os.replace(tmp, directory / name)  # atomic: the cache sees all of the file or none
        return content
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _fetch(directory: Path, name: str, progress: Progress | None, dead: set,
           failures: list) -> bytes | None:
    """Try each mirror in turn; record why each failed; None if none worked."""
    import http.client  # the network modules (~20 ms with ssl) load only when needed
    import urllib.error
    directory.mkdir(parents=True, exist_ok=True)
    for mirror in MIRRORS:
        if mirror in dead:
            continue
        url = mirror + name
        try:
            return _download(url, directory, name, progress)
        except urllib.error.HTTPError as e:  # the server answered: it may have other files
            failures.append(f"{url}: HTTP {e.code} {e.reason}")
        except (urllib.error.URLError, OSError) as e:
            # Unreachable (offline, DNS, refused, timeout): do not try it again for other files.
            dead.add(mirror)
            failures.append(f"{url}: {getattr(e, 'reason', e)}")
        except (ChecksumError, http.client.HTTPException) as e:
            failures.append(f"{url}: rejected, {str(e) or type(e).__name__}")
    return None


def _offline_message(directory: Path, missing: list, failures: list, download: bool) -> str:
    why = ("and download=False" if not download else
           "and could not be downloaded from any mirror")
    lines = [f"MNIST files are missing from {directory} {why}.",
             f"Put these four files into {directory}:",
             *(f"    {n}" + ("   (missing)" if n in missing else "") for n in MNIST_SHA256),
             f"(from any MNIST mirror, e.g. {MIRRORS[0] if MIRRORS else 'torchvision'}), "
             f"or set the environment variable {ENV_VAR} to a directory whose mnist/ "
             f"subdirectory holds them, or pass root=... ."]
    if failures:
        lines += ["What was tried:", *(f"    {f}" for f in failures)]
    return "\n".join(lines)


def _get_files(names, root, download: bool, progress) -> dict:
    """The verified decompressed content of each file, downloading what is missing or bad."""
    if not (isinstance(progress, bool) or callable(progress)):
        raise TypeError(f"progress must be True, False or a function (name, done, total), "
                        f"got {progress!r}")
    directory = data_root(root) / "mnist"
    callback = _stderr_progress if progress is True else (progress or None)
    contents, missing, failures, dead = {}, [], [], set()
    for name in names:
        path = directory / name
        if path.exists():
            try:
                contents[name] = _read_gz_verified(path, MNIST_SHA256[name])
                continue
            except ChecksumError as e:
                if not download:
                    raise ChecksumError(f"{e}. Delete it and download it again "
                                        f"(download=True), or replace it by hand.") from None
                warnings.warn(f"{e}; downloading it again", RuntimeWarning, stacklevel=3)
                failures.append(f"{path}: {e}")
        if download:
            content = _fetch(directory, name, callback, dead, failures)
            if content is not None:
                contents[name] = content
                continue
        missing.append(name)
    if missing:
        raise FileNotFoundError(_offline_message(directory, missing, failures, download))
    return contents


def _parse_split(images: bytes, labels: bytes, name: str, flatten: bool):
    """IDX contents -> float32 images in [0, 1] and int64 labels, shapes checked."""
    raw = read_idx(images, f"{name} images")
    y = read_idx(labels, f"{name} labels")
    if raw.dtype != np.uint8 or raw.ndim != 3 or raw.shape[1:] != (28, 28):
        raise ValueError(f"{name} images: expected uint8 of shape (N, 28, 28), got "
                         f"{raw.dtype} {raw.shape}")
    if y.dtype != np.uint8 or y.shape != raw.shape[:1] or (y.size and y.max() > 9):
        raise ValueError(f"{name} labels: expected {len(raw)} uint8 labels in 0..9, got "
                         f"{y.dtype} {y.shape}")
    x = raw.astype(np.float32)  # one float32 copy, scaled in place: no float64 temporary
    x /= np.float32(255)
    return (x.reshape(len(x), 784) if flatten else x), y.astype(np.int64)


def _load_split(split: str, root, download: bool, flatten: bool, progress):
    images, labels = SPLITS[split]
    contents = _get_files([images, labels], root, download, progress)
    return _parse_split(contents[images], contents[labels], split, flatten)


def load_mnist(root: str | os.PathLike | None = None, download: bool = True,
               flatten: bool = True, progress: bool | Progress = False):
    """(x_train, y_train, x_test, y_test): float32 images in [0, 1], int64 labels 0-9.

    Images are (N, 784) with flatten=True, else (N, 28, 28). progress=True writes download
    progress to stderr; a callable gets (file name, bytes so far, total bytes or None).
    """
    names = [n for split in ("train", "test") for n in SPLITS[split]]
    contents = _get_files(names, root, download, progress)
    x_train, y_train = _parse_split(contents[names[0]], contents[names[1]], "train", flatten)
    x_test, y_test = _parse_split(contents[names[2]], contents[names[3]], "test", flatten)
    return x_train, y_train, x_test, y_test


class MNIST(Dataset):
    """The MNIST digits as a Dataset: `ds[i]` is (float32 image in [0, 1], int64 label)."""

    classes = [str(d) for d in range(10)]

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 download: bool = True, flatten: bool = True,
                 progress: bool | Progress = False) -> None:
        self.train = bool(train)
        self.root = data_root(root)
        self.data, self.targets = _load_split("train" if train else "test", root, download,
                                              flatten, progress)
        self.arrays = (self.data, self.targets)

    def __getitem__(self, index: int):
        return self.data[index], self.targets[index]

    def __getitems__(self, indices: np.ndarray):
        """A whole batch in one fancy-indexing operation (used by fs.data.DataLoader)."""
        return self.data[indices], self.targets[indices]

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        return f"MNIST({split}: {len(self)} images of shape {self.data.shape[1:]}, {self.root})"
