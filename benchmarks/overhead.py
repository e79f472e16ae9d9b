"""What an autograd engine costs per operation, apart from the arithmetic.

- `small_graph_*`: forward + backward of a 10-op graph on 4×4 tensors, where the arithmetic
  is nearly free and what is measured is the Python (or C++) bookkeeping per node.
- `deep_chain_*`: a chain of many cheap ops; backward time, and (from_scratch only) the peak
  memory that tracemalloc sees, which is what the graph itself costs per node.
"""

from __future__ import annotations

import gc
import time
import tracemalloc

import numpy as np

import from_scratch as fs

GRAPH_OPS = 10


def _inputs(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((4, 4)).astype(np.float32),
            rng.standard_normal((4, 4)).astype(np.float32))


def _ten_ops(a, b):
    """The 10-op graph, forward and backward; the same lines serve both libraries."""
    a.grad = b.grad = None
    c = a * b
    d = c + a
    e = d.tanh()
    f = e @ b
    g = f.relu()
    h = g - a
    i = h * 0.5
    j = i.exp()
    k = j.sigmoid()
    k.sum().backward()


def _time_small_graph(make, iterations: int) -> tuple[float, float]:
    """(wall, CPU) seconds of `iterations` passes of the 10-op graph on leaves made by `make`."""
    a0, b0 = _inputs()
    a, b = make(a0), make(b0)
    gc.collect()
    start, start_cpu = time.perf_counter(), time.process_time()
    for _ in range(iterations):
        _ten_ops(a, b)
    return time.perf_counter() - start, time.process_time() - start_cpu


def small_graph_fs(iterations: int) -> tuple[float, float]:
    """(wall, CPU) seconds of `iterations` forward+backward passes of the 10-op graph."""
    return _time_small_graph(lambda v: fs.tensor(v, requires_grad=True), iterations)


def small_graph_torch(iterations: int) -> tuple[float, float]:
    """The same graph in PyTorch (CPU)."""
    import torch

    return _time_small_graph(lambda v: torch.tensor(v, requires_grad=True), iterations)


def small_graph_gradients_agree() -> bool:
    """Both systems give the same gradients on the small graph (so they do the same work)."""
    import torch

    a0, b0 = _inputs()
    grads = []
    for make in (lambda v: fs.tensor(v, requires_grad=True),
                 lambda v: torch.tensor(v, requires_grad=True)):
        a, b = make(a0), make(b0)
        _ten_ops(a, b)
        grads.append([np.asarray(a.grad), np.asarray(b.grad)])
    return all(np.allclose(x, y, rtol=1e-4, atol=1e-6) for x, y in zip(*grads, strict=True))


# ----------------------------------------------------------------------------- deep chain


def _chain(x, n_ops: int):
    """n_ops cheap elementwise ops in a row (multiply and tanh, alternating), then a sum."""
    y = x
    for i in range(n_ops - 1):
        y = y * 1.01 if i % 2 == 0 else y.tanh()
    return y.sum()


def _time_chain(make, n_ops: int) -> dict:
    """Forward and backward seconds of an n_ops chain on a (4, 4) leaf made by `make`."""
    x = make(_inputs()[0])
    gc.collect()
    start = time.perf_counter()
    out = _chain(x, n_ops)
    middle = time.perf_counter()
    out.backward()
    end = time.perf_counter()
    if x.grad is None or not np.isfinite(np.asarray(x.grad)).all():
        raise RuntimeError("deep chain backward produced no or non-finite gradient")
    return {"forward_s": middle - start, "backward_s": end - middle}


def deep_chain_fs(n_ops: int) -> dict:
    """Forward and backward seconds of an n_ops chain in from_scratch."""
    return _time_chain(lambda v: fs.tensor(v, requires_grad=True), n_ops)


def deep_chain_torch(n_ops: int) -> dict:
    """The same chain in PyTorch."""
    import torch

    return _time_chain(lambda v: torch.tensor(v, requires_grad=True), n_ops)


def deep_chain_memory_fs(n_ops: int) -> dict:
    """Peak traced memory (bytes) of building the chain and running backward, in from_scratch.

    A separate run from the timed one: tracemalloc slows every allocation down.
    """
    x = fs.tensor(_inputs()[0], requires_grad=True)
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        out = _chain(x, n_ops)
        graph = tracemalloc.get_traced_memory()[0] - base
        out.backward()
        del out
        after = tracemalloc.get_traced_memory()[0] - base
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return {"graph_bytes": graph, "peak_bytes": peak, "bytes_per_op": graph / n_ops,
            "left_after_backward_bytes": after}
