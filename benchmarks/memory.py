"""Memory while training on MNIST, as tracemalloc sees it (NumPy reports its buffers to it).

Two questions: how much memory does a training step need at its peak, compared with the
hand-written NumPy step; and does memory grow with the number of steps (a graph, a gradient
or a history kept alive by mistake). Traced memory is read after step 100 and after the last
step, and at checkpoints in between. The dataset and the model exist before tracing starts,
so they are not counted; the gradients (one copy of the parameters) are.

Expect a small bounded rise over the first ~1,000 steps even without a leak: CPython keeps
freed tuples, floats and frames on free lists (up to a fixed number each), and tracemalloc
counts those as still allocated. A leak keeps rising; free lists plateau.
"""

from __future__ import annotations

import gc
import tracemalloc

import mnist_mlp
import numpy_reference

import from_scratch as fs

CHECKPOINTS = (100, 250, 500, 1000, 1500, 2000, 3000, 4000)


def _traced_steps(step_fn, steps: int) -> dict:
    """Run step_fn(step) `steps` times under tracemalloc; memory relative to the start."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        marks = {}
        for step in range(steps):
            step_fn(step)
            if step + 1 in CHECKPOINTS or step + 1 == steps:
                marks[step + 1] = tracemalloc.get_traced_memory()[0] - base
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    first = min(marks)
    half = max(k for k in marks if k <= steps // 2) if steps >= 2 * first else first
    return {"steps": steps, "peak_bytes": peak, "after_100_bytes": marks[first],
            "after_n_bytes": marks[steps], "growth_bytes": marks[steps] - marks[first],
            "growth_second_half_bytes": marks[steps] - marks[half],
            "checkpoints": {str(k): v for k, v in marks.items()}}


def from_scratch_steps(setup: mnist_mlp.MnistSetup, batch_size: int, steps: int) -> dict:
    """Traced memory of `steps` from_scratch training steps (wrapping around the epoch)."""
    model, opt = mnist_mlp.build_from_scratch(setup)
    x, y = setup.batches(batch_size)
    x_t, y_t = fs.tensor(x), fs.tensor(y)

    def step_fn(step):
        start = step * batch_size % len(x)
        mnist_mlp.from_scratch_step(model, opt, x_t[start:start + batch_size],
                                    y_t[start:start + batch_size])

    return _traced_steps(step_fn, steps)


def numpy_steps(setup: mnist_mlp.MnistSetup, batch_size: int, steps: int) -> dict:
    """The same for the hand-written NumPy step (no graph: its peak is the floor)."""
    params = [p.copy() for p in setup.init]
    x, y = setup.batches(batch_size)

    def step_fn(step):
        start = step * batch_size % len(x)
        numpy_reference.train_epoch(params, x[start:start + batch_size],
                                    y[start:start + batch_size], batch_size, mnist_mlp.LR)

    return _traced_steps(step_fn, steps)
