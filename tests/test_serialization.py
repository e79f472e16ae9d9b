"""Tests of fs.save / fs.load (from_scratch/serialization.py)."""

import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import from_scratch as fs
from from_scratch import nn


class Normalised(nn.Module):
    """A model with a buffer: x is standardised with a stored mean before the layers."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", np.zeros(4, dtype=np.float32))
        self.register_buffer("steps", np.array(0, dtype=np.int64))
        self.net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))

    def forward(self, x):
        return self.net(x - self.mean)


def leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


# ----------------------------------------------------------------------------- round trips


def test_model_with_buffers_round_trips_bit_identically(tmp_path):
    fs.manual_seed(0)
    model = Normalised()
    model.mean.data[...] = [0.1, -0.2, 0.3, 0.5]
    model.steps.data[...] = 12
    path = fs.save(model.state_dict(), tmp_path / "model.npz")
    assert path == tmp_path / "model.npz" and path.exists()

    fs.manual_seed(1)
    fresh = Normalised()
    x = fs.randn(5, 4)
    assert np.any(fresh(x).data != model(x).data)
    fresh.load_state_dict(fs.load(path))
    np.testing.assert_array_equal(fresh(x).data, model(x).data)  # bit-identical
    assert fresh.steps.data == 12 and fresh.steps.dtype == np.int64
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved_through_init_save_and_load(tmp_path, dtype):
    lin = nn.Linear(3, 2, dtype=dtype)
    fs.save(lin.state_dict(), tmp_path / "lin.npz")
    loaded = fs.load(tmp_path / "lin.npz")
    assert loaded["weight"].dtype == dtype and loaded["bias"].dtype == dtype
    other = nn.Linear(3, 2, dtype=dtype)
    other.load_state_dict(loaded)
    assert other.weight.dtype == dtype
    np.testing.assert_array_equal(other.weight.data, lin.weight.data)


def test_a_state_dict_is_a_plain_npz_with_its_keys_in_order(tmp_path):
    model = nn.Sequential(*[nn.Linear(1, 1) for _ in range(12)])
    fs.save(model.state_dict(), tmp_path / "m.npz")
    assert list(fs.load(tmp_path / "m.npz")) == list(model.state_dict())  # 0, 1, ..., 10, 11
    with np.load(tmp_path / "m.npz", allow_pickle=False) as plain:  # readable without us
        np.testing.assert_array_equal(plain["11.weight"], model[11].weight.data)


def test_tensors_are_saved_as_arrays(tmp_path):
    fs.save({"w": nn.Parameter([1.0, 2.0]), "t": fs.tensor([3])}, tmp_path / "t.npz")
    loaded = fs.load(tmp_path / "t.npz")
    assert isinstance(loaded["w"], np.ndarray) and loaded["w"].dtype == np.float32
    assert loaded["t"].tolist() == [3]


def test_nested_dicts_lists_and_numbers_round_trip(tmp_path):
    optimizer_like = {
        "state": {0: {"momentum_buffer": np.arange(3.0), "step": 7},
                  1: {"momentum_buffer": np.ones((2, 2), np.float32), "step": 7}},
        "param_groups": [{"lr": 0.1, "momentum": 0.9, "nesterov": False, "params": [0, 1],
                          "name": "body", "max_norm": None, "betas": (0.9, 0.999)}],
    }
    obj = {"model": {"fc.weight": np.eye(2)}, "optimizer": optimizer_like, "epoch": 3,
           "best": float("inf")}
    fs.save(obj, tmp_path / "ckpt.npz")
    back = fs.load(tmp_path / "ckpt.npz")
    assert list(back) == ["model", "optimizer", "epoch", "best"]
    assert back["epoch"] == 3 and isinstance(back["epoch"], int) and back["best"] == float("inf")
    assert list(back["optimizer"]["state"]) == [0, 1]  # int keys stay ints
    group = back["optimizer"]["param_groups"][0]
    assert group == {"lr": 0.1, "momentum": 0.9, "nesterov": False, "params": [0, 1],
                     "name": "body", "max_norm": None, "betas": (0.9, 0.999)}
    buf = back["optimizer"]["state"][1]["momentum_buffer"]
    assert buf.dtype == np.float32 and buf.shape == (2, 2)
    np.testing.assert_array_equal(back["model"]["fc.weight"], np.eye(2))
    with np.load(tmp_path / "ckpt.npz") as plain:  # the documented entry names
        assert "model/fc.weight" in plain.files
        assert "optimizer/state/0/momentum_buffer" in plain.files


_arrays = st.builds(  # shape () gives NumPy scalars, which must come back as 0-d arrays
    lambda shape, dtype, seed: (np.random.default_rng(seed).standard_normal(shape) * 100)
    .astype(dtype)[()],
    st.lists(st.integers(0, 3), max_size=3).map(tuple),
    st.sampled_from([np.float32, np.float64, np.int64, np.int8, np.uint8, np.bool_]),
    st.integers(0, 2**16))


@settings(max_examples=30, deadline=None)
@given(sd=st.dictionaries(st.text(min_size=0, max_size=8), _arrays, max_size=5))
def test_any_dict_of_arrays_round_trips_exactly(tmp_path_factory, sd):
    path = tmp_path_factory.mktemp("rt") / "x.npz"
    fs.save(sd, path)
    back = fs.load(path)
    assert list(back) == list(sd)  # any key, even '', '/' or '__from_scratch__'
    for k in sd:
        assert back[k].dtype == sd[k].dtype and back[k].shape == sd[k].shape
        np.testing.assert_array_equal(back[k], sd[k])


# ----------------------------------------------------------------------------- atomic writes


def test_an_interrupted_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    old = nn.Linear(50, 50).state_dict()
    fs.save(old, path)
    written = []

    def write_half_then_crash(f, arr, allow_pickle=False):
        if written:  # the second array: write half of it, then die
            f.write(arr.tobytes()[: arr.nbytes // 2])
            raise KeyboardInterrupt("simulated crash")
        written.append(arr.shape)
        f.write(np.lib.format.magic(1, 0))

    monkeypatch.setattr(np.lib.format, "write_array", write_half_then_crash)
    with pytest.raises(KeyboardInterrupt):
        fs.save(nn.Linear(50, 50).state_dict(), path)
    monkeypatch.undo()

    assert written  # the crash really happened mid-write
    loaded = fs.load(path)
    for k in old:
        np.testing.assert_array_equal(loaded[k], old[k])
    assert leftovers(tmp_path) == [] and sorted(p.name for p in tmp_path.iterdir()) == [
        "model.npz"]


def test_invalid_values_fail_before_touching_the_file(tmp_path):
    path = tmp_path / "x.npz"
    fs.save({"a": np.ones(2)}, path)
    with pytest.raises(TypeError, match=r"cannot store a set \(at b/c\)"):
        fs.save({"a": np.zeros(2), "b": {"c": {1, 2}}}, path)
    with pytest.raises(TypeError, match="holds Python objects.*only pickle"):
        fs.save({"a": np.array([{}], dtype=object)}, path)
    with pytest.raises(TypeError, match=r"keys must be strings or ints, got \(1, 2\)"):
        fs.save({(1, 2): np.zeros(1)}, path)
    np.testing.assert_array_equal(fs.load(path)["a"], np.ones(2))
    assert leftovers(tmp_path) == []


def test_saving_a_module_or_a_wrong_suffix_says_what_to_do(tmp_path):
    with pytest.raises(TypeError, match=r"fs.save\(model.state_dict\(\), path\)"):
        fs.save(nn.Linear(2, 2), tmp_path / "m.npz")
    with pytest.raises(ValueError, match=r"ending in '.npz', e.g. 'model.npz' \(got 'model.pt'\)"):
        fs.save({}, tmp_path / "model.pt")
    with pytest.raises(FileNotFoundError, match="the folder .*nowhere' does not exist"):
        fs.save({}, tmp_path / "nowhere" / "model.npz")


# ----------------------------------------------------------------------------- refusing files


def test_a_pickled_object_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, weight=np.ones(2), payload=np.array([{"run": "code"}], dtype=object))
    with pytest.raises(ValueError, match="contains a pickled Python object.*never unpickles"):
        fs.load(path)


def test_a_raw_pickle_file_is_refused(tmp_path):
    import pickle

    path = tmp_path / "model.pt"
    path.write_bytes(pickle.dumps({"w": [1.0]}))
    with pytest.raises(ValueError, match="a pickle file, and fs.load never unpickles"):
        fs.load(path)


def test_foreign_files_give_clear_errors(tmp_path):
    text = tmp_path / "notes.npz"
    text.write_text("hello, I am not a checkpoint")
    with pytest.raises(ValueError, match=r"not a checkpoint written by fs.save.*not a zip"):
        fs.load(text)

    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="it is empty"):
        fs.load(empty)

    npy = tmp_path / "a.npy"
    np.save(npy, np.ones(3))
    with pytest.raises(ValueError, match=r"single .npy array \(read it with np.load\)"):
        fs.load(npy)

    other_zip = tmp_path / "other.npz"
    with zipfile.ZipFile(other_zip, "w") as zf:
        zf.writestr("archive/data.pkl", b"\x80\x04")
    with pytest.raises(ValueError, match="holds 'archive/data.pkl', which is not a NumPy array"):
        fs.load(other_zip)

    with pytest.raises(FileNotFoundError):
        fs.load(tmp_path / "missing.npz")


def test_a_truncated_file_gives_a_clear_error(tmp_path):
    path = tmp_path / "model.npz"
    fs.save(nn.Linear(20, 20).state_dict(), path)
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 10):
        broken = tmp_path / f"cut{cut}.npz"
        broken.write_bytes(data[:cut])
        with pytest.raises(ValueError, match="is truncated or corrupt"):
            fs.load(broken)


def test_a_corrupted_byte_is_detected(tmp_path):
    path = tmp_path / "model.npz"
    fs.save({"w": np.zeros(1000, np.float32)}, path)
    data = bytearray(path.read_bytes())
    data[600] ^= 0xFF  # inside the array's bytes: the zip CRC no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="truncated or corrupt"):
        fs.load(path)


def test_a_plain_numpy_npz_loads_as_a_flat_dict(tmp_path):
    np.savez(tmp_path / "plain.npz", a=np.arange(3), b=np.eye(2))
    back = fs.load(tmp_path / "plain.npz")
    assert sorted(back) == ["a", "b"] and back["a"].tolist() == [0, 1, 2]


def test_odd_keys_are_stored_under_safe_names_and_come_back(tmp_path):
    sd = {"": np.zeros(1), "../up": np.ones(1), "__from_scratch__": np.full(1, 2.0),
          "a b": np.full(1, 3.0), "a/": np.full(1, 4.0), "arr_0": np.full(1, 5.0)}
    fs.save(sd, tmp_path / "odd.npz")
    back = fs.load(tmp_path / "odd.npz")
    assert list(back) == list(sd)
    assert [float(v[0]) for v in back.values()] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    with zipfile.ZipFile(tmp_path / "odd.npz") as zf:
        assert not any(".." in name for name in zf.namelist())
