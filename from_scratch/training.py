"""Divergence is detected, not suffered: a cheap check to call at every training step.

    for step, (x, y) in enumerate(loader):
        loss = F.cross_entropy(model(x), y)
        fs.training.check_finite(loss, step)      # raises DivergenceError on nan / inf
        loss.backward()
        optimizer.step()

With a learning rate that is too large, the loss grows until it overflows to inf and then
turns into nan; every later step silently computes nan, and the plot at the end is empty.
`check_finite` stops the loop at the first bad value and says what to do.
"""

from __future__ import annotations

import math

import numpy as np

from .tensor import Tensor


class DivergenceError(FloatingPointError):
    """Training diverged: the loss or a gradient is nan or infinite (or beyond `max_loss`)."""

    def __init__(self, message: str, step=None, value=None, name: str | None = None):
        super().__init__(message)
        self.step = step  # the step at which it was detected
        self.value = value  # the offending value (the loss, or the first bad gradient entry)
        self.name = name  # "loss", or the parameter whose gradient went bad


def _advice(optimizer) -> str:
    lr = None
    if optimizer is not None and getattr(optimizer, "param_groups", None):
        lr = optimizer.param_groups[0].get("lr")
    if lr is None:
        return "Try a smaller learning rate (e.g. 10x smaller), or clip the gradients with " \
               "nn.utils.clip_grad_norm_."
    return f"The learning rate is {lr:g}: try a smaller one, e.g. lr={lr / 10:g}, or clip the " \
           f"gradients with nn.utils.clip_grad_norm_."


def _named(parameters):
    """(name, tensor) pairs from a Module, named_parameters(), or a plain list of tensors."""
    if hasattr(parameters, "named_parameters"):
        return list(parameters.named_parameters())
    if isinstance(parameters, Tensor):
        return [("parameter 0", parameters)]
    items = list(parameters)
    return [item if isinstance(item, tuple) else (f"parameter {i}", item)
            for i, item in enumerate(items)]


def check_finite(loss, step: int | None = None, parameters=None, optimizer=None,
                 max_loss: float = math.inf) -> float:
    """Return the loss as a float; raise DivergenceError if it is nan, inf or above `max_loss`,
    or if a gradient of `parameters` (a Module, named_parameters() or a list) is not finite.

    Cheap enough for every step: one float conversion for the loss, and one sum per gradient
    (a sum is finite exactly when no entry is nan or inf, barring overflow, which is divergence
    anyway); the slow search for the offending entry only runs once something is wrong.
    """
    value = float(loss.item() if isinstance(loss, Tensor) else np.asarray(loss).item())
    at = f" at step {step}" if step is not None else ""
    if not math.isfinite(value) or value > max_loss:
        what = "is not finite" if not math.isfinite(value) else f"exceeds max_loss={max_loss:g}"
        raise DivergenceError(f"Training diverged{at}: the loss is {value} ({what}). "
                              f"{_advice(optimizer)}", step=step, value=value, name="loss")
    if parameters is not None:
        for name, p in _named(parameters):
            g = p.grad
            if g is None:
                continue
            with np.errstate(over="ignore", invalid="ignore"):  # overflow is what we look for
                if math.isfinite(float(np.sum(g))):
                    continue
            bad = np.flatnonzero(~np.isfinite(g))
            if bad.size:
                entry = float(g.flat[bad[0]])
                detail = f"{bad.size} of its {g.size} entries are nan or inf, e.g. {entry}"
            else:  # finite entries so large that their sum overflows
                entry = float(np.max(np.abs(g)))
                detail = f"entries up to {entry:.3g}, so large that their sum overflows"
            raise DivergenceError(
                f"Training diverged{at}: the gradient of {name} (shape {g.shape}) has "
                f"{detail}, although the loss is {value:.4g}. {_advice(optimizer)}",
                step=step, value=entry, name=name)
    return value
