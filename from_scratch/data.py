"""Datasets and the DataLoader: cut a dataset into (shuffled) mini-batches, PyTorch-style.

    ds = fs.data.TensorDataset(x, y)                    # Tensors or NumPy arrays, same length
    for xb, yb in fs.data.DataLoader(ds, batch_size=64, shuffle=True):
        ...

Speed matters here: an MNIST epoch at batch size 64 is ~940 batches, and building each one
sample by sample in Python would cost more than the model. So a dataset backed by arrays
(TensorDataset, datasets.MNIST) offers `__getitems__(indices)`, which returns the whole batch,
already collated, with one fancy-indexing operation per array. (PyTorch's `__getitems__`
returns a list of samples that a collate function then stacks; ours skips that step.) Any
other map-style Dataset falls back to `dataset[i]` per sample and stacks the results.

Shuffling draws from the library's generator (`fs.manual_seed`), so the same seed gives the
same batches, and each new epoch gets a new order.
"""

from __future__ import annotations

import numbers
from typing import Any, Iterator, Sequence

import numpy as np

from . import random as _random
from .tensor import Tensor, as_tensor, get_default_dtype


class Dataset:
    """A map-style dataset: `len(ds)` samples, `ds[i]` returns sample i (PyTorch's protocol)."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index)")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__()")


class TensorDataset(Dataset):
    """Samples are rows of equally long Tensors or arrays: `ds[i] == (x[i], y[i], ...)`.

    Each field keeps its type: Tensors come back as Tensors (outside any graph,
    requires_grad=False) and arrays as arrays, with their dtype unchanged.
    """

    def __init__(self, *tensors: Tensor | np.ndarray) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one Tensor or array, "
                             "e.g. TensorDataset(x, y)")
        arrays, is_tensor = [], []
        for k, t in enumerate(tensors):
            if isinstance(t, Tensor):
                arr = t.data
            elif isinstance(t, np.ndarray):
                arr = t
            else:
                raise TypeError(f"TensorDataset argument {k} is a {type(t).__name__}; pass "
                                f"fs.Tensor or np.ndarray objects (e.g. np.asarray(your_list))")
            if arr.ndim == 0:
                raise ValueError(f"TensorDataset argument {k} is a 0-d scalar; every argument "
                                 f"needs a first dimension that indexes the samples")
            arrays.append(arr)
            is_tensor.append(isinstance(t, Tensor))
        lengths = [len(a) for a in arrays]
        if len(set(lengths)) > 1:
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise ValueError(f"TensorDataset needs the same number of samples (first dimension) "
                             f"in every argument, got shapes {shapes}")
        self.tensors = tuple(tensors)
        self.arrays = tuple(arrays)  # the NumPy arrays behind the fields (no copies)
        self._is_tensor = tuple(is_tensor)

    def _wrap(self, parts) -> tuple:
        return tuple(as_tensor(p) if t else p for p, t in zip(parts, self._is_tensor, strict=True))

    def __getitem__(self, index: int) -> tuple:
        return self._wrap(a[index] for a in self.arrays)

    def __getitems__(self, indices: np.ndarray) -> tuple:
        """A whole batch at once: one fancy-indexing copy per field, no loop over samples."""
        return self._wrap(a[indices] for a in self.arrays)

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __repr__(self) -> str:
        fields = ", ".join(f"{'Tensor' if t else 'array'}{a.shape} {a.dtype}"
                           for a, t in zip(self.arrays, self._is_tensor, strict=True))
        return f"TensorDataset({fields})"


def default_collate(samples: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch: tuples field by field, Tensors into a Tensor,
    arrays and NumPy scalars into an array, Python ints to int64 and floats to float32."""
    first = samples[0]
    if isinstance(first, tuple | list):
        if any(len(s) != len(first) for s in samples):
            raise ValueError("cannot collate samples with different numbers of fields")
        return type(first)(default_collate(field) for field in zip(*samples, strict=True))
    if isinstance(first, dict):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, Tensor):
        return as_tensor(np.stack([s.data for s in samples]))
    if isinstance(first, np.ndarray | np.generic):
        return np.stack(samples)
    if isinstance(first, bool | np.bool_):
        return np.array(samples, dtype=bool)
    if isinstance(first, numbers.Integral):
        return np.array(samples, dtype=np.int64)
    if isinstance(first, numbers.Real):
        return np.array(samples, dtype=get_default_dtype())
    raise TypeError(f"default_collate does not know how to batch {type(first).__name__}; "
                    f"return Tensors, arrays or numbers from __getitem__, or pass collate_fn")


class DataLoader:
    """Iterate over a dataset in mini-batches; `len(loader)` is the number of batches.

    shuffle=True draws a fresh permutation from the library's generator (`fs.manual_seed`)
    at the start of every epoch, or from `generator` if one is given.
    """

    def __init__(self, dataset: Dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, collate_fn=None,
                 generator: np.random.Generator | None = None) -> None:
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(f"DataLoader needs a map-style dataset with __len__ and "
                            f"__getitem__, got {type(dataset).__name__}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) \
                or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(f"generator must be a np.random.Generator, got "
                            f"{type(generator).__name__}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.generator = generator

    def __len__(self) -> int:
        n = len(self.dataset)
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)  # ceil(n / batch_size)

    def _indices(self) -> np.ndarray:
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        # Looked up at every epoch: fs.manual_seed replaces the generator object.
        rng = self.generator if self.generator is not None else _random.default_generator()
        return rng.permutation(n)

    def _fetch(self, idx: np.ndarray) -> Any:
        if self.collate_fn is None and hasattr(self.dataset, "__getitems__"):
            return self.dataset.__getitems__(idx)  # fast path: the batch in one call
        samples = [self.dataset[int(i)] for i in idx]
        return (self.collate_fn or default_collate)(samples)

    def __iter__(self) -> Iterator[Any]:
        order = self._indices()
        for b in range(len(self)):
            yield self._fetch(order[b * self.batch_size:(b + 1) * self.batch_size])

    def __repr__(self) -> str:
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}) -> {len(self)} batches")
