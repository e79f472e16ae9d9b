"""Tensor: a NumPy array that remembers how it was made, so it can compute gradients.

`t.data` is the array, `t.grad` the gradient that `backward()` accumulates (same shape and
dtype as `t.data`), and `t._ctx` the `Function` node that produced `t` (None for a leaf).
"""

from __future__ import annotations

import numpy as np

from . import autograd, ops
from .autograd import run_backward

DEFAULT_DTYPE = np.dtype(np.float32)  # the one place the default float type is set


def get_default_dtype() -> np.dtype:
    """float32 unless changed with `set_default_dtype`."""
    return DEFAULT_DTYPE


def set_default_dtype(dtype) -> None:
    """Make `dtype` (float32 or float64) the type of new floating tensors."""
    global DEFAULT_DTYPE
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"the default dtype must be a floating type, got {dtype}")
    DEFAULT_DTYPE = dtype


def _to_array(data, dtype=None, copy=True) -> np.ndarray:
    """Convert user data to an array: floats become the default dtype unless `dtype` says."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.kind not in "fiub":
            raise TypeError(f"unsupported dtype {dtype}: use a float, int, uint or bool dtype")
        return np.array(data, dtype=dtype, copy=copy)
    arr = np.array(data, copy=copy) if copy else np.asarray(data)
    kind = arr.dtype.kind
    if kind == "f":
        if not isinstance(data, np.ndarray) or arr.dtype == np.float64:
            # Python floats and float64 arrays become float32: fast, and what models use.
            arr = arr.astype(DEFAULT_DTYPE, copy=False)
    elif kind not in "iub":
        raise TypeError(
            f"a Tensor holds numbers, but this data has dtype {arr.dtype} "
            f"({type(data).__name__}). Convert it first, e.g. np.asarray(data, dtype=np.float32); "
            f"strings, objects and complex numbers are not supported.")
    return arr


def _check_requires_grad(arr: np.ndarray) -> None:
    if arr.dtype.kind != "f":
        raise TypeError(
            f"only floating-point tensors can require gradients, this one is {arr.dtype}. "
            f"Labels and indices stay integers; for a trainable value use floats, "
            f"e.g. fs.tensor([1.0, 2.0], requires_grad=True).")


class Tensor:
    """An n-dimensional array with automatic differentiation (PyTorch-like API)."""

    __slots__ = ("data", "grad", "_requires_grad", "_ctx", "_retains_grad", "__weakref__")
    __array_ufunc__ = None  # make `ndarray * Tensor` call Tensor.__rmul__ instead of NumPy
    __array_priority__ = 1000

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        self.data = _to_array(data, dtype)
        self.grad = None
        self._ctx = None
        self._retains_grad = False
        self._requires_grad = False
        self.requires_grad = requires_grad

    @classmethod
    def _from_op(cls, data, ctx) -> Tensor:
        """Wrap an op's result without copying or converting it (the hot path)."""
        t = object.__new__(Tensor)
        t.data = data if type(data) is np.ndarray else np.asarray(data)
        t.grad = None
        t._ctx = ctx
        t._retains_grad = False
        t._requires_grad = ctx is not None
        return t

    # ------------------------------------------------------------------ attributes

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value:
            _check_requires_grad(self.data)
        elif self._ctx is not None:
            raise RuntimeError("you can only change requires_grad of leaf tensors; "
                               "use t.detach() to get a tensor outside the graph")
        self._requires_grad = bool(value)

    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        """Number of elements (NumPy's name; PyTorch calls it numel())."""
        return self.data.size

    def numel(self) -> int:
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def grad_fn(self):
        """The Function that made this tensor (None for a leaf)."""
        return self._ctx

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor with {self.data.size} elements is "
                             f"ambiguous; use (t > 0).data.any() or .all()")
        return bool(self.data)

    def __hash__(self) -> int:  # identity, as in PyTorch (== is elementwise)
        return id(self)

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(", precision=4)
        extras = []
        if self.data.dtype != DEFAULT_DTYPE and self.data.dtype.kind == "f":
            extras.append(f"dtype={self.data.dtype}")
        elif self.data.dtype.kind != "f":
            extras.append(f"dtype={self.data.dtype}")
        if self._ctx is not None:
            extras.append(f"grad_fn=<{type(self._ctx).__name__}Backward>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # ------------------------------------------------------------------ autograd

    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Compute d self / d leaf for every leaf that requires grad, adding into leaf.grad."""
        if not self._requires_grad:
            raise RuntimeError(
                "backward() called on a tensor that does not require grad and has no graph. "
                "Create the inputs you want gradients for with requires_grad=True, and make "
                "sure the computation did not run inside fs.no_grad().")
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient only works on a scalar, but this tensor "
                    f"has shape {self.shape}. Reduce it first (t.sum().backward()) or pass the "
                    f"gradient of the output: t.backward(np.ones({self.shape})).")
            grad = np.ones(self.shape, dtype=self.dtype)
        else:
            grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad)
            if grad.shape != self.shape:
                raise ValueError(f"backward(grad): grad has shape {grad.shape} but the tensor "
                                 f"has shape {self.shape}; they must match")
            grad = grad.astype(self.dtype, copy=False)
        run_backward(self, grad, retain_graph=retain_graph)

    def _accumulate_grad(self, g: np.ndarray, owned: bool = False) -> None:
        """Add g into .grad; `owned` means g is a new array nobody else holds (run_backward)."""
        if self.grad is None:
            if owned and type(g) is np.ndarray and g.dtype == self.data.dtype:
                self.grad = g  # ours alone: skip the copy (six weight-sized copies per step)
            else:
                # A private copy: g may be shared with another input (x + x) or a view.
                self.grad = np.array(g, dtype=self.data.dtype, copy=True).reshape(self.data.shape)
        else:
            self.grad += g

    def retain_grad(self) -> None:
        """Keep .grad on this non-leaf tensor too (leaves always keep it)."""
        self._retains_grad = True

    def detach(self) -> Tensor:
        """The same data, cut out of the graph (shares memory, requires_grad=False)."""
        return Tensor._from_op(self.data, None)

    def zero_grad(self) -> None:
        self.grad = None

    def item(self) -> float:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, this one has shape "
                             f"{self.shape}")
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The underlying array (shares memory with the tensor)."""
        return self.data

    def tolist(self):
        return self.data.tolist()

    def astype(self, dtype) -> Tensor:
        """A copy with another dtype, outside the graph."""
        return Tensor(self.data, dtype=dtype)

    # ------------------------------------------------------------------ operators

    def __add__(self, other):
        return ops.Add.apply(self, as_tensor(other, like=self))

    def __radd__(self, other):
        return ops.Add.apply(as_tensor(other, like=self), self)

    def __sub__(self, other):
        return ops.Sub.apply(self, as_tensor(other, like=self))

    def __rsub__(self, other):
        return ops.Sub.apply(as_tensor(other, like=self), self)

    def __mul__(self, other):
        return ops.Mul.apply(self, as_tensor(other, like=self))

    def __rmul__(self, other):
        return ops.Mul.apply(as_tensor(other, like=self), self)

    def __truediv__(self, other):
        return ops.Div.apply(self, as_tensor(other, like=self))

    def __rtruediv__(self, other):
        return ops.Div.apply(as_tensor(other, like=self), self)

    def __pow__(self, other):
        if isinstance(other, np.generic):
            other = other.item()  # np.float64(2.0) -> 2.0: float32 data must stay float32
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return ops.PowScalar.apply(self, p=other)
        return ops.Pow.apply(self, as_tensor(other, like=self))

    def __rpow__(self, other):
        return ops.Pow.apply(as_tensor(other, like=self), self)

    def __matmul__(self, other):
        return ops.MatMul.apply(self, as_tensor(other, like=self))

    def __rmatmul__(self, other):
        return ops.MatMul.apply(as_tensor(other, like=self), self)

    def __neg__(self):
        return ops.Neg.apply(self)

    def __pos__(self):
        return self

    def __getitem__(self, index):
        if not (self._requires_grad and autograd._grad_enabled):
            # Nothing to record (a batch of data, or under no_grad): skip the graph node.
            return Tensor._from_op(self.data[_unwrap_index(index)], None)
        return ops.GetItem.apply(self, index=_unwrap_index(index))

    # Comparisons give boolean tensors outside the graph (as in PyTorch).
    def __lt__(self, other):
        return Tensor._from_op(self.data < _data(other), None)

    def __le__(self, other):
        return Tensor._from_op(self.data <= _data(other), None)

    def __gt__(self, other):
        return Tensor._from_op(self.data > _data(other), None)

    def __ge__(self, other):
        return Tensor._from_op(self.data >= _data(other), None)

    def __eq__(self, other):
        return Tensor._from_op(self.data == _data(other), None)

    def __ne__(self, other):
        return Tensor._from_op(self.data != _data(other), None)

    # ------------------------------------------------------------------ elementwise math

    def exp(self):
        return ops.Exp.apply(self)

    def log(self):
        return ops.Log.apply(self)

    def sqrt(self):
        return ops.Sqrt.apply(self)

    def abs(self):
        return ops.Abs.apply(self)

    def __abs__(self):
        return ops.Abs.apply(self)

    def tanh(self):
        return ops.Tanh.apply(self)

    def sigmoid(self):
        return ops.Sigmoid.apply(self)

    def relu(self):
        return ops.ReLU.apply(self)

    def clip(self, min=None, max=None):  # noqa: A002 (PyTorch's argument names)
        """Limit values to [min, max]; the gradient is 0 where a limit was applied."""
        if min is None and max is None:
            raise ValueError("clip() needs at least one of min and max")
        return ops.Clip.apply(self, low=min, high=max)

    clamp = clip

    # ------------------------------------------------------------------ reductions

    def sum(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        axis, keepdims = _axis_args(axis, keepdims, dim, keepdim)
        return ops.Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        axis, keepdims = _axis_args(axis, keepdims, dim, keepdim)
        if self.data.dtype.kind != "f":
            raise TypeError(f"mean() of an integer tensor ({self.dtype}): convert it with "
                            f".astype(np.float32) first")
        return ops.Mean.apply(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        axis, keepdims = _axis_args(axis, keepdims, dim, keepdim)
        return ops.Max.apply(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        axis, keepdims = _axis_args(axis, keepdims, dim, keepdim)
        return ops.Min.apply(self, axis=axis, keepdims=keepdims)

    def logsumexp(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        axis, keepdims = _axis_args(axis, keepdims, dim, keepdim)
        return ops.LogSumExp.apply(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis=None):
        """Indices of the maxima (an integer tensor, outside the graph)."""
        return Tensor._from_op(np.argmax(self.data, axis=axis), None)

    def argmin(self, axis=None):
        return Tensor._from_op(np.argmin(self.data, axis=axis), None)

    # ------------------------------------------------------------------ shape

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return ops.Reshape.apply(self, shape=shape)

    view = reshape

    def flatten(self, start_dim: int = 0):
        """Merge the axes from `start_dim` on into one."""
        start = start_dim % max(self.ndim, 1)
        return self.reshape(*self.shape[:start], -1)

    def transpose(self, *axes):
        """NumPy's transpose: reverse the axes, or permute them as given."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return ops.Transpose.apply(self, axes=axes or None)

    permute = transpose

    @property
    def T(self):
        return ops.Transpose.apply(self, axes=None)


def _data(x):
    return x.data if isinstance(x, Tensor) else x


def _unwrap_index(index):
    """Allow tensors inside an index (t[idx_tensor]) by using their arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _axis_args(axis, keepdims, dim, keepdim):
    """Accept PyTorch's dim/keepdim as aliases of NumPy's axis/keepdims."""
    if dim is not None:
        if axis is not None:
            raise TypeError("give either axis or dim, not both")
        axis = dim
    if keepdim is not None:
        keepdims = keepdim
    if isinstance(axis, list):
        axis = tuple(axis)
    return axis, bool(keepdims)


def as_tensor(x, like: Tensor | None = None) -> Tensor:
    """Turn a number or array into a constant Tensor; Python numbers take `like`'s dtype so a
    float32 tensor times 0.5 stays float32."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.generic) and x.dtype.kind in "iuf":
        # NumPy 2 lets np.int64(3) or np.float64(0.5) promote float32 arrays to float64;
        # as Python numbers they take like's dtype instead (np.sum(mask) is an np.int64).
        x = x.item()
    if like is not None and isinstance(x, (int, float)) and not isinstance(x, bool):
        kind = like.data.dtype.kind
        if kind == "f" or isinstance(x, int):
            return Tensor._from_op(np.asarray(x, dtype=like.data.dtype), None)
    if isinstance(x, np.ndarray) and x.dtype.kind in "fiub":
        if like is not None and x.dtype.kind in "fiu" and like.data.dtype.kind == "f":
            x = x.astype(like.data.dtype, copy=False)  # no silent float64 promotion
        return Tensor._from_op(x, None)
    return Tensor._from_op(_to_array(x, copy=False), None)


def tensor(data, requires_grad: bool = False, dtype=None) -> Tensor:
    """Make a Tensor (a copy of `data`); floats are float32 unless `dtype` says otherwise."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


# autograd.py cannot import this module (this module imports it): hand it the names it needs.
autograd.Tensor, autograd.as_tensor = Tensor, as_tensor
