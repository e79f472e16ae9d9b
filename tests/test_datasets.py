"""fs.datasets: the IDX parser, the cache, and real downloads from a local HTTP server.

The download tests start an http.server on 127.0.0.1 (port 0) serving small IDX files made
here, and point the module's MIRRORS and MNIST_SHA256 tables at it.
"""

import gzip
import hashlib
import http.server
import shutil
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from from_scratch import datasets
from from_scratch.data import DataLoader
from from_scratch.datasets import ChecksumError, load_mnist, read_idx

NAMES = list(datasets.MNIST_SHA256)  # train-images, train-labels, t10k-images, t10k-labels
REAL_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def idx_bytes(arr: np.ndarray) -> bytes:
    """Encode an array in the IDX format (big-endian), independently of the parser."""
    codes = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C,
             np.float32: 0x0D, np.float64: 0x0E}
    code = codes[arr.dtype.type]
    header = bytes([0, 0, code, arr.ndim]) + np.array(arr.shape, ">u4").tobytes()
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def small_mnist(seed=0, n_train=5, n_test=3):
    """Tiny MNIST-shaped splits: {file name: decompressed IDX bytes}, and the arrays."""
    rng = np.random.default_rng(seed)
    arrays = {
        NAMES[0]: rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        NAMES[1]: rng.integers(0, 10, n_train, dtype=np.uint8),
        NAMES[2]: rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        NAMES[3]: rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    return {n: idx_bytes(a) for n, a in arrays.items()}, arrays


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        self.server.log.append(self.path)
        status, body, claimed = self.server.routes.get(self.path, (404, b"not found", None))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body) if claimed is None else claimed))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.routes, httpd.log = {}, []
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def fake(monkeypatch, server):
    """Small MNIST files whose checksums replace the real ones; mirrors 'a' and 'b' on the
    local server, empty until a test fills in server.routes."""
    contents, arrays = small_mnist()
    monkeypatch.setattr(datasets, "MNIST_SHA256",
                        {n: hashlib.sha256(c).hexdigest() for n, c in contents.items()})
    monkeypatch.setattr(datasets, "MIRRORS", [f"{server.url}/a/", f"{server.url}/b/"])
    monkeypatch.setattr(datasets, "TIMEOUT", 5.0)
    gz = {n: gzip.compress(c) for n, c in contents.items()}
    return contents, arrays, gz


def serve(server, mirror, gz, names=NAMES, status=200, truncate=False, claimed=None):
    for n in names:
        body = gz[n][:len(gz[n]) // 2] if truncate else gz[n]
        server.routes[f"/{mirror}/{n}"] = (status, body, claimed)


def cache_files(root):
    d = Path(root) / "mnist"
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def check_loaded(result, arrays):
    x_train, y_train, x_test, y_test = result
    np.testing.assert_array_equal(x_train, arrays[NAMES[0]].reshape(-1, 784) / np.float32(255))
    np.testing.assert_array_equal(y_train, arrays[NAMES[1]])
    np.testing.assert_array_equal(x_test, arrays[NAMES[2]].reshape(-1, 784) / np.float32(255))
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64


# ---------------------------------------------------------------------- the IDX parser

@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32,
                                   np.float64])
def test_read_idx_roundtrip(dtype):
    arr = (np.arange(24) - 7).astype(dtype).reshape(2, 3, 4)
    out = read_idx(idx_bytes(arr))
    assert out.dtype == dtype and out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, arr)


@pytest.mark.parametrize("data, match", [
    (b"PK\x03\x04" + bytes(100), "not an IDX file"),               # a zip file
    (b"\x1f\x8b\x08\x00" + bytes(100), "not an IDX file"),          # still gzip-compressed
    (b"\x00\x00\x07\x01" + bytes(8), "unknown IDX type code 0x07"),
    (b"\x00\x00\x08\x03\x00\x00", "truncated"),                    # header cut short
    (b"\x00\x00\x08\x00", "missing or truncated"),                 # zero dimensions
    (b"", "not an IDX file"),
])
def test_read_idx_rejects_foreign_files(data, match):
    with pytest.raises(ValueError, match=match):
        read_idx(data)


def test_read_idx_rejects_truncated_and_padded_data():
    good = idx_bytes(np.zeros((4, 28, 28), np.uint8))
    with pytest.raises(ValueError, match=r"shape \(4, 28, 28\).*it is truncated"):
        read_idx(good[:-1], "t.idx")
    with pytest.raises(ValueError, match="extra bytes"):
        read_idx(good + b"\x00")


def test_parse_checks_mnist_shapes_and_labels():
    images = idx_bytes(np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(ValueError, match=r"\(N, 28, 28\)"):
        datasets._parse_split(idx_bytes(np.zeros((2, 27, 27), np.uint8)),
                              idx_bytes(np.zeros(2, np.uint8)), "train", True)
    with pytest.raises(ValueError, match="labels in 0..9"):
        datasets._parse_split(images, idx_bytes(np.array([1, 10], np.uint8)), "train", True)
    with pytest.raises(ValueError, match="2 uint8 labels"):
        datasets._parse_split(images, idx_bytes(np.zeros(3, np.uint8)), "train", True)


# ---------------------------------------------------------------------- where the cache is

def test_data_root_order(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("FROM_SCRATCH_DATA", raising=False)
    assert datasets.data_root() == tmp_path / "home" / ".cache" / "from_scratch"
    monkeypatch.setenv("FROM_SCRATCH_DATA", str(tmp_path / "env"))
    assert datasets.data_root() == tmp_path / "env"
    assert datasets.data_root(tmp_path / "arg") == tmp_path / "arg"


def test_env_var_is_used_for_loading(fake, server, monkeypatch, tmp_path):
    contents, arrays, gz = fake
    serve(server, "a", gz)
    monkeypatch.setenv("FROM_SCRATCH_DATA", str(tmp_path / "env"))
    check_loaded(load_mnist(), arrays)
    assert cache_files(tmp_path / "env") == sorted(NAMES)


# ---------------------------------------------------------------------- downloads

def test_download_good_files_quietly(fake, server, tmp_path, capsys):
    contents, arrays, gz = fake
    serve(server, "a", gz)
    check_loaded(load_mnist(root=tmp_path), arrays)
    assert cache_files(tmp_path) == sorted(NAMES)  # no temporary files left behind
    for n in NAMES:  # stored exactly as served
        assert (tmp_path / "mnist" / n).read_bytes() == gz[n]
    assert capsys.readouterr() == ("", "")  # default: nothing on stdout or stderr
    # Second load: from the cache, no request.
    server.log.clear()
    check_loaded(load_mnist(root=tmp_path), arrays)
    assert server.log == []


@pytest.mark.parametrize("status", [500, 404])
def test_server_error_on_first_mirror(fake, server, tmp_path, status):
    contents, arrays, gz = fake
    serve(server, "a", gz, status=status)
    serve(server, "b", gz)
    check_loaded(load_mnist(root=tmp_path), arrays)
    assert server.log[:2] == [f"/a/{NAMES[0]}", f"/b/{NAMES[0]}"]
    assert cache_files(tmp_path) == sorted(NAMES)


@pytest.mark.parametrize("bad", ["truncated", "dropped connection", "wrong checksum",
                                 "not gzip"])
def test_bad_file_on_first_mirror_is_never_cached(fake, server, tmp_path, bad):
    contents, arrays, gz = fake
    if bad == "truncated":
        serve(server, "a", gz, truncate=True)
    elif bad == "dropped connection":  # Content-Length promises more than is sent
        serve(server, "a", gz, truncate=True, claimed=5000)
    elif bad == "wrong checksum":
        other = {n: gzip.compress(c) for n, c in small_mnist(seed=1)[0].items()}
        serve(server, "a", other)
    else:
        serve(server, "a", {n: contents[n] for n in NAMES})  # uncompressed
    # Only the first mirror: the download fails and the cache stays empty.
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(root=tmp_path)
    assert cache_files(tmp_path) == []
    assert f"{server.url}/a/{NAMES[0]}: rejected" in str(info.value)
    # With a good second mirror: every file comes from it, verified.
    serve(server, "b", gz)
    check_loaded(load_mnist(root=tmp_path), arrays)
    assert cache_files(tmp_path) == sorted(NAMES)
    assert (tmp_path / "mnist" / NAMES[0]).read_bytes() == gz[NAMES[0]]


def test_failed_download_leaves_existing_cache_untouched(fake, server, tmp_path):
    contents, arrays, gz = fake
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / NAMES[1]).write_bytes(gz[NAMES[1]])
    serve(server, "a", gz, truncate=True)
    with pytest.raises(FileNotFoundError):
        load_mnist(root=tmp_path)
    assert cache_files(tmp_path) == [NAMES[1]]
    assert (tmp_path / "mnist" / NAMES[1]).read_bytes() == gz[NAMES[1]]


def test_corrupted_cache_file_is_reported_and_replaced(fake, server, tmp_path):
    contents, arrays, gz = fake
    serve(server, "a", gz)
    load_mnist(root=tmp_path)
    bad = tmp_path / "mnist" / NAMES[2]
    bad.write_bytes(gzip.compress(contents[NAMES[2]][:-1]))  # one byte short
    with pytest.raises(ChecksumError, match="wrong content"):
        load_mnist(root=tmp_path, download=False)
    assert bad.read_bytes() != gz[NAMES[2]]  # without download: reported, kept, not used
    with pytest.warns(RuntimeWarning, match="downloading it again"):
        check_loaded(load_mnist(root=tmp_path), arrays)
    assert bad.read_bytes() == gz[NAMES[2]]


def test_cached_file_that_is_not_gzip(fake, server, tmp_path):
    contents, arrays, gz = fake
    serve(server, "a", gz)
    load_mnist(root=tmp_path)
    (tmp_path / "mnist" / NAMES[0]).write_bytes(b"<html>rate limited</html>")
    with pytest.raises(ChecksumError, match="not a complete gzip file"):
        load_mnist(root=tmp_path, download=False)


def test_progress_callback_and_stderr(fake, server, tmp_path, capsys):
    contents, arrays, gz = fake
    serve(server, "a", gz)
    calls = []
    datasets.MNIST(root=tmp_path, train=False, progress=lambda *a: calls.append(a))
    assert {c[0] for c in calls} == {NAMES[2], NAMES[3]}  # only the test split was needed
    last = [c for c in calls if c[0] == NAMES[2]][-1]
    assert last[1] == last[2] == len(gz[NAMES[2]])
    datasets.MNIST(root=tmp_path / "other", train=False, progress=True)
    out, err = capsys.readouterr()
    assert out == "" and f"downloading {NAMES[2]}" in err


def unused_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_offline_error_names_directory_files_and_env_var(monkeypatch, tmp_path):
    monkeypatch.setattr(datasets, "MIRRORS", [f"http://127.0.0.1:{unused_port()}/mnist/"])
    monkeypatch.setattr(datasets, "TIMEOUT", 5.0)
    start = time.perf_counter()
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(root=tmp_path)
    assert time.perf_counter() - start < 5  # a refused mirror is not retried for every file
    message = str(info.value)
    assert str(tmp_path / "mnist") in message
    assert all(n in message for n in NAMES)
    assert "FROM_SCRATCH_DATA" in message and "could not be downloaded" in message
    tried = message.split("What was tried:")[1]
    assert tried.count("127.0.0.1") == 1  # tried once, then known to be unreachable
    with pytest.raises(FileNotFoundError, match="download=False") as info:
        datasets.MNIST(root=tmp_path, download=False)
    assert all(n in str(info.value) for n in NAMES)


# ---------------------------------------------------------------------- the Dataset

def test_mnist_dataset(fake, server, tmp_path):
    contents, arrays, gz = fake
    serve(server, "a", gz)
    ds = datasets.MNIST(root=tmp_path, train=True)
    assert len(ds) == 5 and ds.data.shape == (5, 784)
    image, label = ds[3]
    assert image.dtype == np.float32 and image.shape == (784,)
    assert isinstance(label, np.int64) and label == arrays[NAMES[1]][3]
    square = datasets.MNIST(root=tmp_path, train=False, flatten=False)
    assert square.data.shape == (3, 28, 28)
    batches = list(DataLoader(ds, batch_size=2))
    assert [len(y) for _, y in batches] == [2, 2, 1]
    assert isinstance(batches[0][0], np.ndarray) and batches[0][0].shape == (2, 784)


@pytest.mark.skipif(not (REAL_MNIST / NAMES[0]).exists(), reason="real MNIST files not found")
def test_real_mnist(monkeypatch, tmp_path):
    monkeypatch.setattr(datasets, "MIRRORS", [])  # must come from the cache, not the network
    shutil.copytree(REAL_MNIST, tmp_path / "mnist")
    x_train, y_train, x_test, y_test = load_mnist(root=tmp_path)
    assert x_train.shape == (60000, 784) and x_test.shape == (10000, 784)
    assert x_train.dtype == x_test.dtype == np.float32
    assert y_train.dtype == y_test.dtype == np.int64
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    assert 0.0 <= x_test.min() and x_test.max() <= 1.0
    assert y_train.min() == 0 and y_train.max() == 9
    counts = np.bincount(y_train, minlength=10)
    assert counts.sum() == 60000 and np.bincount(y_test, minlength=10).sum() == 10000
    # The published class counts of the MNIST training set.
    np.testing.assert_array_equal(counts, [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265,
                                           5851, 5949])
    assert 0.12 < x_train.mean() < 0.14  # the well-known mean pixel intensity, 0.1307


def test_bad_progress_argument(tmp_path):
    with pytest.raises(TypeError, match="progress must be"):
        load_mnist(root=tmp_path, download=False, progress="yes")
