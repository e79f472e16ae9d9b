"""Functions on tensors that models use: activations, softmax and friends, losses.

`from from_scratch import functional as F` gives PyTorch's spelling: F.relu(x), F.softmax(x).
"""

from __future__ import annotations

from . import ops
from .tensor import Tensor, as_tensor


def relu(x: Tensor) -> Tensor:
    """max(x, 0) elementwise."""
    return ops.ReLU.apply(x)


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + e^-x) elementwise, computed without overflow."""
    return ops.Sigmoid.apply(x)


def tanh(x: Tensor) -> Tensor:
    """tanh(x) elementwise."""
    return ops.Tanh.apply(x)


def softmax(x: Tensor, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """exp(x) / Σ exp(x) along `axis` (shifted by the max, so it never overflows)."""
    return ops.Softmax.apply(as_tensor(x), axis=axis if dim is None else dim)


def log_softmax(x: Tensor, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """x - logsumexp(x) along `axis`: the log of softmax, stable for logits of ±1000."""
    return ops.LogSoftmax.apply(as_tensor(x), axis=axis if dim is None else dim)


def logsumexp(x: Tensor, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """log Σ exp(x) along `axis`, computed as max + log Σ exp(x - max)."""
    return as_tensor(x).logsumexp(axis=axis, keepdims=keepdims, dim=dim, keepdim=keepdim)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b, with W of shape (out_features, in_features), as one graph node."""
    if bias is None:
        return ops.Linear.apply(as_tensor(x), weight)
    return ops.Linear.apply(as_tensor(x), weight, bias)
