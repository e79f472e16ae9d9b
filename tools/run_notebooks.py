"""Re-execute chapters in place, top to bottom in one fresh kernel, to refresh stored outputs.

    python tools/run_notebooks.py notebooks/01_autograd.ipynb [...]

Each notebook is written atomically (temporary file + rename), and only when it ran without
an error, so a failing chapter never replaces a good one. Prints each chapter's run time.
"""

from __future__ import annotations

import os
import pathlib
import sys
import tempfile
import time

import nbformat
from nbclient import NotebookClient


def run(path: pathlib.Path, timeout: int = 600) -> float:
    nb = nbformat.read(path, as_version=4)
    # record_timing=False: no per-cell timestamps in the metadata, so a re-run of an unchanged
    # chapter leaves its file unchanged and `git diff` shows only real changes.
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:  # timestamps left by an earlier run or by JupyterLab
        cell.metadata.pop("execution", None)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".ipynb.tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        nbformat.write(nb, f)
    os.replace(tmp, path)
    return seconds


def main(argv: list[str]) -> int:
    paths = [pathlib.Path(p) for p in argv]
    if not paths:
        paths = sorted(pathlib.Path("notebooks").glob("[0-9]*.ipynb"))
    failed = 0
    for path in paths:
        try:
            seconds = run(path)
            print(f"{path}: executed in {seconds:.1f} s")
        except Exception as e:  # report and go on: one broken chapter must not hide the others
            failed += 1
            print(f"{path}: FAILED, stored outputs left unchanged\n{e}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
