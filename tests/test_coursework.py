"""The coursework tools (tools/student.py, tools/grade.py) and the proof that exercises are real.

The tools are tested on a small synthetic chapter made here with nbformat; the last tests run
on the real chapters: in the student edition every check fails, with the solutions every
check passes.
"""

from __future__ import annotations

import importlib.util
import pathlib
import re
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _load_tool(name: str):
    """Import tools/<name>.py by file name (tools/ is not a package and is not on the path)."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # student.py and grade.py import notebook_tools by this name
        spec.loader.exec_module(module)
    return sys.modules[name]


nbt = _load_tool("notebook_tools")
student = _load_tool("student")
grade = _load_tool("grade")


# ----------------------------------------------------------------- a synthetic chapter

def solution_cell(gid: str, source: str):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": False, "grade_id": gid, "locked": False,
                                 "schema_version": 3, "solution": True, "task": False}
    return cell


def check_cell(gid: str, source: str, points: int):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": f"{gid}-check", "locked": True,
                                 "points": points, "schema_version": 3, "solution": False,
                                 "task": False}
    return cell


EXERCISES = [  # (title, points, solution cell, check cell)
    ("Double", 2, "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
     'assert double(3) == 6, "double(3) should be 6\\nhint: multiply by two"'),
    ("Square", 3, "def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION",
     'assert square(4) == 16, "square(4) should be 16"'),
    ("Sum", 1, "### BEGIN SOLUTION\ntotal = int(np.arange(5).sum())\n### END SOLUTION",
     'assert total == 10, "total should be 0 + 1 + 2 + 3 + 4"'),
    ("Halve", 4, "def halve(x):\n    ### BEGIN SOLUTION\n    return float(np.divide(x, 2))\n"
     "    ### END SOLUTION", 'assert halve(5) == 2.5, "halve(5) should be 2.5"'),
]


def synthetic_chapter():
    setup = new_code_cell("import numpy as np")
    setup.metadata["tags"] = ["setup"]
    cells = [new_markdown_cell("# 99 · Synthetic\n\n**Time:** about 1 minute to read, "
                               "1 second to run."),
             setup, new_markdown_cell("## 1. An idea"), new_code_cell("x = 1"),
             new_markdown_cell("## Exercises")]
    for k, (title, points, solution, check) in enumerate(EXERCISES, start=1):
        cells += [new_markdown_cell(f"### Exercise {k}: {title} ({points} points)"),
                  solution_cell(f"ch99-ex{k}", solution), check_cell(f"ch99-ex{k}", check, points)]
    cells.append(new_markdown_cell("## Key points\n\n- one"))
    cells[3].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    cells[3].execution_count = 2
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def write(nb, path: pathlib.Path) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def solution_index(nb, k: int) -> int:
    return next(i for i, c in enumerate(nb.cells)
                if nbt.nbgrader(c).get("grade_id") == f"ch99-ex{k}")


# ----------------------------------------------------------------- the student edition

def test_solution_region_becomes_stub_indented_like_begin_line():
    source = ("def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return x + y\n"
              "    ### END SOLUTION\n")
    stripped, found = nbt.strip_solution(source, nbt.CODE_STUB)
    assert found
    assert stripped == ("def f(x):\n    y = 1\n    # YOUR CODE HERE\n"
                        "    raise NotImplementedError()")


def test_each_of_several_regions_becomes_a_stub_and_the_skeleton_stays():
    source = ("class A:\n    def __init__(self):\n        super().__init__()\n"
              "        ### BEGIN SOLUTION\n        self.w = 1\n        ### END SOLUTION\n\n"
              "    def forward(self, x):\n        \"\"\"Doc.\"\"\"\n        ### BEGIN SOLUTION\n"
              "        return x\n        ### END SOLUTION\n")
    stripped, found = nbt.strip_solution(source, nbt.CODE_STUB)
    assert found
    stub = "        # YOUR CODE HERE\n        raise NotImplementedError()"
    assert stripped == (f"class A:\n    def __init__(self):\n        super().__init__()\n{stub}\n\n"
                        f"    def forward(self, x):\n        \"\"\"Doc.\"\"\"\n{stub}")


@pytest.mark.parametrize("source, words", [
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n", "never closed"),
    ("def f():\n    return 1\n    ### END SOLUTION\n", "without"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", "second"),
])
def test_unbalanced_markers_are_an_error_naming_notebook_and_cell(source, words):
    nb = synthetic_chapter()
    i = solution_index(nb, 2)
    nb.cells[i].source = source
    with pytest.raises(nbt.MarkerError) as info:
        student.student_edition(nb, "notebooks/99_synthetic.ipynb")
    assert f"notebooks/99_synthetic.ipynb, cell {i} (ch99-ex2)" in str(info.value)
    assert words in str(info.value)


def test_student_edition_removes_answers_clears_outputs_and_keeps_the_rest():
    nb = synthetic_chapter()
    md = new_markdown_cell("Why? ### BEGIN SOLUTION\nBecause.\n### END SOLUTION")
    md.metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "ch99-why",
                               "locked": False, "schema_version": 3, "task": False}
    no_markers = solution_cell("ch99-whole", "answer = 42")
    nb.cells[-1:-1] = [md, no_markers]
    edition = student.student_edition(nb, "synthetic")

    text = "\n".join(c.source for c in edition.cells)
    for secret in ("return 2 * x", "return x * x", "np.arange(5)", "np.divide", "Because",
                   "answer = 42"):
        assert secret not in text
    assert text.count("raise NotImplementedError()") == len(EXERCISES) + 1
    assert "YOUR ANSWER HERE" in edition.cells[-3].source
    assert edition.cells[-2].source == "# YOUR CODE HERE\nraise NotImplementedError()"
    for before, after in zip(nb.cells, edition.cells, strict=True):
        assert after.metadata == before.metadata
        if after.cell_type == "code":
            assert after.outputs == [] and after.execution_count is None
        if not nbt.is_solution(before):
            assert after.source == before.source
    assert nb.cells[3].outputs, "the original notebook must not be modified"


def test_a_check_cell_holding_a_solution_region_is_an_error():
    nb = synthetic_chapter()
    i = solution_index(nb, 1) + 1
    nb.cells[i].source = "### BEGIN SOLUTION\nassert True\n### END SOLUTION"
    with pytest.raises(nbt.MarkerError, match=f"synthetic, cell {i} .*check cell"):
        student.student_edition(nb, "synthetic")


def test_student_cli_never_overwrites_work_without_force(tmp_path, capsys):
    src = write(synthetic_chapter(), tmp_path / "notebooks" / "99_synthetic.ipynb")
    out = tmp_path / "build" / "student"
    assert student.main([str(src), "--out", str(out)]) == 0
    dest = out / src.name
    edition = nbformat.read(dest, as_version=4)
    assert "return 2 * x" not in dest.read_text()

    edition.cells[solution_index(edition, 1)].source = "def double(x):\n    return x + x"
    nbformat.write(edition, dest)  # the student's work
    work = dest.read_text()
    capsys.readouterr()
    assert student.main([str(src), "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert dest.read_text() == work
    assert "skipped" in said and src.name in said and "FORCE=1" in said

    assert student.main([str(src), "--out", str(out), "--force"]) == 0
    assert "return x + x" not in dest.read_text()
    assert sorted(p.name for p in out.iterdir()) == [src.name], "temporary files left behind"


def test_student_cli_refuses_notebooks_folder_and_writes_nothing_on_a_bad_chapter(tmp_path,
                                                                               capsys):
    src = write(synthetic_chapter(), tmp_path / "99_synthetic.ipynb")
    assert student.main([str(src), "--out", str(ROOT / "notebooks")]) == 1
    assert "refusing" in capsys.readouterr().err
    assert not (ROOT / "notebooks" / src.name).exists()
    assert student.main([str(src), "--out", str(ROOT / "notebooks" / "sub")]) == 1
    assert not (ROOT / "notebooks" / "sub").exists()

    bad = synthetic_chapter()
    bad.cells[solution_index(bad, 3)].source = "### BEGIN SOLUTION\ntotal = 10"
    bad_path = write(bad, tmp_path / "98_bad.ipynb")
    out = tmp_path / "out"
    assert student.main([str(src), str(bad_path), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "98_bad.ipynb, cell" in err and "ch99-ex3" in err
    assert not out.exists(), "a failing run must write nothing"


def test_make_targets_call_the_tools():
    def dry(*args):
        return subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout

    assert "tools/student.py" in dry("student") and "--force" not in dry("student")
    assert "--force" in dry("student", "FORCE=1")
    assert 'tools/grade.py "some/nb.ipynb"' in dry("grade", "NB=some/nb.ipynb")


# ----------------------------------------------------------------- grading

def test_grade_reports_each_exercise_despite_errors_timeouts_and_tampering(tmp_path, capsys):
    reference = write(synthetic_chapter(), tmp_path / "reference" / "99_synthetic.ipynb")
    nb = student.student_edition(synthetic_chapter())
    nb.cells[solution_index(nb, 1)].source = "def double(x):\n    return 3 * x"  # wrong
    nb.cells[solution_index(nb, 1) + 1].source = "pass"  # a tampered check: the locked one runs
    nb.cells[solution_index(nb, 2)].source = "def square(x):\n    return x *"  # syntax error
    del nb.cells[solution_index(nb, 2) + 1]  # a deleted check
    nb.cells[solution_index(nb, 3)].source = "while True:\n    pass"  # never ends
    # Exercise 4 is solved and uses `np` from the setup cell: it passes only if the fresh
    # kernel that replaced the timed-out one replayed the setup.
    nb.cells[solution_index(nb, 4)].source = "def halve(x):\n    return float(np.divide(x, 2))"
    path = write(nb, tmp_path / "student" / "99_synthetic.ipynb")

    code = grade.main([str(path), "--timeout", "3", "--reference", str(reference)])
    out = capsys.readouterr().out
    assert code == 0

    def line(pattern):
        assert re.search(pattern, out, flags=re.M), f"no line matches {pattern!r} in\n{out}"

    line(r"^\s*FAIL\s+Exercise 1: Double\s+0/2\s+AssertionError: double\(3\) should be 6$")
    assert "hint: multiply" not in out  # only the first line of the message
    line(r"^\s*FAIL\s+Exercise 2: Square\s+0/3\s+\(check cell missing")
    line(r"^\s*your answer cell: SyntaxError")
    line(r"^\s*FAIL\s+Exercise 3: Sum\s+0/1\s+NameError")
    line(r"^\s*your answer cell: timed out after 3 s")
    line(r"^\s*PASS\s+Exercise 4: Halve\s+4/4$")
    assert "Total: 4/10 points (1 of 4 exercises passed)" in out


@pytest.mark.parametrize("content, words", [(None, "no such file"), ("hi", "not a Jupyter"),
                                            ("nb", "no exercises")])
def test_grade_tool_errors_exit_nonzero(tmp_path, capsys, content, words):
    path = tmp_path / "x.ipynb"
    if content == "nb":
        write(new_notebook(cells=[new_code_cell("1")]), path)
    elif content is not None:
        path.write_text(content)
    assert grade.main([str(path)]) == 2
    assert words in capsys.readouterr().err


# ----------------------------------------------------------------- the real chapters

def _chapters_with_exercises():
    return [p for p in nbt.chapters() if nbt.exercises(nbt.read(p))]


@pytest.mark.parametrize("path", _chapters_with_exercises(), ids=lambda p: p.stem)
def test_grader_runs_every_locked_check_of_a_chapter(path):
    chapter = nbt.read(path)
    plan, exercises, missing = grade._plan(student.student_edition(chapter), chapter)
    checks = {k: source for source, k, role in plan if role == "check"}
    assert not missing and len(exercises) >= 3
    assert [checks[k] for k in range(len(exercises))] == [
        chapter.cells[ex.check].source for ex in exercises]


def _run_exercises(kernel, nb, setup):
    """Run the setup cells, then the exercise section; {check grade_id: CellResult}."""
    for source in setup:
        result = kernel.run(source, keep=True)
        assert result.ok, f"a setup cell fails: {result.message()}"
    results = {}
    for i in nbt.exercise_section(nb):
        cell = nb.cells[i]
        if cell.cell_type == "code":
            result = kernel.run(cell.source, keep=not nbt.is_check(cell))
            results[nbt.nbgrader(cell).get("grade_id", f"cell {i}")] = result
    return results


@pytest.mark.parametrize("path", _chapters_with_exercises(), ids=lambda p: p.stem)
def test_every_exercise_is_real(path):
    """In the student edition every check fails; with the solutions in place every cell passes.

    One kernel per chapter: the student edition first, then the setup again (fresh seeds) and
    the solutions, which redefine every name the student edition touched.
    """
    chapter = nbt.read(path)
    setup = [c.source for c in chapter.cells if nbt.is_setup(c)]
    checks = {nbt.nbgrader(chapter.cells[ex.check])["grade_id"] for ex in nbt.exercises(chapter)}
    with nbt.Kernel(cwd=path.parent, timeout=120) as kernel:
        blank = _run_exercises(kernel, student.student_edition(chapter), setup)
        solved = _run_exercises(kernel, chapter, setup)
    passing = sorted(gid for gid in checks if blank[gid].ok)
    assert not passing, f"{path.name}: these checks pass without an answer: {passing}"
    failing = {gid: r.message() for gid, r in solved.items() if not r.ok}
    assert not failing, f"{path.name}: with the solutions these cells fail: {failing}"
