"""Write the student edition of the chapters: solutions removed, outputs cleared.

    python tools/student.py                    # every chapter -> build/student/
    python tools/student.py --force            # also overwrite student files that exist
    python tools/student.py notebooks/01_autograd.ipynb --out somewhere/

Each `### BEGIN SOLUTION` ... `### END SOLUTION` region becomes `# YOUR CODE HERE` /
`raise NotImplementedError()` (indented like the BEGIN line), as nbgrader does; a solution
cell without markers is replaced whole. Everything else stays as it is, outputs cleared.

A student's work is never lost: an existing file is skipped unless --force (make: FORCE=1).
Every chapter is converted in memory first, so one bad chapter writes nothing at all; each
file is written atomically. The tool refuses to write into notebooks/.
"""

from __future__ import annotations

import argparse
import copy
import pathlib
import sys

import notebook_tools as nbt


def student_edition(nb, name: str = "notebook"):
    """A copy of `nb` with every solution region replaced by a stub and all outputs cleared.

    Raises MarkerError naming the notebook and cell when markers do not pair up, or when a
    check (graded, locked) cell contains a solution region.
    """
    nb = copy.deepcopy(nb)
    for i, cell in enumerate(nb.cells):
        meta = nbt.nbgrader(cell)
        where = f"{name}, cell {i}" + (f" ({meta['grade_id']})" if "grade_id" in meta else "")
        if cell.cell_type in ("code", "markdown"):
            stub = nbt.CODE_STUB if cell.cell_type == "code" else nbt.TEXT_STUB
            source, found = nbt.strip_solution(cell.source, stub, where)
            if found and nbt.is_check(cell):
                raise nbt.MarkerError(f"{where}: a check cell contains a solution region; "
                                      f"move the answer into the solution cell above it")
            if not found and nbt.is_solution(cell):
                source = "\n".join(stub)  # nbgrader's rule: no markers, all of it is the answer
            cell.source = source
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata.pop("widgets", None)
    return nb


def _inside(path: pathlib.Path, folder: pathlib.Path) -> bool:
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path,
                        help="chapters to convert (default: notebooks/NN_*.ipynb)")
    parser.add_argument("--out", type=pathlib.Path, default=nbt.ROOT / "build" / "student",
                        help="output folder (default: build/student)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite student notebooks that already exist")
    args = parser.parse_args(argv)

    sources = args.notebooks or nbt.chapters()
    if not sources:
        print("no chapters found in notebooks/", file=sys.stderr)
        return 1
    if _inside(args.out, nbt.ROOT / "notebooks"):
        print(f"refusing to write into {args.out}: the student edition never goes into "
              f"notebooks/ (it would replace the chapters). Use --out build/student.",
              file=sys.stderr)
        return 1

    editions, errors = [], []
    for src in sources:
        try:
            editions.append((args.out / src.name, student_edition(nbt.read(src), str(src))))
        except (ValueError, OSError) as e:  # MarkerError is a ValueError; so is "not a notebook"
            errors.append(str(e))
    if errors:
        print("student edition NOT written (nothing was changed):", file=sys.stderr)
        for e in errors:
            print(f"  {e}", file=sys.stderr)
        return 1

    written, skipped = [], []
    for dest, nb in editions:
        if dest.exists() and not args.force:
            skipped.append(dest)
            continue
        nbt.write_atomic(nb, dest)
        written.append(dest)
    for dest in written:
        print(f"wrote   {_show(dest)}")
    for dest in skipped:
        print(f"skipped {_show(dest)} (it exists and may hold a student's work)")
    if skipped:
        print(f"{len(skipped)} file(s) kept as they were. To overwrite them: make student FORCE=1 "
              f"(or tools/student.py --force)")
    return 0


def _show(path: pathlib.Path) -> str:
    try:
        return str(path.resolve().relative_to(pathlib.Path.cwd()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
