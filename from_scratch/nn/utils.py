"""Gradient clipping: keep one bad batch from throwing the parameters far away.

`clip_grad_norm_` rescales all gradients together so that their joint norm is at most
`max_norm` (the direction of the step is kept); `clip_grad_value_` clamps each entry.
Both work in place on `p.grad`, between `loss.backward()` and `optimizer.step()`.
"""

from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor


def _grads(parameters) -> list[np.ndarray]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Scale the gradients in place so that their total norm is at most `max_norm`; return the
    total norm before clipping (a 0-d Tensor), as torch.nn.utils.clip_grad_norm_ does."""
    grads = _grads(parameters)
    max_norm, norm_type = float(max_norm), float(norm_type)
    dtype = grads[0].dtype if grads else np.dtype(np.float32)
    if not grads:
        return Tensor(np.zeros((), dtype=dtype))
    # The norm of all gradients seen as one long vector. Computed in float64: squaring
    # float32 gradients of size 1e20 would overflow although their norm does not.
    if norm_type == math.inf:
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    else:
        total = sum(float(np.sum(np.abs(g.astype(np.float64)) ** norm_type)) for g in grads)
        total = total ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"the total norm of order {norm_type} of the gradients is {total}, so they cannot "
            f"be clipped. The loss or the model diverged: try a smaller learning rate.")
    coef = max_norm / (total + 1e-6)  # 1e-6, as PyTorch, so a zero norm does not divide by 0
    if coef < 1.0 or math.isnan(coef):  # a nan norm makes nan gradients, as in PyTorch
        for g in grads:
            g *= coef  # in place; coef is a Python float, so float32 stays float32
    return Tensor(np.asarray(total, dtype=dtype))


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clamp every gradient entry into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        np.clip(g, -clip_value, clip_value, out=g)
