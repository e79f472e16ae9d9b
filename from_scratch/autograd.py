"""The machinery of reverse-mode automatic differentiation.

A `Function` is one step of the computation: `forward` works on NumPy arrays, `backward`
receives the gradient of the output and returns one gradient per input. `Function.apply`
runs the step on Tensors and, when gradients are wanted, records it in the graph.
`backward` walks the graph in reverse topological order, without recursion.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import numpy as np

_grad_enabled = True

# tensor.py sets these once Tensor exists: it imports this module, so this module cannot import
# it at the top, and an import inside Function.apply would cost a lookup on every operation.
Tensor = as_tensor = None


def is_grad_enabled() -> bool:
    """True unless we are inside `no_grad()`."""
    return _grad_enabled


class _GradMode(contextlib.ContextDecorator):
    """Context manager and decorator that switches graph recording off (or on)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._previous: list[bool] = []

    def __enter__(self):
        global _grad_enabled
        self._previous.append(_grad_enabled)
        _grad_enabled = self.enabled
        return self

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self._previous.pop()
        return False

    def __repr__(self) -> str:
        return "no_grad()" if not self.enabled else "enable_grad()"


def no_grad(func: Callable | None = None):
    """`with fs.no_grad():` computes values without recording a graph (evaluation, updates).

    Also a decorator, written `@fs.no_grad()` or, as PyTorch allows, `@fs.no_grad`."""
    return _GradMode(False) if func is None else _GradMode(False)(func)


def enable_grad() -> _GradMode:
    """Switch recording back on inside a `no_grad()` block."""
    return _GradMode(True)


class Function:
    """Base class of every differentiable operation.

    Subclasses write `forward(self, *arrays, **options)` returning an array and
    `backward(self, grad_output)` returning one gradient (or None) per array input.
    `self.needs_input_grad[i]` says whether input i wants a gradient, so an expensive
    gradient nobody needs can be skipped.
    """

    __slots__ = ("inputs", "saved", "needs_input_grad", "released")

    # True when backward always returns new arrays that nothing else holds (see run_backward).
    fresh_grads = False

    def __init__(self):
        self.inputs: tuple | None = None
        self.saved: tuple = ()
        self.needs_input_grad: tuple = ()
        self.released = False

    def save_for_backward(self, *arrays) -> None:
        """Keep what backward will need (freed after backward unless retain_graph=True)."""
        self.saved = arrays

    def forward(self, *arrays, **options):
        raise NotImplementedError(f"{type(self).__name__} must implement forward(*arrays)")

    def backward(self, grad_output):
        raise NotImplementedError(f"{type(self).__name__} must implement backward(grad_output)")

    @classmethod
    def apply(cls, *inputs, **options):
        """Run forward on Tensors; record the node when any input requires grad."""
        tensors = [t if isinstance(t, Tensor) else as_tensor(t) for t in inputs]
        fn = cls()
        out = fn.forward(*[t.data for t in tensors], **options)
        if _grad_enabled:
            needs = tuple(t._requires_grad for t in tensors)
            if True in needs:
                fn.inputs = tuple(tensors)
                fn.needs_input_grad = needs
                return Tensor._from_op(out, fn)
        return Tensor._from_op(out, None)

    def release(self) -> None:
        """Drop saved arrays and inputs so memory is freed as soon as backward is done."""
        self.saved = ()
        self.inputs = None
        self.released = True

    def __repr__(self) -> str:
        return f"<{type(self).__name__}Backward>"


def topological_order(root) -> list:
    """Tensors of the graph that ends at `root`, each before all the tensors it was made from.

    Iterative depth-first search with an explicit stack: Python's recursion limit (~1000)
    would otherwise break backward through a long chain, a classic bug in small engines.
    """
    order = []
    visited = set()
    stack = [(root, False)]
    while stack:
        tensor, children_done = stack.pop()
        if children_done:
            order.append(tensor)
            continue
        key = id(tensor)
        if key in visited:
            continue
        visited.add(key)
        fn = tensor._ctx
        if fn is None:  # a leaf: no inputs to wait for
            order.append(tensor)
            continue
        stack.append((tensor, True))
        if fn.released:
            raise RuntimeError(
                "Trying to backward through the graph a second time: its saved values were "
                "freed by the first backward(). Call backward(retain_graph=True) the first "
                "time if you really need to go through it twice, or recompute the forward pass.")
        for parent in fn.inputs:
            if parent._requires_grad and id(parent) not in visited:
                stack.append((parent, False))
    order.reverse()
    return order


def run_backward(root, grad: np.ndarray, retain_graph: bool = False) -> None:
    """Propagate `grad` (d root / d root) to every leaf of the graph, accumulating into .grad."""
    order = topological_order(root)
    grads = {id(root): grad}  # gradients waiting for their tensor's turn, by id(tensor)
    for tensor in order:
        g = grads.pop(id(tensor), None)
        fn = tensor._ctx
        if fn is None:  # a leaf: only the root can have a gradient waiting here (see below)
            if g is not None:
                tensor._accumulate_grad(g)
            continue
        if g is not None:
            if tensor._retains_grad:
                tensor._accumulate_grad(g)
            input_grads = fn.backward(g)
            if not isinstance(input_grads, (tuple, list)):
                input_grads = (input_grads,)
            inputs, needs = fn.inputs, fn.needs_input_grad
            if len(input_grads) != len(inputs):
                raise RuntimeError(
                    f"{type(fn).__name__}.backward returned {len(input_grads)} gradients for "
                    f"{len(inputs)} inputs; return one per input (None where there is none).")
            for i, parent_grad in enumerate(input_grads):
                if parent_grad is None or not needs[i]:
                    continue
                parent = inputs[i]
                if np.shape(parent_grad) != parent.data.shape:
                    # Caught here: reshaping it later would hide a wrong gradient.
                    raise RuntimeError(
                        f"{type(fn).__name__}.backward returned a gradient of shape "
                        f"{np.shape(parent_grad)} for input {i} of shape {parent.data.shape}; "
                        f"they must match (sum over broadcast axes with unbroadcast(g, shape)).")
                if parent._ctx is None:
                    # A leaf has nothing to wait for: add into its .grad now (no dict entry).
                    # A fresh_grads array is new and ours alone, so .grad may keep it uncopied.
                    parent._accumulate_grad(parent_grad, owned=fn.fresh_grads)
                else:
                    key = id(parent)
                    pending = grads.get(key)
                    grads[key] = parent_grad if pending is None else pending + parent_grad
        if not retain_graph:
            fn.release()
