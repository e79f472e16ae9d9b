"""fs.save and fs.load: checkpoints as .npz files, never pickle.

An .npz file is a zip archive holding one .npy file (NumPy's array format) per array. Unlike
pickle (what torch.save uses), loading one cannot run code hidden in the file.

The format fs.save writes:

* every array is an entry named by its path in the saved object: a state_dict's keys as they
  are ("layers.0.weight"), so `np.load(path)["layers.0.weight"]` works too; in nested dicts the
  levels are joined with "/" ("model/layers.0.weight", "optimizer/state/0/momentum_buffer"),
  because state_dict keys already contain dots. A name that is not plain (empty, odd
  characters, a clash) is stored as "arr_<i>" instead.
* one more entry, "__from_scratch__", holds a small JSON manifest: the nesting (dicts with str
  or int keys, lists, tuples), which entry holds each array, and the Python numbers, strings,
  booleans and None, stored in the JSON itself so they come back exactly as they were.

fs.load returns the same structure with np.ndarray leaves (Tensors come back as arrays, NumPy
scalars as 0-d arrays, tuples as tuples). A
plain .npz written by np.savez (no manifest) loads as a flat dict of arrays.

Saving is atomic: the file is written under a temporary name in the same directory, flushed
to disk, then renamed over the target (os.replace), so a crash mid-save leaves the previous
checkpoint intact instead of a truncated one.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .tensor import Tensor

MANIFEST = "__from_scratch__"
VERSION = 1
_PLAIN_NAME = re.compile(r"[\w.\-]+(/[\w.\-]+)*")


def save(obj: Mapping, path: str | os.PathLike) -> Path:
    """Write a state_dict (or a nested dict of arrays, Tensors and numbers) to an .npz file,
    atomically. Returns the path written."""
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"fs.save writes .npz files: give a path ending in '.npz', e.g. "
                         f"'{path.with_suffix('.npz').name}' (got '{path.name}')")
    if not isinstance(obj, Mapping):
        hint = (" Save its weights with fs.save(model.state_dict(), path)."
                if hasattr(obj, "state_dict") else "")
        raise TypeError(f"fs.save expects a dict (e.g. model.state_dict()), got "
                        f"{type(obj).__name__}.{hint}")
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(obj, [], arrays)  # validates everything before any file is touched
    arrays[MANIFEST] = np.array(json.dumps({"format": "from_scratch", "version": VERSION,
                                            "tree": tree}))
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot save to '{path}': the folder '{path.parent}' does not "
                                f"exist; create it first with Path(folder).mkdir(parents=True)")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_npz(f, arrays)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the rename makes them visible
        os.replace(tmp, path)  # atomic: readers see the old file or the new one, never half
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def load(path: str | os.PathLike):
    """Read a file written by fs.save (or np.savez): a dict of np.ndarray, nested as saved.
    Never unpickles; a foreign, truncated or corrupt file raises a ValueError saying so."""
    path = Path(path)
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != b"PK\x03\x04":  # every zip (so every .npz) starts with these bytes
        if magic.startswith(b"\x93NUM"):
            what = "a single .npy array (read it with np.load)"
        elif magic.startswith(b"\x80"):
            what = "a pickle file, and fs.load never unpickles (unpickling can run code)"
        else:
            what = "empty" if not magic else f"not a zip archive (it starts with {magic!r})"
        raise ValueError(f"'{path}' is not a checkpoint written by fs.save: it is {what}.")
    try:
        arrays = _read_npz(path)
    except _NotAnArray as e:
        raise ValueError(f"'{path}' is not a checkpoint written by fs.save: {e}") from None
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
        if "allow_pickle" in str(e):  # NumPy refusing an object array
            raise ValueError(
                f"'{path}' contains a pickled Python object. fs.load never unpickles, because "
                f"unpickling a file can run arbitrary code; save arrays and numbers only.") from e
        raise ValueError(f"'{path}' is truncated or corrupt ({type(e).__name__}: {e}). If a "
                         f"save was interrupted, use the previous checkpoint.") from e
    if MANIFEST not in arrays:
        return arrays  # a plain .npz of arrays, as np.savez writes
    try:
        manifest = json.loads(arrays.pop(MANIFEST).item())
        if manifest.get("format") != "from_scratch":
            raise ValueError("unknown format")
        if manifest.get("version", 0) > VERSION:
            raise ValueError(f"written by a newer version (format {manifest['version']}); "
                             f"upgrade from_scratch")
        return _decode(manifest["tree"], arrays)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise ValueError(f"'{path}' has a damaged fs.save manifest: {e}") from e


# ----------------------------------------------------------------------------- the zip file


def _write_npz(f, arrays: dict[str, np.ndarray]) -> None:
    """What np.savez does: one .npy member per array in an uncompressed zip."""
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, arr in arrays.items():
            with zf.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, arr, allow_pickle=False)


class _NotAnArray(ValueError):
    """A zip archive with a member that is not an .npy array."""


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    arrays = {}
    with zipfile.ZipFile(path) as zf:
        for member in zf.namelist():
            if not member.endswith(".npy"):
                raise _NotAnArray(f"the archive holds '{member}', which is not a NumPy array "
                                 f"(a PyTorch checkpoint? those need pickle)")
            with zf.open(member) as f:
                arrays[member[:-4]] = np.lib.format.read_array(f, allow_pickle=False)
    return arrays


# ----------------------------------------------------------------------------- the manifest


def _encode(obj, keys: list, arrays: dict):
    """The JSON manifest node for `obj`; arrays are moved into `arrays` under their path."""
    where = "/".join(map(str, keys)) or "the top level"
    if isinstance(obj, Mapping):
        items = []
        for key, value in obj.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise TypeError(f"fs.save: dict keys must be strings or ints, got {key!r} "
                                f"({type(key).__name__}) at {where}")
            items.append([key, _encode(value, keys + [key], arrays)])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        nodes = [_encode(v, keys + [i], arrays) for i, v in enumerate(obj)]
        return {"tuple" if isinstance(obj, tuple) else "list": nodes}
    if isinstance(obj, Tensor):
        obj = obj.data
    # Arrays first: np.float64 is a subclass of float, yet its dtype must survive (0-d array).
    if isinstance(obj, (np.ndarray, np.generic)):
        arr = np.asarray(obj)
        if arr.dtype.hasobject:
            raise TypeError(f"fs.save: the array at {where} holds Python objects "
                            f"(dtype {arr.dtype}), which only pickle could store")
        name = "/".join(map(str, keys))
        plain = _PLAIN_NAME.fullmatch(name) and not {".", ".."} & set(name.split("/"))
        if not plain or name in arrays or name == MANIFEST:
            name = f"arr_{len(arrays)}"
            while name in arrays:
                name += "_"
        arrays[name] = arr
        return {"array": name}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj}  # JSON keeps Python numbers exactly (floats via repr)
    raise TypeError(f"fs.save cannot store a {type(obj).__name__} (at {where}): values must be "
                    f"arrays, Tensors, numbers, strings, None, or dicts and lists of them")


def _decode(node, arrays: dict):
    (kind, content), = node.items()
    if kind == "dict":
        return {key: _decode(value, arrays) for key, value in content}
    if kind == "list":
        return [_decode(value, arrays) for value in content]
    if kind == "tuple":
        return tuple(_decode(value, arrays) for value in content)
    if kind == "value":
        return content
    if kind == "array":
        return arrays[content]
    raise ValueError(f"unknown manifest node {kind!r}")
