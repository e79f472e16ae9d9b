"""Functions that make tensors or combine several: zeros, randn, cat, stack, where, maximum."""

from __future__ import annotations

import numpy as np

from . import ops
from .random import default_generator
from .tensor import Tensor, as_tensor, get_default_dtype


def _shape(shape) -> tuple:
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def _wrap(arr: np.ndarray, requires_grad: bool) -> Tensor:
    """A Tensor of exactly arr's dtype (Tensor(arr) alone turns float64 into the default)."""
    return Tensor(arr, requires_grad, dtype=arr.dtype)


def zeros(*shape, requires_grad: bool = False, dtype=None) -> Tensor:
    return _wrap(np.zeros(_shape(shape), dtype=dtype or get_default_dtype()), requires_grad)


def ones(*shape, requires_grad: bool = False, dtype=None) -> Tensor:
    return _wrap(np.ones(_shape(shape), dtype=dtype or get_default_dtype()), requires_grad)


def zeros_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    return _wrap(np.zeros_like(t.data), requires_grad)


def ones_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    return _wrap(np.ones_like(t.data), requires_grad)


def randn(*shape, requires_grad: bool = False, dtype=None) -> Tensor:
    """Standard normal samples from the library's generator (see fs.manual_seed)."""
    dtype = np.dtype(dtype or get_default_dtype())
    return _wrap(default_generator().standard_normal(_shape(shape), dtype=dtype), requires_grad)


def rand(*shape, requires_grad: bool = False, dtype=None) -> Tensor:
    """Uniform samples in [0, 1) from the library's generator."""
    dtype = np.dtype(dtype or get_default_dtype())
    return _wrap(default_generator().random(_shape(shape), dtype=dtype), requires_grad)


def arange(*args, dtype=None) -> Tensor:
    """Like np.arange; integer arguments give an integer tensor."""
    return Tensor(np.arange(*args), dtype=dtype)


def _as_tensors(items) -> list:
    """Arrays among tensors take the first tensor's float dtype (no float64 promotion)."""
    like = next((t for t in items if isinstance(t, Tensor)), None)
    return [as_tensor(t, like=like) for t in items]


def cat(tensors, axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors along an existing axis (torch.cat / np.concatenate)."""
    tensors = _as_tensors(list(tensors))
    if not tensors:
        raise ValueError("cat() needs at least one tensor")
    return ops.Cat.apply(*tensors, axis=axis if dim is None else dim)


def stack(tensors, axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join same-shaped tensors along a new axis (torch.stack / np.stack)."""
    tensors = _as_tensors(list(tensors))
    if not tensors:
        raise ValueError("stack() needs at least one tensor")
    shapes = {t.shape if isinstance(t, Tensor) else np.shape(t) for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack() needs tensors of one shape, got {sorted(shapes)}")
    return ops.Stack.apply(*tensors, axis=axis if dim is None else dim)


def where(condition, x, y) -> Tensor:
    """x where condition is true, else y (elementwise, broadcasting)."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where() needs a boolean condition, got dtype {cond.dtype}; "
                        f"compare first, e.g. fs.where(x > 0, x, 0)")
    like = x if isinstance(x, Tensor) else y if isinstance(y, Tensor) else None
    return ops.Where.apply(as_tensor(x, like=like), as_tensor(y, like=like), cond=cond)


def maximum(x, y) -> Tensor:
    """Elementwise max of two tensors; ties share the gradient."""
    like = x if isinstance(x, Tensor) else y if isinstance(y, Tensor) else None
    return ops.Maximum.apply(as_tensor(x, like=like), as_tensor(y, like=like))
