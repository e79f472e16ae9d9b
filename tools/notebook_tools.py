"""Helpers shared by the coursework tools (student.py, grade.py, badges.py) and their tests.

Chapters follow CONTRIBUTING.md: setup cells carry the cell tag `setup`, exercises sit between
`## Exercises` and `## Key points`, a solution cell has nbgrader metadata `solution: true` and
its answer between `### BEGIN SOLUTION` and `### END SOLUTION`, and a check cell has
`grade: true, locked: true, points: P`.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass

import nbformat

ROOT = pathlib.Path(__file__).resolve().parent.parent
BEGIN, END = "BEGIN SOLUTION", "END SOLUTION"  # nbgrader's delimiters (matched as substrings)
CODE_STUB = ["# YOUR CODE HERE", "raise NotImplementedError()"]  # nbgrader's Python stub
TEXT_STUB = ["YOUR ANSWER HERE"]


def chapters(root: pathlib.Path = ROOT) -> list[pathlib.Path]:
    """The chapter notebooks, notebooks/NN_*.ipynb, in order."""
    return sorted((root / "notebooks").glob("[0-9]*.ipynb"))


def read(path: str | os.PathLike) -> nbformat.NotebookNode:
    """Read a notebook, with an error naming the file when it is not one."""
    path = pathlib.Path(path)
    try:
        return nbformat.read(path, as_version=4)
    except Exception as e:  # nbformat raises several types for bad JSON / bad schema
        raise ValueError(f"{path} is not a Jupyter notebook ({type(e).__name__}: {e})") from e


def write_atomic(nb: nbformat.NotebookNode, path: pathlib.Path) -> None:
    """Write a notebook to a temporary file next to `path`, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            nbformat.write(nb, f)
        os.replace(tmp, path)  # readers see the old file or the new one, never half of one
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise


# ----------------------------------------------------------------- what a cell is

def nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def is_solution(cell) -> bool:
    return bool(nbgrader(cell).get("solution"))


def is_check(cell) -> bool:
    return bool(nbgrader(cell).get("grade")) and not is_solution(cell)


def is_setup(cell) -> bool:
    return cell.cell_type == "code" and "setup" in cell.get("metadata", {}).get("tags", [])


def heading(cell, level: int) -> str | None:
    """The text of the first line of a markdown cell if it is a heading of exactly `level`."""
    if cell.cell_type != "markdown" or not cell.source.strip():
        return None
    first = cell.source.strip().splitlines()[0]
    m = re.match(r"(#+)\s+(.*)", first)
    return m.group(2).strip() if m and len(m.group(1)) == level else None


def exercise_section(nb) -> range:
    """Indices of the cells from `## Exercises` up to (not including) the next `##` heading."""
    cells = nb.cells
    start = next((i for i, c in enumerate(cells) if (heading(c, 2) or "").lower() == "exercises"),
                 None)
    if start is None:
        return range(0)
    stop = next((i for i in range(start + 1, len(cells)) if heading(cells[i], 2) is not None),
                len(cells))
    return range(start, stop)


@dataclass
class Exercise:
    """One exercise: its heading, the solution cell and the check cell that grades it."""

    grade_id: str          # the check cell's grade_id, e.g. "ch01-ex2-check"
    title: str             # "Exercise 2: Broadcasting in backward"
    points: float
    check: int             # index of the check cell
    solution: int | None   # index of the solution cell before it, if any


def exercises(nb) -> list[Exercise]:
    """The check cells of a notebook, each with the heading and solution cell before it."""
    found, title, solution = [], "", None
    for i, cell in enumerate(nb.cells):
        h = heading(cell, 3)
        if h is not None:
            title, solution = re.sub(r"\s*\(\s*[\d.]+\s*points?\s*\)\s*$", "", h), None
        elif is_solution(cell):
            solution = i
        elif is_check(cell):
            meta = nbgrader(cell)
            found.append(Exercise(meta.get("grade_id", f"cell-{i}"), title or f"cell {i}",
                                  float(meta.get("points", 0)), i, solution))
    return found


# ----------------------------------------------------------------- solution regions

class MarkerError(ValueError):
    """A cell's BEGIN/END SOLUTION markers do not pair up."""


def strip_solution(source: str, stub: list[str], where: str = "cell") -> tuple[str, bool]:
    """Replace each BEGIN..END SOLUTION region by `stub`, indented like the BEGIN line.

    Returns (new source, whether a region was found). Raises MarkerError, naming `where`,
    for a nested BEGIN, an END without BEGIN, or a BEGIN without END.
    """
    out, inside, found = [], False, False
    for n, line in enumerate(source.splitlines(), start=1):
        if BEGIN in line:
            if inside:
                raise MarkerError(f"{where}: line {n} opens a second {BEGIN!r} before the "
                                  f"first is closed; add the missing '### {END}'")
            inside = found = True
            indent = re.match(r"\s*", line).group(0)
            out.extend(indent + s for s in stub)
        elif END in line:
            if not inside:
                raise MarkerError(f"{where}: line {n} has '### {END}' without a "
                                  f"'### {BEGIN}' before it")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise MarkerError(f"{where}: '### {BEGIN}' is never closed; add '### {END}' "
                          f"after the answer")
    return "\n".join(out), found


# ----------------------------------------------------------------- running cells

@dataclass
class CellResult:
    """What happened when one cell ran: ok, or the error's name and message."""

    ok: bool
    ename: str = ""
    evalue: str = ""
    seconds: float = 0.0
    timed_out: bool = False
    died: bool = False

    def message(self) -> str:
        """The first line of the error, e.g. 'AssertionError: grad is wrong at (0, 1)'."""
        if self.ok:
            return ""
        if self.timed_out:
            return f"timed out after {self.seconds:.0f} s (an endless loop?)"
        if self.died:
            return "the kernel died (out of memory, or the process was killed)"
        lines = [ln.strip() for ln in self.evalue.strip().splitlines() if ln.strip()] or [""]
        first = lines[0]
        if first.endswith(":") and len(lines) > 1:  # "gradcheck failed:" says little alone
            first = f"{first} {lines[1]}"
        if self.ename == "NotImplementedError" and not first:
            return "NotImplementedError: not answered yet"
        return f"{self.ename}: {first}" if first else self.ename


class Kernel:
    """A Jupyter kernel that runs cells one at a time and captures errors instead of raising.

    A timed-out or dead kernel is replaced by a fresh one, which replays the cells run so far
    with `keep=True` (the setup and earlier answers), so later exercises can still be graded.
    """

    def __init__(self, cwd: str | os.PathLike = ".", timeout: float = 60):
        self.cwd, self.timeout = str(cwd), timeout
        self.kept: list[str] = []
        self._stack: ExitStack | None = None

    def __enter__(self) -> Kernel:
        self._start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop()

    def _start(self) -> None:
        from nbclient import NotebookClient  # imported here so the pure helpers stay light

        self._nb = nbformat.v4.new_notebook()
        self._reply: dict = {}
        self._client = NotebookClient(
            self._nb, timeout=self.timeout, kernel_name="python3", allow_errors=True,
            interrupt_on_timeout=True,
            error_on_timeout={"ename": "Timeout", "evalue": "", "traceback": []},
            on_cell_executed=lambda cell, cell_index, execute_reply: self._reply.update(
                execute_reply["content"]),
            resources={"metadata": {"path": self.cwd}})
        self._stack = ExitStack()
        # The kernel's own stderr (ipykernel's start-up warnings) is noise in a report;
        # everything the cells print arrives through the messaging channels anyway.
        self._stack.enter_context(self._client.setup_kernel(stderr=subprocess.DEVNULL))

    def _stop(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    def restart(self) -> None:
        """A fresh kernel, with the kept cells replayed."""
        self._stop()
        self._start()
        for source in self.kept:
            self._run(source)

    def _run(self, source: str) -> CellResult:
        from nbclient.exceptions import DeadKernelError

        cell = nbformat.v4.new_code_cell(source)
        self._nb.cells.append(cell)
        self._reply.clear()
        start = time.perf_counter()
        try:
            self._client.execute_cell(cell, len(self._nb.cells) - 1)
        except DeadKernelError:
            return CellResult(False, "DeadKernelError", seconds=time.perf_counter() - start,
                              died=True)
        seconds = time.perf_counter() - start
        if self._reply.get("status", "ok") == "ok":
            return CellResult(True, seconds=seconds)
        ename = self._reply.get("ename", "Error")
        return CellResult(False, ename, self._reply.get("evalue", ""), seconds,
                          timed_out=ename == "Timeout")

    def run(self, source: str, keep: bool = False) -> CellResult:
        """Run one cell; `keep` marks it for replay in a fresh kernel after a timeout or crash."""
        result = self._run(source)
        if result.timed_out or result.died:
            self.restart()  # the old kernel may still be busy: never reuse it
        elif keep:
            self.kept.append(source)
        return result
