"""Where a from_scratch training step spends its time, next to the hand-written NumPy step.

    .venv/bin/python benchmarks/profile_epoch.py                  # batch 64 and batch 1
    .venv/bin/python benchmarks/profile_epoch.py --batch-size 512 --top 30

1. Phases: µs per step of forward (model + loss), zero_grad, backward and the optimizer step,
   beside the NumPy reference's forward, backward and update. Medians over steps, so a step
   that the OS interrupted does not count; systems interleaved in blocks.
2. The same at batch 1, where the arithmetic is tiny: what is left is the fixed cost per step.
3. cProfile over one epoch: the functions with the most self time. cProfile inflates the
   cost of Python calls, so read the shares, not the absolute numbers.
4. Extras: each thing the from_scratch step does beyond the NumPy step (copies, checks,
   graph bookkeeping), timed alone with timeit (best of 9), in µs per step: what a change
   there could gain at most. Nothing in the library is modified.
Uses one BLAS thread unless --threads says otherwise: the step's own cost, not the machine's.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
import timeit

import mnist_mlp
import numpy as np
import numpy_reference
from threadpoolctl import threadpool_limits

import from_scratch as fs
from from_scratch import autograd, ops
from from_scratch import functional as F

clock = time.perf_counter


def _batches(setup, batch_size: int, steps: int):
    x, y = setup.batches(batch_size)
    for k in range(steps):
        start = k * batch_size % len(x)
        yield x[start:start + batch_size], y[start:start + batch_size]


def fs_phases(setup, batch_size: int, steps: int) -> np.ndarray:
    """(steps, 4) seconds: forward + loss, zero_grad, backward, optimizer step."""
    model, opt = mnist_mlp.build_from_scratch(setup)
    out = np.empty((steps, 4))
    for k, (xb, yb) in enumerate(_batches(setup, batch_size, steps)):
        xt, yt = fs.Tensor._from_op(xb, None), fs.Tensor._from_op(yb, None)  # views, no copy
        t0 = clock()
        loss = F.cross_entropy(model(xt), yt)
        t1 = clock()
        opt.zero_grad()
        t2 = clock()
        loss.backward()
        t3 = clock()
        opt.step()
        t4 = clock()
        out[k] = t1 - t0, t2 - t1, t3 - t2, t4 - t3
    return out


def numpy_phases(setup, batch_size: int, steps: int) -> np.ndarray:
    """(steps, 4) seconds: forward + loss, (nothing to zero), backward, update."""
    params = [p.copy() for p in setup.init]
    out = np.empty((steps, 4))
    for k, (xb, yb) in enumerate(_batches(setup, batch_size, steps)):
        t0 = clock()
        _, cache = numpy_reference.forward(params, xb, yb)
        t1 = clock()
        grads = numpy_reference.backward(params, cache)
        t2 = clock()
        numpy_reference.sgd_update(params, grads, mnist_mlp.LR)
        t3 = clock()
        out[k] = t1 - t0, 0.0, t2 - t1, t3 - t2
    return out


def compare_phases(setup, batch_size: int, steps: int, blocks: int) -> dict:
    """Median µs per step of each phase, both systems, interleaved in `blocks` blocks."""
    runs = {"from_scratch": [], "numpy": []}
    for _ in range(blocks):
        runs["from_scratch"].append(fs_phases(setup, batch_size, steps))
        runs["numpy"].append(numpy_phases(setup, batch_size, steps))
    result = {}
    for name, parts in runs.items():
        arr = np.concatenate(parts)
        result[name] = {"phases_us": (1e6 * np.median(arr, axis=0)).tolist(),
                        "step_us": float(1e6 * np.median(arr.sum(axis=1)))}
    return result


def print_phases(title: str, res: dict) -> None:
    names = ("forward+loss", "zero_grad", "backward", "step/update", "whole step")
    print(f"\n{title}: median µs per step")
    print(f"  {'phase':14s} {'from_scratch':>13s} {'numpy':>9s} {'extra':>9s}")
    fs_, np_ = res["from_scratch"], res["numpy"]
    for i, name in enumerate(names):
        a = fs_["phases_us"][i] if i < 4 else fs_["step_us"]
        b = np_["phases_us"][i] if i < 4 else np_["step_us"]
        print(f"  {name:14s} {a:13.1f} {b:9.1f} {a - b:+9.1f}")
    print(f"  ratio {fs_['step_us'] / np_['step_us']:.2f}×")


# ----------------------------------------------------------------------------- cProfile


def profile_epoch(setup, batch_size: int, top: int) -> None:
    """cProfile one from_scratch epoch; print the top functions by self time."""
    mnist_mlp.train_from_scratch(setup, batch_size)  # warm up
    profiler = cProfile.Profile()
    profiler.enable()
    mnist_mlp.train_from_scratch(setup, batch_size)
    profiler.disable()
    stats = pstats.Stats(profiler)
    steps = len(setup.x) // batch_size
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)
    total = sum(v[2] for _, v in rows)
    print(f"\ncProfile, one epoch at batch {batch_size} ({steps} steps): self time per step "
          f"(inflated by the profiler; total {1e6 * total / steps:.0f} µs/step)")
    print(f"  {'µs/step':>8s} {'share':>6s} {'calls/step':>10s}  function")
    for (path, line, name), (_, ncalls, tottime, _, _) in rows[:top]:
        where = path.split("from_scratch/")[-1] if "from_scratch/" in path else path
        where = where.split("site-packages/")[-1]
        print(f"  {1e6 * tottime / steps:8.1f} {100 * tottime / total:5.1f}% "
              f"{ncalls / steps:10.1f}  {name} ({where}:{line})")


# ----------------------------------------------------------------------------- extras, costed


def _best_us(fn, number: int = 200, repeat: int = 9) -> float:
    """Best-of-`repeat` µs per call: the minimum is what the code costs when nothing interferes,
    which is steadier than a mean on a shared machine."""
    return 1e6 * min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def _backward_calls(loss) -> list:
    """(Function, grad_output) of every node of `loss`'s graph, in backward order: the
    arithmetic of a backward pass without the engine's bookkeeping around it."""
    calls, grads = [], {id(loss): np.ones((), loss.dtype)}
    for tensor in autograd.topological_order(loss):
        g, fn = grads.pop(id(tensor), None), tensor._ctx
        if fn is None or g is None:
            continue
        calls.append((fn, g))
        input_grads = fn.backward(g)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        for parent, pg, needed in zip(fn.inputs, input_grads, fn.needs_input_grad, strict=True):
            if needed and pg is not None:
                grads[id(parent)] = pg
    return calls


def extra_costs(setup, batch_size: int) -> list:
    """(what, µs per step, note) for each thing the from_scratch step does beyond the NumPy
    step, each timed alone with the arrays and counts of a real step at `batch_size`."""
    model, opt = mnist_mlp.build_from_scratch(setup)
    x, y = setup.batches(batch_size)
    xt, yt = fs.tensor(x[:batch_size]), fs.tensor(y[:batch_size])
    loss = F.cross_entropy(model(xt), yt)
    loss.backward(retain_graph=True)
    params = list(model.parameters())
    grads = [p.grad.copy() for p in params]
    calls = _backward_calls(loss)
    linear = model[0]
    tiny = fs.tensor(np.ones((1, 784), np.float32))
    z = fs.tensor(np.ones((1, 1), np.float32), requires_grad=True)
    logits = model(xt).detach()
    rows = np.arange(batch_size)
    nodes = 6  # 3 Linear, 2 ReLU, 1 cross-entropy (the batch slices are not nodes)
    out = []

    def add(what, us, note):
        out.append((what, us, note))

    def backward_again():
        opt.zero_grad()
        loss.backward(retain_graph=True)

    add("Function.apply + Tensor wrapping, per node",
        nodes * (_best_us(lambda: ops.ReLU.apply(z), 2000)
                 - _best_us(lambda: np.maximum(z.data, 0), 2000)),
        f"{nodes} nodes; ReLU on 1 element, minus np.maximum")
    add("nn.Linear.forward checks + Module.__call__",
        3 * (_best_us(lambda: linear(tiny), 2000)
             - _best_us(lambda: ops.Linear.apply(tiny, linear.weight, linear.bias), 2000)),
        "3 layers")
    big = fs.tensor(x[:4 * batch_size])
    add("batch slices x_t[a:b], y_t[a:b] (no graph node: no grad needed)",
        2 * (_best_us(lambda: big[batch_size:2 * batch_size], 2000)
             - _best_us(lambda: big.data[batch_size:2 * batch_size], 2000)),
        "2 per step")
    add("cross_entropy label checks (dtype, shape, min, max)",
        _best_us(lambda: F._class_labels(yt, (batch_size, 10), "cross_entropy"), 2000),
        "2 reductions + Python checks")
    add("cross_entropy forward vs the NumPy loss lines",
        _best_us(lambda: F.CrossEntropy().forward(logits.data, labels=yt.data, denom=batch_size),
                 1000)
        - _best_us(lambda: _numpy_loss(logits.data, yt.data, rows), 1000),
        "isfinite guard, sum/denom instead of mean")
    topo = _best_us(lambda: autograd.topological_order(loss), 1000)
    add("topological_order of the step's graph", topo, "13 tensors, a set of id()")
    add("run_backward's bookkeeping, zero_grad, Tensor.backward's checks",
        _best_us(backward_again, 500) - topo
        - _best_us(lambda: [fn.backward(g) for fn, g in calls], 500),
        "backward(retain_graph=True) minus topological_order minus every Function.backward")
    add("Optimizer.step machinery vs a plain p -= lr*g loop",
        _best_us(lambda: _opt_step(opt, params, grads), 500)
        - _best_us(lambda: _plain_step(params, grads), 500),
        "state dict, float() of 4 hyperparameters, update() per parameter")
    add("Module.__call__ + Sequential.forward for the activations",
        2 * (_best_us(lambda: model[1](tiny), 2000) - _best_us(lambda: ops.ReLU.apply(tiny), 2000)),
        "2 ReLU modules")
    return out


def _numpy_loss(z, yb, rows):
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    s = e.sum(axis=1, keepdims=True)
    return -(z - m - np.log(s))[rows, yb].mean(), e / s


def _opt_step(opt, params, grads):
    for p, g in zip(params, grads, strict=True):
        p.grad = g
    opt.step()


def _plain_step(params, grads):
    for p, g in zip(params, grads, strict=True):
        p.grad = g
    for p in params:
        p.data -= 0.1 * p.grad


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--steps", type=int, default=300, help="steps per timed block")
    p.add_argument("--blocks", type=int, default=5, help="alternating blocks per comparison")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--top", type=int, default=25)
    args = p.parse_args(argv)
    with threadpool_limits(limits=args.threads, user_api="blas"):
        setup = mnist_mlp.load_setup()
        fs_phases(setup, args.batch_size, 50)  # warm up
        res = compare_phases(setup, args.batch_size, args.steps, args.blocks)
        print_phases(f"Batch {args.batch_size}, {args.threads} BLAS thread(s)", res)
        if args.batch_size != 1:
            res1 = compare_phases(setup, 1, args.steps, args.blocks)
            print_phases("Batch 1 (the fixed cost of a step)", res1)
        profile_epoch(setup, args.batch_size, args.top)
        costs = extra_costs(setup, args.batch_size)
        print(f"\nExtras of the from_scratch step at batch {args.batch_size}, each timed alone "
              f"(best of 9): µs per step")
        for what, us, note in costs:
            print(f"  {us:6.1f}  {what}  ({note})")
        print(f"  {sum(us for _, us, _ in costs):6.1f}  total of the above")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
