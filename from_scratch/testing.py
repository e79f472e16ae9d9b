"""Check gradients against finite differences (the tests and the chapters share these).

The central difference (f(x + h) - f(x - h)) / 2h has an error of order h², so in float64
with h = 1e-6 it agrees with a correct analytic gradient to about 1e-8.
"""

from __future__ import annotations

import numpy as np

from .autograd import no_grad
from .tensor import Tensor


def _float64_inputs(inputs):
    """float64 copies of the floating inputs (which get gradients); others pass through."""
    out, checked = [], []
    for x in inputs:
        arr = x.data if isinstance(x, Tensor) else x
        if isinstance(arr, (np.ndarray, float, list)) and np.asarray(arr).dtype.kind == "f":
            out.append(np.array(arr, dtype=np.float64))
            checked.append(True)
        else:
            out.append(x)
            checked.append(False)
    return out, checked


def _evaluate(fn, arrays, checked, requires_grad=False):
    args = [Tensor(a, requires_grad=requires_grad, dtype=np.float64) if c else a
            for a, c in zip(arrays, checked, strict=True)]
    out = fn(*args)
    if not isinstance(out, Tensor):
        out = Tensor(np.asarray(out, dtype=np.float64), dtype=np.float64)
    return args, out


def numerical_grad(fn, *inputs, eps: float = 1e-6, weight=None) -> tuple:
    """d/dx of sum(weight * fn(*inputs)) for every floating input, by central differences in
    float64. Returns one array per input (None for non-floating inputs such as indices)."""
    arrays, checked = _float64_inputs(inputs)
    grads = []
    with no_grad():
        base = _evaluate(fn, arrays, checked)[1].data
        w = np.ones_like(base) if weight is None else np.asarray(weight, dtype=np.float64)
        for arr, c in zip(arrays, checked, strict=True):
            if not c:
                grads.append(None)
                continue
            g = np.zeros_like(arr)
            flat, gflat = arr.reshape(-1), g.reshape(-1)
            for j in range(flat.size):
                original = flat[j]
                flat[j] = original + eps
                plus = np.sum(w * _evaluate(fn, arrays, checked)[1].data)
                flat[j] = original - eps
                minus = np.sum(w * _evaluate(fn, arrays, checked)[1].data)
                flat[j] = original
                gflat[j] = (plus - minus) / (2 * eps)
            grads.append(g)
    return tuple(grads)


def gradcheck(fn, *inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              seed: int = 0) -> bool:
    """Compare backward() of `fn` with central differences, in float64.

    `fn` takes Tensors and returns a Tensor. A non-scalar output is reduced with fixed random
    weights so every output element counts. Returns True, or raises AssertionError naming, for
    each input that fails, the worst element with its analytic and numeric values and errors.
    """
    arrays, checked = _float64_inputs(inputs)
    if not any(checked):
        raise ValueError("gradcheck needs at least one floating-point input to check")
    args, out = _evaluate(fn, arrays, checked, requires_grad=True)
    if not np.all(np.isfinite(out.data)):
        bad = np.argwhere(~np.isfinite(out.data))
        first = tuple(int(k) for k in bad[0])  # ints, so the message reads (0,) not np.int64(0)
        raise AssertionError(f"gradcheck: fn produced {len(bad)} non-finite value(s) (nan/inf), "
                             f"first at index {first}: {out.data[first]}")
    weight = np.random.default_rng(seed).uniform(0.5, 1.5, size=out.shape)
    if out.requires_grad:
        out.backward(weight)
    numeric = numerical_grad(fn, *arrays, eps=eps, weight=weight)

    problems = []
    for i, (arg, c, num) in enumerate(zip(args, checked, numeric, strict=True)):
        if not c:
            continue
        ana = arg.grad if arg.grad is not None else np.zeros_like(num)
        if not np.all(np.isfinite(ana)):
            j = tuple(int(k) for k in np.argwhere(~np.isfinite(ana))[0])
            problems.append(f"input {i}: analytic gradient is not finite at {j}: {ana[j]}")
            continue
        err = np.abs(ana - num)
        tol = atol + rtol * np.abs(num)
        if np.any(err > tol):
            j = np.unravel_index(np.argmax(err - tol), err.shape)
            rel = err[j] / max(abs(num[j]), 1e-12)
            problems.append(
                f"input {i} (shape {ana.shape}): worst at index {tuple(int(k) for k in j)}: "
                f"analytic {ana[j]:.6g}, numeric {num[j]:.6g}, "
                f"abs error {err[j]:.3g}, rel error {rel:.3g}")
    if problems:
        raise AssertionError("gradcheck failed:\n  " + "\n  ".join(problems))
    return True
