"""Every chapter follows the template of CONTRIBUTING.md, and nbval really compares outputs.

The template checks read the stored notebooks (no kernel): title, badges, time, objectives,
setup cells with the Colab cell, exercises with nbgrader metadata, key points last, and
that the chapter was executed top to bottom without errors.
"""

from __future__ import annotations

import importlib.util
import json
import pathlib
import re
import shutil
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
NO_EXERCISES = {"00"}  # the setup check has the template minus the exercises


def _load_tool(name: str):
    """Import tools/<name>.py by file name (tools/ is not a package and is not on the path)."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # badges.py imports notebook_tools by this name
        spec.loader.exec_module(module)
    return sys.modules[name]


nbt = _load_tool("notebook_tools")
badges = _load_tool("badges")
URL = badges.repository_url(ROOT)
SYS_PATH_EDIT = re.compile(r"\bsys\s*\.\s*path\s*(\.\s*(insert|append|extend)\b|\[|\+=|=(?!=))")


def _without_code_blocks(text: str) -> str:
    return re.sub(r"```.*?```", "", text, flags=re.S)


def _number(path: pathlib.Path) -> str:
    return path.name[:2]


def _first_cell_problems(path, nb) -> list[str]:
    if not nb.cells or nb.cells[0].cell_type != "markdown":
        return ["the first cell must be markdown (title, badges, time, objectives)"]
    lines = nb.cells[0].source.splitlines()
    problems = []
    title = re.fullmatch(rf"# {_number(path)} · \S.*", lines[0]) if lines else None
    if not title:
        problems.append(f"the first line must be '# {_number(path)} · Title', got {lines[:1]}")

    def where(pattern):
        return next((k for k, ln in enumerate(lines) if re.search(pattern, ln)), None)

    order = {"badges": where(re.escape(badges.badge_line(URL, path.name))),
             "time": where(badges.TIME.pattern),
             "objectives": where(r"^\*\*You will learn to:\*\*\s*$"),
             "assumes": where(r"^\*\*Assumes:\*\*\s*\S")}
    for name, k in order.items():
        if k is None:
            problems.append(f"the first cell has no {name} line in the template's form")
    found = [k for k in order.values() if k is not None]
    if found != sorted(found):
        problems.append("the first cell must give badges, time, objectives, assumes in that order")
    if order["objectives"] is not None:
        bullets = [ln for ln in lines[order["objectives"] + 1:] if ln.strip()]
        if not bullets or not bullets[0].startswith("- "):
            problems.append("**You will learn to:** must be followed by a bullet list")
    return problems


def _heading_problems(nb) -> list[str]:
    problems = []
    markdown = [_without_code_blocks(c.source) for c in nb.cells if c.cell_type == "markdown"]
    titles = [ln for text in markdown for ln in text.splitlines() if re.match(r"# \S", ln)]
    if len(titles) != 1:
        problems.append(f"a chapter has exactly one '#' heading, found {len(titles)}: {titles}")
    sections = [h for c in nb.cells if (h := nbt.heading(c, 2)) is not None]
    numbered = [h for h in sections if h not in ("Exercises", "Key points")]
    numbers = [int(m.group(1)) if (m := re.match(r"(\d+)\. \S", h)) else None for h in numbered]
    if not numbered or numbers != list(range(1, len(numbered) + 1)):
        problems.append(f"sections must be '## 1. ...', '## 2. ...' in order, got {numbered}")
    for i, c in enumerate(nb.cells):  # a heading inside a cell would be invisible to the checks
        later = _without_code_blocks(c.source).strip().splitlines()[1:] \
            if c.cell_type == "markdown" else []
        if any(re.match(r"#{2,3}\s", ln) for ln in later):
            problems.append(f"cell {i}: a '##' or '###' heading must start its own markdown cell")
    last = nb.cells[-1]
    if nbt.heading(last, 2) != "Key points" or "\n- " not in last.source:
        problems.append("the last cell must be '## Key points' with a bullet list")
    return problems


def _setup_problems(nb) -> list[str]:
    problems = []
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not code or not nbt.is_setup(code[0]) or code[0].source != badges.colab_cell(URL):
        problems.append("the first code cell must be the Colab install cell of CONTRIBUTING.md, "
                        "verbatim, tagged 'setup' (tools/badges.py --fix rewrites its URL)")
    setup = [i for i, c in enumerate(nb.cells) if nbt.is_setup(c)]
    first_section = next((i for i, c in enumerate(nb.cells) if nbt.heading(c, 2)), len(nb.cells))
    if len(setup) < 2 or max(setup) > first_section:
        problems.append("the Colab cell and an imports cell, both tagged 'setup', must come "
                        "before the first '##' section")
    if not any(re.search(r"^\s*import from_scratch as fs\b", nb.cells[i].source, flags=re.M)
               for i in setup):
        problems.append("a setup cell must `import from_scratch as fs`")
    for i, c in enumerate(nb.cells):
        if SYS_PATH_EDIT.search(c.source):
            problems.append(f"cell {i} edits the module search path; the package is installed")
    return problems


def _marker_problem(source: str) -> str | None:
    """Why a solution cell's markers are wrong, or None: it needs one or more regions, each a
    '### BEGIN SOLUTION' line and then a '### END SOLUTION' line, not nested (several regions
    let a class keep its skeleton in the student edition, one region per method body)."""
    marks = [ln.strip() for ln in source.splitlines() if "SOLUTION" in ln]
    pairs = ["### BEGIN SOLUTION", "### END SOLUTION"] * (len(marks) // 2)
    if marks and marks == pairs:
        return None
    return (f"the solution cell needs one or more regions, each a '### BEGIN SOLUTION' line "
            f"and then a '### END SOLUTION' line (paired, not nested), got {marks}")


def _exercise_problems(path, nb) -> list[str]:
    """Exercise k: heading, solution cell, check cell, with the nbgrader metadata."""
    problems, nn = [], _number(path)
    section = nbt.exercise_section(nb)
    if not section:
        return ["no '## Exercises' section"]
    heads = [i for i in section if nbt.heading(nb.cells[i], 3)]
    if len(heads) < 3:
        problems.append(f"at least three exercises, found {len(heads)}")
    for k, i in enumerate(heads, start=1):
        h = nbt.heading(nb.cells[i], 3)
        m = re.fullmatch(rf"Exercise {k}: (.+) \((\d+) points?\)", h)
        if not m:
            problems.append(f"cell {i}: '### Exercise {k}: title (P points)' expected, got {h!r}")
            continue
        points = int(m.group(2))
        sol, chk = nb.cells[i + 1:i + 2], nb.cells[i + 2:i + 3]
        want_sol = {"grade": False, "grade_id": f"ch{nn}-ex{k}", "locked": False,
                    "schema_version": 3, "solution": True, "task": False}
        want_chk = {"grade": True, "grade_id": f"ch{nn}-ex{k}-check", "locked": True,
                    "points": points, "schema_version": 3, "solution": False, "task": False}
        if not sol or sol[0].cell_type != "code" or nbt.nbgrader(sol[0]) != want_sol:
            problems.append(f"exercise {k}: the cell after the heading must be the solution "
                            f"cell with nbgrader metadata {want_sol}")
        elif (problem := _marker_problem(sol[0].source)) is not None:
            problems.append(f"exercise {k}: {problem}")
        if not chk or chk[0].cell_type != "code" or nbt.nbgrader(chk[0]) != want_chk:
            problems.append(f"exercise {k}: the cell after the solution must be the check cell "
                            f"with nbgrader metadata {want_chk}")
    for i, c in enumerate(nb.cells):
        if ("BEGIN SOLUTION" in c.source or "END SOLUTION" in c.source) and not nbt.is_solution(c):
            problems.append(f"cell {i} has solution markers but is not a solution cell")
    ids = [nbt.nbgrader(c)["grade_id"] for c in nb.cells if "grade_id" in nbt.nbgrader(c)]
    if len(ids) != len(set(ids)):
        problems.append(f"grade_ids must be unique: {ids}")
    return problems


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_follows_the_template(path):
    nb = nbt.read(path)
    problems = _first_cell_problems(path, nb) + _heading_problems(nb) + _setup_problems(nb)
    if nb.metadata.get("kernelspec", {}).get("name") != "python3":
        problems.append("the kernel must be 'python3'")
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("path", [p for p in CHAPTERS if _number(p) not in NO_EXERCISES],
                         ids=lambda p: p.stem)
def test_chapter_exercises_follow_the_template(path):
    problems = _exercise_problems(path, nbt.read(path))
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


def _execution_problems(path, nb) -> list[str]:
    problems = []
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    counts = [c.execution_count for c in code]
    if counts != list(range(1, len(code) + 1)):
        problems.append(f"execution counts {counts}: run `tools/run_notebooks.py "
                        f"notebooks/{path.name}` (one fresh kernel, top to bottom)")
    errors = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
              and any(o.output_type == "error" for o in c.outputs)]
    if errors:
        problems.append(f"cells {errors} have stored error outputs")
    return problems


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_was_executed_top_to_bottom_without_errors(path):
    problems = _execution_problems(path, nbt.read(path))
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


def _all_problems(path, nb) -> list[str]:
    return (_first_cell_problems(path, nb) + _heading_problems(nb) + _setup_problems(nb)
            + _exercise_problems(path, nb) + _execution_problems(path, nb))


def _code(nb, k):
    return [c for c in nb.cells if c.cell_type == "code"][k]


def _by_id(nb, gid):
    return next(c for c in nb.cells if nbt.nbgrader(c).get("grade_id") == gid)


MUTATIONS = {  # name: (how to break a good chapter, words the report must contain)
    "no badges": (lambda nb, nn: setattr(nb.cells[0], "source", re.sub(
        r"\[!\[Binder.*", "", nb.cells[0].source)), "no badges line"),
    "two titles": (lambda nb, nn: nb.cells.insert(3, new_markdown_cell("# Another")),
                   "exactly one '#' heading"),
    "editable colab install": (lambda nb, nn: setattr(_code(nb, 0), "source", _code(
        nb, 0).source.replace("--quiet", "--quiet -e")), "Colab install cell"),
    "unlocked check": (lambda nb, nn: nbt.nbgrader(_by_id(nb, f"ch{nn}-ex1-check")).update(
        locked=False), "check cell with nbgrader metadata"),
    "points disagree": (lambda nb, nn: nbt.nbgrader(_by_id(nb, f"ch{nn}-ex2-check")).update(
        points=99), "check cell with nbgrader metadata"),
    "missing END": (lambda nb, nn: setattr(_by_id(nb, f"ch{nn}-ex1"), "source", _by_id(
        nb, f"ch{nn}-ex1").source.replace("### END SOLUTION", "", 1)), "paired, not nested"),
    "key points not last": (lambda nb, nn: nb.cells.append(new_markdown_cell("The end.")),
                            "'## Key points'"),
    "path edit": (lambda nb, nn: nb.cells.insert(5, new_code_cell(
        "import sys\nsys" + ".path.insert(0, '..')")), "edits the module search path"),
    "heading mid-cell": (lambda nb, nn: setattr(nb.cells[-1], "source", nb.cells[-1].source
                                                 + "\n\n## 9. Hidden"), "must start its own"),
    "stale counts": (lambda nb, nn: setattr(_code(nb, 1), "execution_count", 7),
                     "execution counts"),
}


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_template_checks_catch_a_broken_chapter(mutation):
    """Each check above can fail: break one thing in a good chapter and it is reported."""
    good = [p for p in CHAPTERS if _number(p) not in NO_EXERCISES
            and not _all_problems(p, nbt.read(p))]
    if not good:
        pytest.skip("no chapter with exercises passes every template check yet")
    path = good[0]
    nb = nbt.read(path)
    breaks, words = MUTATIONS[mutation]
    breaks(nb, _number(path))
    assert any(words in p for p in _all_problems(path, nb)), _all_problems(path, nb)


REGION = "    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n"


@pytest.mark.parametrize("source, ok", [
    ("def f():\n" + REGION, True),
    ("class A:\n    def f(self):\n    " + REGION.replace("\n    ", "\n        ")
     + "\n    def g(self):\n    " + REGION.replace("\n    ", "\n        "), True),
    ("def f():\n    return 1\n", False),                                   # no region
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n", False),            # missing END
    ("def f():\n" + REGION + "    ### END SOLUTION\n", False),             # END without BEGIN
    ("def f():\n    ### BEGIN SOLUTION\n" + REGION + "    ### END SOLUTION\n", False),  # nested
    ("def f():\n" + REGION.replace("###", "#"), False),                    # not the exact line
])
def test_solution_markers_pair_up_in_one_or_more_regions(source, ok):
    assert (_marker_problem(source) is None) == ok, _marker_problem(source)


def test_a_solution_cell_may_hold_two_regions():
    """A second proper region (e.g. one per method of a class) passes the template checks."""
    good = [p for p in CHAPTERS if _number(p) not in NO_EXERCISES
            and not _exercise_problems(p, nbt.read(p))]
    if not good:
        pytest.skip("no chapter with exercises passes the exercise checks yet")
    nb = nbt.read(good[0])
    cell = _by_id(nb, f"ch{_number(good[0])}-ex1")
    cell.source += "\n\n\ndef _helper():\n" + REGION
    assert not _exercise_problems(good[0], nb)


# ----------------------------------------------------------------- nbval compares

def _tiny_executed_notebook():
    """A chapter-like notebook with its outputs stored as a kernel would have written them."""
    cells = [new_markdown_cell("# 99 · Tiny"),
             new_code_cell("import time\nstart = time.perf_counter()\nprint(f'{6 * 7}')"),
             new_code_cell("print(f'{sum(range(10)) / 4:.4f}')"),
             # The elapsed time differs on every run: tests/nbval_sanitize.cfg must absorb it.
             new_code_cell("print(f'done in {time.perf_counter() - start:.3f} s')")]
    stored = ["42\n", "11.2500\n", "done in 0.001 s\n"]
    for count, (cell, text) in enumerate(zip(cells[1:], stored, strict=True), start=1):
        cell.execution_count = count
        cell.outputs = [new_output("stream", name="stdout", text=text)]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def test_nbval_fails_on_a_changed_output_and_passes_on_the_true_one(tmp_path):
    good = tmp_path / "good.ipynb"
    nbformat.write(_tiny_executed_notebook(), good)
    bad = tmp_path / "bad.ipynb"
    shutil.copy(good, bad)
    nb = nbformat.read(bad, as_version=4)
    nb.cells[2].outputs[0].text = "11.2501\n"  # one digit off
    nbformat.write(nb, bad)

    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # rootdir here, not the repository
    (tmp_path / "conftest.py").write_text(RECORDER)
    # A path outside tmp_path on the command line would make pytest pick the repository as
    # rootdir (and its config), so the project's sanitizer is copied next to the notebooks.
    shutil.copy(ROOT / "tests" / "nbval_sanitize.cfg", tmp_path)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env",
         "--nbval-sanitize-with", "nbval_sanitize.cfg",
         "-p", "no:cacheprovider", "-p", "no:randomly", "good.ipynb", "bad.ipynb"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    out = run.stdout + run.stderr
    outcome = json.loads((tmp_path / "outcomes.json").read_text())
    assert run.returncode == 1, out
    assert outcome.get("good.ipynb") == ["passed"] * 3, (outcome, out)
    assert outcome["bad.ipynb"] == ["passed", "failed", "passed"], out
    assert "11.2501" in out and "11.2500" in out, "nbval's report shows both values"


# Written next to the copies: records each cell's outcome by file (nbval's node ids vary).
RECORDER = """
import json, pathlib
outcomes = {}
def pytest_runtest_logreport(report):
    if report.when == "call":
        outcomes.setdefault(pathlib.Path(report.fspath).name, []).append(report.outcome)
def pytest_sessionfinish(session):
    pathlib.Path("outcomes.json").write_text(json.dumps(outcomes))
"""
