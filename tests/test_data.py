"""fs.data: Dataset, TensorDataset, DataLoader (batching, shuffling, fast path, errors)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import from_scratch as fs
from from_scratch.data import DataLoader, Dataset, TensorDataset, default_collate


def make_xy(n=10, d=3):
    x = np.arange(n * d, dtype=np.float32).reshape(n, d)
    y = np.arange(n, dtype=np.int64)
    return x, y


def collect_labels(loader):
    return np.concatenate([np.asarray(yb.data if isinstance(yb, fs.Tensor) else yb)
                           for _, yb in loader])


class ListDataset(Dataset):
    """A generic map-style dataset that counts its __getitem__ calls."""

    def __init__(self, n):
        self.n, self.calls = n, 0

    def __getitem__(self, i):
        self.calls += 1
        return np.full(2, i, dtype=np.float32), i

    def __len__(self):
        return self.n


class CountingTensorDataset(TensorDataset):
    def __init__(self, *arrays):
        super().__init__(*arrays)
        self.item_calls = self.batch_calls = 0

    def __getitem__(self, i):
        self.item_calls += 1
        return super().__getitem__(i)

    def __getitems__(self, idx):
        self.batch_calls += 1
        return super().__getitems__(idx)


# ---------------------------------------------------------------------- epochs and batches

@given(n=st.integers(0, 40), bs=st.integers(1, 12), shuffle=st.booleans(),
       drop_last=st.booleans())
def test_every_sample_once_per_epoch_and_len(n, bs, shuffle, drop_last):
    x, y = make_xy(n)
    loader = DataLoader(TensorDataset(x, y), batch_size=bs, shuffle=shuffle,
                        drop_last=drop_last)
    batches = list(loader)
    assert len(batches) == len(loader) == (n // bs if drop_last else -(-n // bs))
    sizes = [len(yb) for _, yb in batches]
    assert all(s == bs for s in sizes[:-1])
    if drop_last:
        assert all(s == bs for s in sizes)
    seen = np.concatenate([yb for _, yb in batches]) if batches else np.array([], np.int64)
    if drop_last:
        assert len(seen) == (n // bs) * bs and len(np.unique(seen)) == len(seen)
    else:
        np.testing.assert_array_equal(np.sort(seen), np.arange(n))
    for xb, yb in batches:  # rows stay paired with their labels
        np.testing.assert_array_equal(xb, x[yb])


def test_unshuffled_order_is_the_dataset_order():
    x, y = make_xy(7)
    labels = collect_labels(DataLoader(TensorDataset(x, y), batch_size=3))
    np.testing.assert_array_equal(labels, np.arange(7))


def test_drop_last_drops_only_the_short_batch():
    x, y = make_xy(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [len(yb) for _, yb in loader] == [4, 4]
    assert len(DataLoader(TensorDataset(x, y), batch_size=4)) == 3


# ---------------------------------------------------------------------- shuffling

def test_same_seed_same_batches():
    x, y = make_xy(50)
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True)
    fs.manual_seed(123)
    first = collect_labels(loader)
    fs.manual_seed(123)
    second = collect_labels(loader)
    np.testing.assert_array_equal(first, second)
    fs.manual_seed(124)
    assert not np.array_equal(collect_labels(loader), first)


def test_shuffle_changes_order_across_epochs():
    x, y = make_xy(50)
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True)
    fs.manual_seed(0)
    epochs = [collect_labels(loader) for _ in range(3)]
    assert not np.array_equal(epochs[0], epochs[1])
    assert not np.array_equal(epochs[1], epochs[2])
    assert not np.array_equal(epochs[0], np.arange(50))  # 1/50! chance of a false failure
    for e in epochs:
        np.testing.assert_array_equal(np.sort(e), np.arange(50))


def test_explicit_generator_is_used():
    x, y = make_xy(30)
    a = collect_labels(DataLoader(TensorDataset(x, y), 4, shuffle=True,
                                  generator=np.random.default_rng(5)))
    b = collect_labels(DataLoader(TensorDataset(x, y), 4, shuffle=True,
                                  generator=np.random.default_rng(5)))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, np.random.default_rng(5).permutation(30))


# ---------------------------------------------------------------------- types and fast path

def test_arrays_in_arrays_out_dtype_preserved():
    x = np.random.default_rng(0).normal(size=(9, 2))  # float64 on purpose: must stay float64
    y = np.arange(9, dtype=np.int64)
    m = np.ones(9, dtype=np.uint8)
    for xb, yb, mb in DataLoader(TensorDataset(x, y, m), batch_size=4, shuffle=True):
        assert type(xb) is np.ndarray and type(yb) is np.ndarray and type(mb) is np.ndarray
        assert (xb.dtype, yb.dtype, mb.dtype) == (np.float64, np.int64, np.uint8)


def test_tensors_in_tensors_out_without_grad():
    x = fs.tensor(np.ones((6, 3)), requires_grad=True)
    y = fs.tensor(np.arange(6))
    for xb, yb in DataLoader(TensorDataset(x, y), batch_size=4):
        assert isinstance(xb, fs.Tensor) and isinstance(yb, fs.Tensor)
        assert xb.dtype == np.float32 and yb.dtype == y.dtype
        assert not xb.requires_grad and xb.is_leaf
    xi, yi = TensorDataset(x, y)[2]
    assert isinstance(xi, fs.Tensor) and xi.shape == (3,) and int(yi.item()) == 2


def test_mixed_tensor_and_array_fields():
    x = fs.tensor(np.zeros((5, 2)))
    y = np.arange(5)
    xb, yb = next(iter(DataLoader(TensorDataset(x, y), batch_size=5)))
    assert isinstance(xb, fs.Tensor) and isinstance(yb, np.ndarray)


def test_batch_is_a_copy_not_a_view():
    x, y = make_xy(4)
    xb, _ = next(iter(DataLoader(TensorDataset(x, y), batch_size=4)))
    xb[:] = -1
    assert x.min() >= 0


def test_fast_path_for_array_backed_datasets():
    x, y = make_xy(100)
    ds = CountingTensorDataset(x, y)
    batches = list(DataLoader(ds, batch_size=16, shuffle=True))
    assert ds.item_calls == 0  # no per-sample __getitem__
    assert ds.batch_calls == len(batches) == 7


def test_generic_dataset_falls_back_to_stacking():
    ds = ListDataset(10)
    batches = list(DataLoader(ds, batch_size=4))
    assert ds.calls == 10
    xb, yb = batches[0]
    assert xb.shape == (4, 2) and xb.dtype == np.float32
    assert yb.dtype == np.int64
    np.testing.assert_array_equal(yb, [0, 1, 2, 3])
    np.testing.assert_array_equal(xb[:, 0], [0, 1, 2, 3])


def test_default_collate_types():
    t = default_collate([fs.tensor([1.0, 2.0]), fs.tensor([3.0, 4.0])])
    assert isinstance(t, fs.Tensor) and t.shape == (2, 2)
    f = default_collate([0.5, 1.5])
    assert f.dtype == np.float32
    d = default_collate([{"a": 1}, {"a": 2}])
    np.testing.assert_array_equal(d["a"], [1, 2])
    with pytest.raises(TypeError, match="collate"):
        default_collate(["a", "b"])


def test_collate_fn_is_used():
    ds = TensorDataset(*make_xy(6))
    loader = DataLoader(ds, batch_size=3, collate_fn=lambda samples: len(samples))
    assert list(loader) == [3, 3]


# ---------------------------------------------------------------------- errors

@pytest.mark.parametrize("bs", [0, -1, 2.5, True, "4", None])
def test_bad_batch_size(bs):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        DataLoader(TensorDataset(*make_xy(4)), batch_size=bs)


def test_mismatched_lengths_name_the_shapes():
    with pytest.raises(ValueError, match=r"\(10, 3\), \(9,\)"):
        TensorDataset(np.zeros((10, 3)), np.zeros(9))


def test_bad_tensor_dataset_arguments():
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(TypeError, match="np.ndarray"):
        TensorDataset([1, 2, 3])
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(np.array(1.0, dtype=np.float32))


def test_not_a_dataset():
    with pytest.raises(TypeError, match="map-style dataset"):
        DataLoader(42)


def test_base_dataset_says_what_to_implement():
    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]
    with pytest.raises(NotImplementedError, match="__len__"):
        len(Dataset())
