"""`make bench`: from_scratch side by side with NumPy, PyTorch and scikit-learn.

    .venv/bin/python benchmarks/run.py                 # everything, median of 5 repeats
    .venv/bin/python benchmarks/run.py --threads 1     # one BLAS thread for every system
    .venv/bin/python benchmarks/run.py --quick         # a smoke test of the whole suite

Prints a table and writes benchmarks/results/latest.json (atomically). Systems run
interleaved (A B C A B C ...) so that machine noise spreads over all of them; medians over
--repeats. Timings on a shared machine are noisy: read the ratios, and rerun to see the spread.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import memory
import mnist_mlp
import numpy as np
import overhead
from report import print_report, targets, write_json
from threadpoolctl import threadpool_info, threadpool_limits

HERE = Path(__file__).resolve().parent


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=5, help="runs per system (median reported)")
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 512])
    p.add_argument("--systems", nargs="+", default=list(mnist_mlp.SYSTEMS),
                   choices=list(mnist_mlp.SYSTEMS))
    p.add_argument("--threads", type=int, default=None,
                   help="BLAS and PyTorch threads (default: what NumPy's BLAS uses now)")
    p.add_argument("--quick", action="store_true", help="1 repeat, smaller overhead tests")
    p.add_argument("--skip-memory", action="store_true", help="skip the tracemalloc runs")
    p.add_argument("--out", type=Path, default=HERE / "results" / "latest.json")
    args = p.parse_args(argv)
    if args.quick:
        args.repeats = 1
    return args


def blas_threads() -> int:
    """Threads of the BLAS library NumPy uses (OpenBLAS or MKL)."""
    return max((i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"),
               default=1)


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def from_scratch_missing() -> str | None:
    """Why the from_scratch system cannot run yet (None when it can)."""
    try:
        from from_scratch import functional, nn, optim  # noqa: F401
    except ImportError as e:
        return str(e)
    if not hasattr(functional, "cross_entropy"):
        return "from_scratch.functional has no cross_entropy"
    return None


def median(values: list) -> float:
    return float(statistics.median(values))


# ----------------------------------------------------------------------------- the sections


def bench_mnist(args, setup: mnist_mlp.MnistSetup, systems: list) -> dict:
    """Every system, every batch size, interleaved, `repeats` times."""
    warm = mnist_mlp.MnistSetup(setup.x[:1024], setup.y[:1024], setup.x_test[:256],
                                setup.y_test[:256], setup.init)
    for name in systems:  # load libraries and BLAS kernels before anything is timed
        mnist_mlp.SYSTEMS[name](warm, min(args.batch_sizes))
    runs = {b: {name: [] for name in systems} for b in args.batch_sizes}
    for r in range(args.repeats):
        for b in args.batch_sizes:
            for name in systems:
                runs[b][name].append(mnist_mlp.SYSTEMS[name](setup, b))
                res = runs[b][name][-1]
                print(f"  repeat {r + 1}/{args.repeats}  batch {b:4d}  {name:13s}"
                      f"{res.seconds:7.3f} s  acc {res.accuracy:.4f}", flush=True)
    out = {}
    for b, by_system in runs.items():
        steps = len(setup.x) // b
        entry = {"steps": steps, "samples": steps * b, "systems": {}}
        reference = by_system.get("numpy")
        for name, results in by_system.items():
            diff = None
            if reference:
                diff = max(float(np.abs(p - q).max())
                           for p, q in zip(results[-1].params, reference[-1].params,
                                           strict=True))
            times = [res.seconds for res in results]
            cpu = [res.cpu_seconds for res in results]
            entry["systems"][name] = {
                "seconds": times, "median_s": median(times),
                "cpu_seconds": cpu, "median_cpu_s": median(cpu),
                "ms_per_step": 1000 * median(times) / steps,
                "accuracy": results[-1].accuracy,
                "max_abs_weight_diff_vs_numpy": diff,
            }
        entry["ratios"] = ratios(entry["systems"])
        out[str(b)] = entry
    return out


def ratios(systems: dict) -> dict:
    """from_scratch / each other system, by wall clock and by CPU time.

    Both the ratio of the medians and the median of the per-repeat ratios: the two runs of a
    pair were seconds apart, so they shared the machine's load at that time.
    """
    out = {}
    if "from_scratch" not in systems:
        return out
    fs_ = systems["from_scratch"]
    for other in ("numpy", "torch", "sklearn"):
        if other not in systems:
            continue
        o = systems[other]
        out[other] = {
            "wall": fs_["median_s"] / o["median_s"],
            "cpu": fs_["median_cpu_s"] / o["median_cpu_s"],
            "wall_paired": median([a / b for a, b in zip(fs_["seconds"], o["seconds"],
                                                         strict=True)]),
            "cpu_paired": median([a / b for a, b in zip(fs_["cpu_seconds"], o["cpu_seconds"],
                                                        strict=True)]),
        }
    return out


def bench_overhead(args, with_torch: bool) -> dict:
    """10-op graph on 4×4 tensors, and a deep chain, interleaved with PyTorch."""
    iters = 100 if args.quick else 400
    n_chain = 2000 if args.quick else 10_000
    overhead.small_graph_fs(50)
    if with_torch:
        overhead.small_graph_torch(50)
    graph = {"fs": [], "torch": []}
    chain = {"fs": [], "torch": []}
    # Many short alternating blocks: each lasts a few hundredths of a second, so a change in
    # the machine's load hits both systems alike.
    for _ in range(5 * max(args.repeats, 3)):
        graph["fs"].append(overhead.small_graph_fs(iters))
        if with_torch:
            graph["torch"].append(overhead.small_graph_torch(iters))
    for _ in range(max(args.repeats, 3)):
        chain["fs"].append(overhead.deep_chain_fs(n_chain))
        if with_torch:
            chain["torch"].append(overhead.deep_chain_torch(n_chain))
    out = {"small_graph": {"ops_per_graph": overhead.GRAPH_OPS, "iterations": iters},
           "deep_chain": {"ops": n_chain}}
    for name, runs in graph.items():
        if runs:
            per_iter = median([wall for wall, _ in runs]) / iters
            per_iter_cpu = median([cpu for _, cpu in runs]) / iters
            out["small_graph"][name] = {
                "seconds": [wall for wall, _ in runs], "cpu_seconds": [cpu for _, cpu in runs],
                "graphs_per_s": 1 / per_iter, "us_per_op": 1e6 * per_iter / overhead.GRAPH_OPS,
                "cpu_us_per_op": 1e6 * per_iter_cpu / overhead.GRAPH_OPS}
    for name, runs in chain.items():
        if runs:
            out["deep_chain"][name] = {
                "forward_s": median([r["forward_s"] for r in runs]),
                "backward_s": median([r["backward_s"] for r in runs]),
                "backward_runs_s": [r["backward_s"] for r in runs]}
    if with_torch:
        out["small_graph"]["gradients_agree_with_torch"] = overhead.small_graph_gradients_agree()
        g = out["small_graph"]
        g["fs_vs_torch"] = g["fs"]["us_per_op"] / g["torch"]["us_per_op"]
        g["fs_vs_torch_cpu"] = g["fs"]["cpu_us_per_op"] / g["torch"]["cpu_us_per_op"]
        g["fs_vs_torch_paired"] = median([a / b for a, b in zip(
            g["fs"]["seconds"], g["torch"]["seconds"], strict=True)])
        out["deep_chain"]["fs_vs_torch_backward"] = (out["deep_chain"]["fs"]["backward_s"]
                                                     / out["deep_chain"]["torch"]["backward_s"])
    if not args.skip_memory:
        out["deep_chain"]["fs"]["memory"] = overhead.deep_chain_memory_fs(n_chain)
    if not args.quick:  # DESIGN.md: backward through a 100,000-op chain works
        big = overhead.deep_chain_fs(100_000)
        out["deep_chain_100k"] = {"ops": 100_000, "works": True, **big}
    return out


def bench_memory(args, setup: mnist_mlp.MnistSetup, with_fs: bool) -> dict:
    """tracemalloc over 2,000 training steps at batch 64 (about 2.1 epochs)."""
    steps = 200 if args.quick else 2000
    out = {"batch_size": 64, "numpy": memory.numpy_steps(setup, 64, steps)}
    if with_fs:
        out["from_scratch"] = memory.from_scratch_steps(setup, 64, steps)
    return out


def cpu_model() -> str:
    """The processor's name (Linux), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def metadata(args, threads: int, torch_threads) -> dict:
    import sklearn

    versions = {"python": platform.python_version(), "numpy": np.__version__,
                "sklearn": sklearn.__version__}
    try:
        import torch
        versions["torch"] = torch.__version__
    except ImportError:
        versions["torch"] = None
    try:
        def git(*cmd):
            return subprocess.run(["git", *cmd], cwd=HERE, capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        commit = git("rev-parse", "--short", "HEAD")
        # Uncommitted changes to the library make the commit alone not enough to reproduce.
        if git("status", "--porcelain", "--", "../from_scratch"):
            commit += "+uncommitted"
    except (OSError, subprocess.SubprocessError):
        commit = None
    blas = [f"{Path(i['filepath']).parent.name.split('.')[0]}: {i['internal_api']} "
            f"{i.get('version')} ({i.get('architecture')})"
            for i in threadpool_info() if i["user_api"] == "blas"]
    return {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "git_commit": commit, "versions": versions, "platform": platform.platform(),
            "cpu": cpu_model(),
            "cpu_count": os.cpu_count(), "blas": ", ".join(blas), "threads": threads,
            "torch_threads": torch_threads, "repeats": args.repeats,
            "argv": sys.argv[1:], "load_before": os.getloadavg()[0]}


def main(argv=None) -> int:
    args = parse_args(argv)
    threads = args.threads or blas_threads()
    limits = threadpool_limits(limits=threads, user_api="blas")
    with_torch = torch_available()
    torch_threads = None
    if with_torch:
        import torch
        torch.set_num_threads(threads)  # the same thread count as NumPy's BLAS
        torch_threads = torch.get_num_threads()
    notes = []
    systems = list(args.systems)
    if not with_torch and "torch" in systems:
        systems.remove("torch")
        notes.append('PyTorch is not installed: pip install -e ".[bench]" (or make bench)')
    missing = from_scratch_missing()
    if missing and "from_scratch" in systems:
        systems.remove("from_scratch")
        notes.append(f"from_scratch system skipped: {missing}")
    res = {"meta": metadata(args, threads, torch_threads), "notes": notes}
    load, cores = res["meta"]["load_before"], os.cpu_count() or 1
    if threads > 1 and load > cores - threads + 0.5:
        notes.append(f"the machine is busy (load {load:.1f} on {cores} cores) and BLAS uses "
                     f"{threads} threads: multi-threaded timings swing wildly when cores are "
                     f"shared; compare with --threads 1")
    start = time.perf_counter()
    setup = mnist_mlp.load_setup()
    print(f"MNIST epoch, systems interleaved: {' '.join(systems)}", flush=True)
    res["mnist"] = bench_mnist(args, setup, systems)
    print("per-op overhead and deep chain ...", flush=True)
    res["overhead"] = bench_overhead(args, with_torch)
    if not args.skip_memory:
        print("memory (tracemalloc) ...", flush=True)
        res["memory"] = bench_memory(args, setup, with_fs=not missing)
    res["meta"]["load_after"] = os.getloadavg()[0]
    res["meta"]["wall_s"] = time.perf_counter() - start
    res["targets"] = targets(res)
    limits.restore_original_limits()
    print_report(res)
    write_json(res, args.out)
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
