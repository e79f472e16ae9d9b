"""The table `make bench` prints, the targets it checks, and the JSON file it writes."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

MiB = 2**20


def targets(res: dict) -> list:
    """The issue's targets, each with the measured value and whether it is met.

    Timing targets are judged on wall-clock ratios; the CPU-time ratio is given beside them
    because on a busy machine it is the steadier of the two.
    """
    out = []

    def add(name, value, limit, cpu=None):
        if value is not None:
            out.append({"target": name, "value": value, "cpu_value": cpu, "limit": limit,
                        "met": value <= limit})

    def ratio(b, other, clock):
        r = res.get("mnist", {}).get(str(b), {}).get("ratios", {}).get(other)
        return r[clock] if r else None

    for b, other, limit in ((64, "torch", 1.0), (64, "numpy", 1.1), (512, "torch", 1.15)):
        add(f"batch {b}: from_scratch / {other}", ratio(b, other, "wall"), limit,
            ratio(b, other, "cpu"))
    graph = res.get("overhead", {}).get("small_graph", {})
    add("per-op overhead: from_scratch / torch", graph.get("fs_vs_torch"), 1.0,
        graph.get("fs_vs_torch_cpu"))
    fs_mem = res.get("memory", {}).get("from_scratch")
    if fs_mem:
        # Flat: a leaked graph per step would add ~0.5 MiB per step at batch 64.
        add(f"memory growth, step 100 -> {fs_mem['steps']} (MiB)", fs_mem["growth_bytes"] / MiB,
            1.0)
    return out


def print_report(res: dict) -> None:
    meta = res["meta"]
    print(f"\nthreads: {meta['threads']} (NumPy BLAS {meta['blas']}, torch "
          f"{meta['torch_threads']});  load average before/after: "
          f"{meta['load_before']:.2f} / {meta['load_after']:.2f};  repeats: {meta['repeats']}")
    for b, entry in res.get("mnist", {}).items():
        print(f"\nMNIST MLP 784-128-64-10, one epoch, batch {b} ({entry['steps']} steps), "
              f"median seconds")
        print(f"  {'system':13s} {'s/epoch':>8s} {'cpu s':>7s} {'ms/step':>8s} {'test acc':>9s} "
              f"{'max |ΔW|':>9s}")
        for name, s in entry["systems"].items():
            diff = s["max_abs_weight_diff_vs_numpy"]
            print(f"  {name:13s} {s['median_s']:8.3f} {s['median_cpu_s']:7.3f} "
                  f"{s['ms_per_step']:8.3f} {100 * s['accuracy']:8.2f}% "
                  f"{'-' if diff is None else f'{diff:.1e}':>9s}")
        for other, r in entry["ratios"].items():
            print(f"  from_scratch / {other:8s} wall {r['wall']:5.2f}×  cpu {r['cpu']:5.2f}×  "
                  f"(median of per-repeat ratios: wall {r['wall_paired']:.2f}×, "
                  f"cpu {r['cpu_paired']:.2f}×)")
    ov = res.get("overhead")
    if ov:
        g = ov["small_graph"]
        print(f"\nSmall graph ({g['ops_per_graph']} ops on 4×4, forward + backward), "
              f"{len(g['fs']['seconds'])} blocks of {g['iterations']} graphs, median")
        for name in ("fs", "torch"):
            if name in g:
                print(f"  {name:13s} {g[name]['graphs_per_s']:9.0f} graphs/s "
                      f"{g[name]['us_per_op']:7.2f} µs/op  (cpu {g[name]['cpu_us_per_op']:.2f})")
        if "fs_vs_torch" in g:
            print(f"  from_scratch / torch: {g['fs_vs_torch']:.2f}× "
                  f"(cpu {g['fs_vs_torch_cpu']:.2f}×, median of per-block ratios "
                  f"{g['fs_vs_torch_paired']:.2f}×); same gradients: "
                  f"{g['gradients_agree_with_torch']}")
        c = ov["deep_chain"]
        print(f"\nDeep chain ({c['ops']} ops on 4×4)")
        for name in ("fs", "torch"):
            if name in c:
                extra = ""
                if "memory" in c[name]:
                    m = c[name]["memory"]
                    extra = (f"  peak {m['peak_bytes'] / MiB:.1f} MiB "
                             f"({m['bytes_per_op']:.0f} B/op)")
                print(f"  {name:13s} forward {c[name]['forward_s']:.3f} s  backward "
                      f"{c[name]['backward_s']:.3f} s{extra}")
        if "deep_chain_100k" in ov:
            big = ov["deep_chain_100k"]
            print(f"  100,000-op chain in from_scratch: forward {big['forward_s']:.2f} s, "
                  f"backward {big['backward_s']:.2f} s (no RecursionError)")
    mem = res.get("memory")
    if mem:
        print(f"\nTraced memory over {mem['numpy']['steps']} training steps at batch "
              f"{mem['batch_size']} (dataset excluded)")
        for name in ("from_scratch", "numpy"):
            if name in mem:
                m = mem[name]
                print(f"  {name:13s} peak {m['peak_bytes'] / MiB:7.2f} MiB   after 100 steps "
                      f"{m['after_100_bytes'] / MiB:6.2f} MiB   after {m['steps']} "
                      f"{m['after_n_bytes'] / MiB:6.2f} MiB   growth "
                      f"{m['growth_bytes'] / 1024:+.1f} KiB  (second half "
                      f"{m['growth_second_half_bytes'] / 1024:+.1f} KiB)")
    for note in res.get("notes", []):
        print(f"\nnote: {note}")
    if res["targets"]:
        print("\nTargets")
        for t in res["targets"]:
            cpu = "" if t["cpu_value"] is None else f"   cpu {t['cpu_value']:.3f}"
            print(f"  {'MET ' if t['met'] else 'MISS'} {t['target']:38s} {t['value']:7.3f} "
                  f"(≤ {t['limit']}){cpu}")


def write_json(res: dict, path: Path) -> None:
    """Write to a temporary file beside `path`, then rename: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".latest-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(res, f, indent=1)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a results file is for everyone
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
