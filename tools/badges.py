"""Keep every link to the repository in step with the one URL in pyproject.toml.

    python tools/badges.py --check   # list what disagrees; exit 1 if anything does
    python tools/badges.py --fix     # rewrite it in place
    python tools/badges.py --table   # print the chapter table of docs/INSTRUCTORS.md

The repository URL lives in one place, `[project.urls] Repository` in pyproject.toml. From it
come each chapter's Binder and Colab badges (first cell), the Colab install line of each
chapter's setup cell, the README's Binder/Colab links, and the chapter table (time, exercises,
assumptions, read from the chapters themselves) in docs/INSTRUCTORS.md.
"""

from __future__ import annotations

import argparse
import pathlib
import re
import sys

import notebook_tools as nbt

COLAB_CELL = """\
# On Colab, install the book's library first (locally and on Binder it is already installed).
import sys

if "google.colab" in sys.modules:
    %pip install --quiet "from_scratch @ git+{url}\""""
TIME = re.compile(r"\*\*Time:\*\*\s*about (\d+) minutes? to read, (\d+) seconds? to run\.")
TABLE_BEGIN, TABLE_END = "<!-- chapter-table: begin -->", "<!-- chapter-table: end -->"
# Any Binder/Colab/pip-from-GitHub link, with the OWNER/REPO it points at as group 1.
REPO_LINK = re.compile(r"(?:mybinder\.org/v2/gh|colab\.research\.google\.com/github"
                       r"|git\+https://github\.com)/([\w.-]+/[\w.-]+?)(?=[/?\"'\s)]|\.git|$)")


def repository_url(root: pathlib.Path = nbt.ROOT) -> str:
    """`[project.urls] Repository` from pyproject.toml, e.g. https://github.com/OWNER/REPO."""
    text = (root / "pyproject.toml").read_text(encoding="utf-8")
    try:
        import tomllib  # Python 3.11+

        url = tomllib.loads(text)["project"]["urls"]["Repository"]
    except ImportError:  # Python 3.10: the one line we need is simple enough to find
        m = re.search(r'(?m)^\[project\.urls\][^\[]*?^Repository\s*=\s*"([^"]+)"', text)
        if not m:
            raise ValueError("pyproject.toml has no [project.urls] Repository") from None
        url = m.group(1)
    url = url.rstrip("/").removesuffix(".git")
    if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
        raise ValueError(f"Repository = {url!r} in pyproject.toml: Binder and Colab badges need "
                         f"a GitHub URL of the form https://github.com/OWNER/REPO")
    return url


def slug(url: str) -> str:
    """OWNER/REPO of a GitHub URL."""
    return url.removeprefix("https://github.com/")


def badge_line(url: str, name: str) -> str:
    """The Binder and Colab badges of the chapter file `name` (e.g. 01_autograd.ipynb)."""
    s = slug(url)
    return (f"[![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/{s}/"
            f"HEAD?labpath=notebooks%2F{name}) "
            f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"(https://colab.research.google.com/github/{s}/blob/main/notebooks/{name})")


def colab_cell(url: str) -> str:
    """The first setup cell of every chapter, verbatim."""
    return COLAB_CELL.format(url=url)


def _fix_links(text: str, url: str) -> str:
    return REPO_LINK.sub(lambda m: m.group(0).replace(m.group(1), slug(url)), text)


def chapter_problems(nb, name: str, url: str) -> list[str]:
    """What in one chapter disagrees with the repository URL (empty when all agree)."""
    problems = []
    first = nb.cells[0].source if nb.cells else ""
    badge_lines = [ln for ln in first.splitlines() if "mybinder.org" in ln or "colab." in ln]
    if badge_lines != [badge_line(url, name)]:
        problems.append(f"{name}: the first cell's badges line is not the expected one "
                        f"{badge_line(url, name)!r}")
    setup = [c for c in nb.cells if nbt.is_setup(c)]
    if not setup or setup[0].source != colab_cell(url):
        problems.append(f"{name}: the first setup cell is not the Colab install cell for {url}")
    for i, cell in enumerate(nb.cells):
        for m in REPO_LINK.finditer(cell.source):
            if m.group(1) != slug(url):
                problems.append(f"{name}, cell {i}: links to {m.group(1)}, not {slug(url)}")
    return problems


def fix_chapter(nb, name: str, url: str) -> bool:
    """Rewrite the badges line, the install line and other repository links; True if changed."""
    before = [c.source for c in nb.cells]
    first = nb.cells[0]
    lines = [ln for ln in first.source.splitlines() if "mybinder.org" not in ln
             and "colab." not in ln]
    title = next((k for k, ln in enumerate(lines) if ln.startswith("# ")), -1)
    lines.insert(title + 1, badge_line(url, name))
    first.source = "\n".join(lines)
    for cell in nb.cells:
        cell.source = _fix_links(cell.source, url)
    return before != [c.source for c in nb.cells]


def readme_problems(text: str, url: str) -> list[str]:
    """README links that point elsewhere, and a missing Binder badge for the repository."""
    problems = [f"README.md links to {m.group(1)}, not {slug(url)}"
                for m in REPO_LINK.finditer(text) if m.group(1) != slug(url)]
    if f"https://mybinder.org/v2/gh/{slug(url)}/" not in text:
        problems.append(f"README.md has no Binder badge for {slug(url)}; add e.g. "
                        f"[![Binder](https://mybinder.org/badge_logo.svg)]"
                        f"(https://mybinder.org/v2/gh/{slug(url)}/HEAD?labpath=notebooks)")
    return problems


# ----------------------------------------------------------------- the chapter table

def chapter_row(path: pathlib.Path, nb) -> str:
    """One table row: chapter, reading and running time, exercises, what it assumes."""
    first = nb.cells[0].source if nb.cells else ""
    title = next((ln[2:].strip() for ln in first.splitlines() if ln.startswith("# ")), path.stem)
    t = TIME.search(first)
    read, run = (f"{t.group(1)} min", f"{t.group(2)} s") if t else ("?", "?")
    exercises = nbt.exercises(nb)
    points = sum(ex.points for ex in exercises)
    done = f"{len(exercises)} ({points:g} points)" if exercises else "none"
    # The Assumes paragraph may wrap over several lines: take it up to the next blank line.
    m = re.search(r"\*\*Assumes:\*\*(.*?)(?:\n\s*\n|\Z)", first, flags=re.S)
    assumes = " ".join(m.group(1).split()) if m else "?"
    return f"| [{title}](../notebooks/{path.name}) | {read} | {run} | {done} | {assumes} |"


def chapter_table(paths: list[pathlib.Path]) -> str:
    """The markdown table of every chapter, as docs/INSTRUCTORS.md shows it."""
    rows = ["| chapter | reading | running | exercises | assumes |",
            "| --- | --- | --- | --- | --- |"]
    rows += [chapter_row(p, nbt.read(p)) for p in paths]
    return "\n".join(rows)


def _with_table(doc: str, table: str) -> str | None:
    """`doc` with the text between the table markers replaced; None if there are no markers."""
    m = re.search(re.escape(TABLE_BEGIN) + r".*?" + re.escape(TABLE_END), doc, flags=re.S)
    if not m:
        return None
    return doc[:m.start()] + f"{TABLE_BEGIN}\n{table}\n{TABLE_END}" + doc[m.end():]


# ----------------------------------------------------------------- check and fix

def run(root: pathlib.Path = nbt.ROOT, fix: bool = False) -> list[str]:
    """Every disagreement with the repository URL and the chapters (after fixing, if `fix`)."""
    url = repository_url(root)
    problems = []
    chapters = nbt.chapters(root)
    for path in chapters:
        nb = nbt.read(path)
        if fix and fix_chapter(nb, path.name, url):
            nbt.write_atomic(nb, path)
        problems += chapter_problems(nb, path.name, url)
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.exists() else ""
    if fix and _fix_links(text, url) != text:
        readme.write_text(_fix_links(text, url), encoding="utf-8")
        text = _fix_links(text, url)
    problems += readme_problems(text, url)
    guide = root / "docs" / "INSTRUCTORS.md"
    doc = guide.read_text(encoding="utf-8") if guide.exists() else ""
    new = _with_table(doc, chapter_table(chapters))
    if new is None:
        problems.append(f"docs/INSTRUCTORS.md has no {TABLE_BEGIN} ... {TABLE_END} section")
    elif new != doc:
        if fix:
            guide.write_text(new, encoding="utf-8")
        else:
            problems.append("docs/INSTRUCTORS.md: the chapter table is out of date")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--check", action="store_true", help="report disagreements, exit 1 if any")
    group.add_argument("--fix", action="store_true", help="rewrite what disagrees")
    group.add_argument("--table", action="store_true", help="print the chapter table")
    args = parser.parse_args(argv)
    if args.table:
        print(chapter_table(nbt.chapters()))
        return 0
    problems = run(fix=args.fix)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} problem(s)" + ("" if args.fix else
              "; `python tools/badges.py --fix` rewrites badges, links and the table"))
        return 1
    print(f"badges, install lines, README and the chapter table agree with "
          f"{repository_url()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
