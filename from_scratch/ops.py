"""One `Function` per primitive operation: forward on NumPy arrays, backward by the chain rule.

Every binary op undoes NumPy broadcasting in backward with `unbroadcast`: if x of shape (3,)
was broadcast against (4, 3), its gradient arrives as (4, 3) and must be summed back to (3,).
"""

from __future__ import annotations

import numpy as np

from .autograd import Function


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum `grad` over the axes that broadcasting added or stretched, so it has `shape`."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return np.asarray(grad).reshape(shape)


# ----------------------------------------------------------------------------- elementwise


class Add(Function):
    """z = x + y"""

    def forward(self, x, y):
        self.save_for_backward(x.shape, y.shape)
        return x + y

    def backward(self, grad):
        x_shape, y_shape = self.saved
        return unbroadcast(grad, x_shape), unbroadcast(grad, y_shape)


class Sub(Function):
    """z = x - y"""

    def forward(self, x, y):
        self.save_for_backward(x.shape, y.shape)
        return x - y

    def backward(self, grad):
        x_shape, y_shape = self.saved
        return unbroadcast(grad, x_shape), unbroadcast(-grad, y_shape)


class Mul(Function):
    """z = x * y"""

    def forward(self, x, y):
        self.save_for_backward(x, y)
        return x * y

    def backward(self, grad):
        x, y = self.saved
        gx = unbroadcast(grad * y, x.shape) if self.needs_input_grad[0] else None
        gy = unbroadcast(grad * x, y.shape) if self.needs_input_grad[1] else None
        return gx, gy


class Div(Function):
    """z = x / y"""

    def forward(self, x, y):
        self.save_for_backward(x, y)
        return x / y

    def backward(self, grad):
        x, y = self.saved
        gx = unbroadcast(grad / y, x.shape) if self.needs_input_grad[0] else None
        gy = unbroadcast(-grad * x / (y * y), y.shape) if self.needs_input_grad[1] else None
        return gx, gy


class Pow(Function):
    """z = x ** y, both tensors: dz/dx = y x^(y-1), dz/dy = z log(x)."""

    def forward(self, x, y):
        z = x**y
        self.save_for_backward(x, y, z)
        return z

    def backward(self, grad):
        x, y, z = self.saved
        gx = gy = None
        if self.needs_input_grad[0]:
            gx = unbroadcast(grad * y * x ** (y - 1), x.shape)
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                # x <= 0 has no real log; where z is 0 the gradient is 0 (as in PyTorch).
                log_x = np.where(x > 0, np.log(np.where(x > 0, x, 1)), np.nan)
                gy = np.where(z == 0, 0, grad * z * log_x).astype(z.dtype, copy=False)
            gy = unbroadcast(gy, y.shape)
        return gx, gy


class PowScalar(Function):
    """z = x ** p for a Python number p: dz/dx = p x^(p-1)."""

    def forward(self, x, p):
        self.save_for_backward(x, p)
        return x**p

    def backward(self, grad):
        x, p = self.saved
        if p == 0:  # x**0 is constant: gradient 0 everywhere, even at x = 0 (as PyTorch)
            return np.zeros_like(grad)
        return grad * p * x ** (p - 1)


class Neg(Function):
    """z = -x"""

    def forward(self, x):
        return -x

    def backward(self, grad):
        return -grad


class Exp(Function):
    """z = e^x, and dz/dx = z"""

    def forward(self, x):
        z = np.exp(x)
        self.save_for_backward(z)
        return z

    def backward(self, grad):
        (z,) = self.saved
        return grad * z


class Log(Function):
    """z = ln x, and dz/dx = 1/x"""

    def forward(self, x):
        self.save_for_backward(x)
        return np.log(x)

    def backward(self, grad):
        (x,) = self.saved
        return grad / x


class Sqrt(Function):
    """z = √x, and dz/dx = 1 / (2√x)"""

    def forward(self, x):
        z = np.sqrt(x)
        self.save_for_backward(z)
        return z

    def backward(self, grad):
        (z,) = self.saved
        return grad / (2 * z)


class Abs(Function):
    """z = |x|, and dz/dx = sign(x) (0 at 0, as PyTorch)"""

    def forward(self, x):
        self.save_for_backward(x)
        return np.abs(x)

    def backward(self, grad):
        (x,) = self.saved
        return grad * np.sign(x)


class Tanh(Function):
    """z = tanh x, and dz/dx = 1 - z²"""

    def forward(self, x):
        z = np.tanh(x)
        self.save_for_backward(z)
        return z

    def backward(self, grad):
        (z,) = self.saved
        return grad * (1 - z * z)


class Sigmoid(Function):
    """z = 1 / (1 + e^-x), and dz/dx = z (1 - z)"""

    def forward(self, x):
        # For x = -1000, e^-x overflows to inf and 1 / (1 + inf) = 0 is the right limit, so the
        # warning is silenced. Unlike 0.5 (1 + tanh(x/2)), which rounds to 0 below x = -17 in
        # float32, this keeps full relative precision in the tails.
        with np.errstate(over="ignore"):
            z = 1 / (1 + np.exp(-x))
        self.save_for_backward(z)
        return z

    def backward(self, grad):
        (z,) = self.saved
        return grad * z * (1 - z)


class ReLU(Function):
    """z = max(x, 0), and dz/dx = 1 where x > 0, else 0"""

    def forward(self, x):
        z = np.maximum(x, 0)
        self.save_for_backward(z)
        return z

    def backward(self, grad):
        (z,) = self.saved
        return grad * (z > 0)


class Clip(Function):
    """z = min(max(x, low), high); the gradient passes where low <= x <= high."""

    def forward(self, x, low=None, high=None):
        self.save_for_backward(x, low, high)
        z = np.clip(x, low, high)
        # A np.float64 bound would promote float32 data to float64 under NumPy 2.
        return z.astype(x.dtype, copy=False) if x.dtype.kind == "f" else z

    def backward(self, grad):
        x, low, high = self.saved
        inside = np.ones(x.shape, dtype=bool)
        if low is not None:
            inside &= x >= low
        if high is not None:
            inside &= x <= high
        return grad * inside


class Maximum(Function):
    """z = max(x, y) elementwise; ties share the gradient equally (as PyTorch)."""

    def forward(self, x, y):
        self.save_for_backward(x, y)
        return np.maximum(x, y)

    def backward(self, grad):
        x, y = self.saved
        share_x = (x > y) + 0.5 * (x == y)
        gx = unbroadcast(grad * share_x.astype(grad.dtype), x.shape)
        gy = unbroadcast(grad * (1 - share_x).astype(grad.dtype), y.shape)
        return gx, gy


class Where(Function):
    """z = x where cond else y (cond is a constant boolean array)."""

    def forward(self, x, y, cond=None):
        self.save_for_backward(cond, x.shape, y.shape)
        return np.where(cond, x, y)

    def backward(self, grad):
        cond, x_shape, y_shape = self.saved
        zero = np.zeros((), dtype=grad.dtype)
        gx = unbroadcast(np.where(cond, grad, zero), x_shape) if self.needs_input_grad[0] else None
        gy = unbroadcast(np.where(cond, zero, grad), y_shape) if self.needs_input_grad[1] else None
        return gx, gy


# ----------------------------------------------------------------------------- matmul


class MatMul(Function):
    """z = x @ y with NumPy's rules (1-D operands, batched stacks that broadcast)."""

    def forward(self, x, y):
        if x.ndim == 0 or y.ndim == 0:
            raise ValueError(
                f"matmul does not take 0-d operands (got shapes {x.shape} and {y.shape}); "
                f"use * to multiply by a scalar.")
        inner_y = y.shape[0] if y.ndim == 1 else y.shape[-2]
        if x.shape[-1] != inner_y:
            raise ValueError(
                f"cannot matmul {x.shape} @ {y.shape}: the last dimension of the left operand "
                f"({x.shape[-1]}) must equal the {'only' if y.ndim == 1 else 'second-to-last'} "
                f"dimension of the right one ({inner_y}). Did you mean to transpose one (.T)?")
        self.save_for_backward(x, y)
        try:
            return x @ y
        except ValueError as e:  # batch dimensions that do not broadcast
            raise ValueError(f"cannot matmul {x.shape} @ {y.shape}: {e}") from None

    def backward(self, grad):
        x, y = self.saved
        # Treat 1-D operands as a row (left) or column (right) matrix, as NumPy does.
        x2 = x[None, :] if x.ndim == 1 else x
        y2 = y[:, None] if y.ndim == 1 else y
        # y first: for 1-D @ 1-D the gradient is 0-d and must become (1, 1) in this order.
        if y.ndim == 1:
            grad = np.expand_dims(grad, -1)
        if x.ndim == 1:
            grad = np.expand_dims(grad, -2)
        gx = gy = None
        if self.needs_input_grad[0]:
            gx = unbroadcast(grad @ np.swapaxes(y2, -1, -2), x2.shape).reshape(x.shape)
        if self.needs_input_grad[1]:
            gy = unbroadcast(np.swapaxes(x2, -1, -2) @ grad, y2.shape).reshape(y.shape)
        return gx, gy


class Linear(Function):
    """y = x Wᵀ + b in one node, for (N, in) @ (in, out) + (out,).

    Fusing saves a graph node and a temporary per layer, and skips the input gradient when
    the input is data (the first layer), which is a third of a layer's backward cost.
    """

    fresh_grads = True  # every gradient below is a new array: W.grad can keep it uncopied

    def forward(self, x, weight, bias=None):
        if x.ndim == 0 or weight.ndim != 2 or x.shape[-1] != weight.shape[1]:
            raise ValueError(
                f"linear: input of shape {x.shape} does not fit weight of shape {weight.shape}; "
                f"the weight is (out_features, in_features), so the input must be "
                f"(..., {weight.shape[-1]}).")
        self.save_for_backward(x, weight)
        # (N, in) @ (in, out) -> (N, out)
        y = x @ weight.T
        if bias is not None:
            y += bias
        return y

    def backward(self, grad):
        x, weight = self.saved
        needs = self.needs_input_grad
        gx = grad @ weight if needs[0] else None
        if grad.ndim != 2:  # leading batch dims (or none) are folded into one axis N
            grad, x = grad.reshape(-1, grad.shape[-1]), x.reshape(-1, x.shape[-1])
        gw = grad.T @ x if needs[1] else None  # (out, N) @ (N, in) -> (out, in)
        if len(needs) == 2:
            return gx, gw
        return gx, gw, grad.sum(axis=0) if needs[2] else None


# ----------------------------------------------------------------------------- reductions


def _normalize_axis(axis, ndim):
    """axis as a sorted tuple of non-negative ints (None means every axis)."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (int(axis),)
    out = []
    for a in axis:
        # As in PyTorch, a 0-d tensor accepts axis 0 or -1 (meaning: reduce nothing).
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise ValueError(f"axis {a} is out of range for a tensor with {ndim} dimension(s)")
        if ndim:
            out.append(a % ndim)
    return tuple(sorted(out))


def _expand_reduced(grad, axes, keepdims):
    """Put back the reduced axes (as size 1) so the gradient broadcasts against the input."""
    return grad if keepdims else np.expand_dims(grad, axes)


class Sum(Function):
    """z = Σ x over `axis`; every input element gets the output's gradient."""

    def forward(self, x, axis=None, keepdims=False):
        axes = _normalize_axis(axis, x.ndim)
        self.save_for_backward(x.shape, axes, keepdims)
        return np.sum(x, axis=axes, keepdims=keepdims)

    def backward(self, grad):
        shape, axes, keepdims = self.saved
        return np.broadcast_to(_expand_reduced(grad, axes, keepdims), shape)


class Mean(Function):
    """z = mean of x over `axis`; every input element gets 1/n of the gradient."""

    def forward(self, x, axis=None, keepdims=False):
        axes = _normalize_axis(axis, x.ndim)
        count = int(np.prod([x.shape[a] for a in axes])) if axes else 1
        self.save_for_backward(x.shape, axes, keepdims, count)
        return np.mean(x, axis=axes, keepdims=keepdims)

    def backward(self, grad):
        shape, axes, keepdims, count = self.saved
        return np.broadcast_to(_expand_reduced(grad, axes, keepdims) / count, shape)


class _Extremum(Function):
    """Shared backward of max and min: the gradient goes to the winning elements,
    split equally between ties (as torch.amax does)."""

    reduce = None

    def forward(self, x, axis=None, keepdims=False):
        axes = _normalize_axis(axis, x.ndim)
        if x.size == 0:
            raise ValueError(f"{type(self).__name__.lower()}() of an empty tensor of shape "
                             f"{x.shape} has no value")
        z = type(self).reduce(x, axis=axes, keepdims=True)
        self.save_for_backward(x, z, axes, keepdims)
        return z if keepdims else np.squeeze(z, axis=axes)

    def backward(self, grad):
        x, z, axes, keepdims = self.saved
        winners = x == z
        share = winners / winners.sum(axis=axes, keepdims=True)
        return (_expand_reduced(grad, axes, keepdims) * share).astype(grad.dtype, copy=False)


class Max(_Extremum):
    """z = max of x over `axis`"""

    reduce = staticmethod(np.max)


class Min(_Extremum):
    """z = min of x over `axis`"""

    reduce = staticmethod(np.min)


class LogSumExp(Function):
    """z = log Σ exp(x), computed as m + log Σ exp(x - m) with m = max(x) so it never overflows;
    dz/dx = softmax(x)."""

    def forward(self, x, axis=None, keepdims=False):
        axes = _normalize_axis(axis, x.ndim)
        m = np.max(x, axis=axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)  # a row of -inf stays -inf instead of becoming nan
        e = np.exp(x - m)
        s = np.sum(e, axis=axes, keepdims=True)
        z = np.log(s) + m
        self.save_for_backward(e / s, axes, keepdims)
        return z if keepdims else np.squeeze(z, axis=axes)

    def backward(self, grad):
        softmax, axes, keepdims = self.saved
        return _expand_reduced(grad, axes, keepdims) * softmax


class LogSoftmax(Function):
    """z = x - logsumexp(x) along `axis`; backward: g - softmax · Σg."""

    def forward(self, x, axis=-1):
        m = np.max(x, axis=axis, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        shifted = x - m
        z = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
        self.save_for_backward(z, axis)
        return z

    def backward(self, grad):
        z, axis = self.saved
        return grad - np.exp(z) * np.sum(grad, axis=axis, keepdims=True)


class Softmax(Function):
    """z = exp(x - max) / Σ exp(x - max) along `axis`; backward: z (g - Σ g z)."""

    def forward(self, x, axis=-1):
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))
        z = e / np.sum(e, axis=axis, keepdims=True)
        self.save_for_backward(z, axis)
        return z

    def backward(self, grad):
        z, axis = self.saved
        return z * (grad - np.sum(grad * z, axis=axis, keepdims=True))


# ----------------------------------------------------------------------------- shape


class Reshape(Function):
    """Same elements, new shape; the gradient is reshaped back."""

    def forward(self, x, shape=None):
        self.save_for_backward(x.shape)
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(f"cannot reshape a tensor of shape {x.shape} ({x.size} elements) "
                             f"into shape {tuple(shape)}") from None

    def backward(self, grad):
        (shape,) = self.saved
        return grad.reshape(shape)


class Transpose(Function):
    """Permute the axes (NumPy's transpose); the gradient is permuted back."""

    def forward(self, x, axes=None):
        if axes is None:
            axes = tuple(reversed(range(x.ndim)))
        # Negative axes count from the end; backward's argsort needs them as 0..ndim-1.
        given, axes = axes, tuple(a % x.ndim if -x.ndim <= a < x.ndim else a for a in axes)
        if sorted(axes) != list(range(x.ndim)):
            raise ValueError(f"transpose axes {tuple(given)} are not a permutation of the "
                             f"{x.ndim} axes of a tensor of shape {x.shape}")
        self.save_for_backward(axes)
        return np.transpose(x, axes)

    def backward(self, grad):
        (axes,) = self.saved
        return np.transpose(grad, np.argsort(axes))


def _is_basic_index(index) -> bool:
    """Basic indexing (ints, slices, None, ...) never selects an element twice."""
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis
               for i in items)


class GetItem(Function):
    """z = x[index]; backward scatters the gradient back, adding where an index repeats."""

    def forward(self, x, index=None):
        self.save_for_backward(x.shape, x.dtype, index)
        return x[index]

    def backward(self, grad):
        shape, dtype, index = self.saved
        out = np.zeros(shape, dtype=grad.dtype)
        if _is_basic_index(index):
            out[index] = grad
        else:
            # x[[0, 0]] uses x[0] twice: its gradient is the sum of both uses. Plain
            # `out[index] = grad` would keep only the last one (a classic bug).
            np.add.at(out, index, grad)
        return out


class Cat(Function):
    """Join tensors along an existing axis; backward splits the gradient."""

    def forward(self, *xs, axis=0):
        self.save_for_backward(axis, np.cumsum([x.shape[axis] for x in xs])[:-1])
        return np.concatenate(xs, axis=axis)

    def backward(self, grad):
        axis, bounds = self.saved
        return tuple(np.split(grad, bounds, axis=axis))


class Stack(Function):
    """Join tensors along a new axis; backward takes each slice back."""

    def forward(self, *xs, axis=0):
        self.save_for_backward(axis, len(xs))
        return np.stack(xs, axis=axis)

    def backward(self, grad):
        axis, n = self.saved
        return tuple(np.take(grad, i, axis=axis) for i in range(n))
