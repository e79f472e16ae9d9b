"""Grade a student's notebook: run it headless and print, per exercise, pass/fail and points.

    python tools/grade.py build/student/01_autograd.ipynb [--timeout 60] [--reference PATH]
    make grade NB=build/student/01_autograd.ipynb

What runs: the setup cells, then every code cell of the `## Exercises` section, one at a time
in one kernel. An error in a cell is recorded and grading goes on, so a syntax error in one
answer costs that exercise only. A cell that runs longer than --timeout seconds is stopped
and the kernel is replaced by a fresh one that replays the setup and the earlier answers.

The checks are locked: when the chapter the notebook came from is found (notebooks/ with the
same file name, or --reference), its setup and check cells are the ones that run, so an edited
or deleted check cannot change the grade; the points come from it too.

Exit status 0 whenever a report was printed, failing exercises included; 2 for a tool error
(no such file, not a notebook, no exercises, the setup cells fail).
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import notebook_tools as nbt


def _plan(nb, ref):
    """The cells to run, as (source, exercise index or None, role), and the exercise list.

    role is "setup", "solution", "check" or "other" (a helper or scratch cell).
    """
    exercises = nbt.exercises(ref)
    by_check = {ex.grade_id: k for k, ex in enumerate(exercises)}
    solution_of = {nbt.nbgrader(ref.cells[ex.solution]).get("grade_id"): k
                   for k, ex in enumerate(exercises) if ex.solution is not None}
    plan = [(c.source, None, "setup") for c in ref.cells if nbt.is_setup(c)]
    seen = set()
    for i in nbt.exercise_section(nb):
        cell = nb.cells[i]
        if cell.cell_type != "code":
            continue
        gid = nbt.nbgrader(cell).get("grade_id")
        if nbt.is_check(cell) and gid in by_check:
            k = by_check[gid]
            plan.append((ref.cells[exercises[k].check].source, k, "check"))  # the locked source
            seen.add(k)
        elif nbt.is_solution(cell) and gid in solution_of:
            plan.append((cell.source, solution_of[gid], "solution"))
        elif not nbt.is_check(cell):
            plan.append((cell.source, None, "other"))
    return plan, exercises, [k for k in range(len(exercises)) if k not in seen]


def grade(path: pathlib.Path, reference: pathlib.Path | None, timeout: float) -> int:
    nb = nbt.read(path)
    ref = nbt.read(reference) if reference else nb
    plan, exercises, missing = _plan(nb, ref)
    if not exercises:
        print(f"{path}: no exercises found (no cell has nbgrader metadata grade: true)",
              file=sys.stderr)
        return 2
    print(f"Grading {path}" + (f" (checks from {reference})" if reference else "")
          + f", {timeout:g} s per cell")

    solution_error: dict[int, nbt.CellResult] = {}
    check_result: dict[int, nbt.CellResult] = {}
    with nbt.Kernel(cwd=path.parent.resolve(), timeout=timeout) as kernel:
        for source, k, role in plan:
            result = kernel.run(source, keep=role != "check")
            if role == "setup" and not result.ok:
                print(f"\nThe setup cells fail, so nothing can be graded: {result.message()}\n"
                      f"Is from_scratch installed in this environment? (make lab, or "
                      f"pip install -e .)", file=sys.stderr)
                return 2
            if role == "solution" and not result.ok:
                solution_error[k] = result
            elif role == "check":
                check_result[k] = result

    width = max(len(ex.title) for ex in exercises)
    total = earned = passed = 0
    for k, ex in enumerate(exercises):
        result = check_result.get(k)
        ok = result is not None and result.ok
        points = ex.points if ok else 0
        total, earned, passed = total + ex.points, earned + points, passed + ok
        line = f"  {'PASS' if ok else 'FAIL'}  {ex.title:<{width}}  {points:g}/{ex.points:g}"
        if k in missing:
            line += "  (check cell missing from the notebook)"
        elif not ok:
            line += f"  {result.message()}"
        print(line)
        if k in solution_error and not ok:
            print(f"        your answer cell: {solution_error[k].message()}")
    print(f"Total: {earned:g}/{total:g} points ({passed} of {len(exercises)} exercises passed)")
    return 0


def _reference(path: pathlib.Path, given: pathlib.Path | None) -> pathlib.Path | None:
    if given is not None:
        return given
    candidate = nbt.ROOT / "notebooks" / path.name
    return candidate if candidate.exists() and candidate.resolve() != path.resolve() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebook", type=pathlib.Path)
    parser.add_argument("--timeout", type=float, default=60, help="seconds per cell (60)")
    parser.add_argument("--reference", type=pathlib.Path, default=None,
                        help="the instructor's notebook whose setup and check cells to use "
                             "(default: notebooks/<same name> if it exists)")
    parser.add_argument("--no-reference", action="store_true",
                        help="use the notebook's own setup and check cells")
    args = parser.parse_args(argv)
    for p in (args.notebook, args.reference):
        if p is not None and not p.is_file():
            print(f"{p}: no such file", file=sys.stderr)
            return 2
    reference = None if args.no_reference else _reference(args.notebook, args.reference)
    try:
        return grade(args.notebook, reference, args.timeout)
    except ValueError as e:  # not a notebook
        print(e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
