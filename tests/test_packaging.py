"""Packaging and house rules: one list of dependencies, explicit packages, light imports,
no module-search-path edits, a library that never prints, and the two commands documented."""

from __future__ import annotations

import ast
import importlib.util
import json
import pathlib
import re
import subprocess
import sys

import pytest

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = pathlib.Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# Written so that this file does not match itself.
SYS_PATH_EDIT = re.compile(r"\bsys\s*\.\s*path\s*(\.\s*(insert|append|extend)\b|\[|\+=|=(?!=))")


def _normalise(requirement: str) -> str:
    """'scikit_learn >= 1.1' -> 'scikit-learn>=1.1' (names are case- and -_.-insensitive)."""
    requirement = requirement.replace(" ", "")
    m = re.match(r"([A-Za-z0-9_.-]+)(.*)", requirement)
    return re.sub(r"[-_.]+", "-", m.group(1)).lower() + m.group(2)


def parse_environment_yml(text: str) -> tuple[list[str], list[str]]:
    """The conda dependencies and the pip dependencies of a simple environment.yml.

    Enough YAML for this file (PyYAML is not a dependency): `dependencies:` followed by
    `- item` lines, one of which may be `- pip:` with a more deeply indented list of its own.
    """
    conda, pip = [], []
    section, pip_indent = None, None
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if indent == 0:
            section = line.strip().rstrip(":")
            continue
        if section != "dependencies" or not line.lstrip().startswith("- "):
            continue
        item = line.strip()[2:].strip().strip("'\"")
        if pip_indent is not None and indent > pip_indent:
            pip.append(item)
        elif item == "pip:":
            pip_indent = indent
        else:
            pip_indent = None
            conda.append(item)
    return conda, pip


def test_environment_yml_parser_reads_pip_section():
    conda, pip = parse_environment_yml(
        "name: x\n# comment\ndependencies:\n  - numpy>=1.23  # why\n  - pip\n  - pip:\n"
        "      - -e .\n      - 'foo==1'\n  - ruff\nchannels:\n  - conda-forge\n")
    assert conda == ["numpy>=1.23", "pip", "ruff"]
    assert pip == ["-e .", "foo==1"]


def test_environment_yml_and_pyproject_name_the_same_dependencies():
    conda, pip = parse_environment_yml((ROOT / "environment.yml").read_text(encoding="utf-8"))
    project = PYPROJECT["project"]
    wanted = {_normalise(r) for r in project["dependencies"]}
    wanted |= {_normalise(r) for r in project["optional-dependencies"]["dev"]}
    have = {_normalise(r) for r in conda if not re.match(r"(python|pip)\b", r)}
    assert have == wanted, (f"only in environment.yml: {sorted(have - wanted)}; "
                            f"only in pyproject.toml (runtime + dev): {sorted(wanted - have)}")
    assert pip == ["-e ."], "environment.yml must install the package itself: pip: [-e .]"


def test_runtime_dependencies_are_lower_bounds_only():
    # Colab already has numpy, matplotlib and scikit-learn: an upper bound or a pin would make
    # the setup cell reinstall them (and numpy cannot be replaced in a running session).
    for requirement in PYPROJECT["project"]["dependencies"]:
        assert re.fullmatch(r"[A-Za-z0-9_.-]+>=[0-9.]+", requirement.replace(" ", "")), requirement


def test_pyproject_lists_every_package_explicitly():
    packages = PYPROJECT["tool"]["setuptools"]["packages"]
    assert isinstance(packages, list), "list the packages; automatic discovery trips on notebooks/"
    found = sorted(".".join(p.parent.relative_to(ROOT).parts)
                   for p in (ROOT / "from_scratch").rglob("__init__.py")
                   if "__pycache__" not in p.parts)
    assert sorted(packages) == found, (
        f"[tool.setuptools] packages = {packages}, but the source has {found}: a package "
        f"missing from the list is missing from a non-editable install (Colab)")


def _python_files(*folders: str) -> list[pathlib.Path]:
    return [p for folder in folders for p in sorted((ROOT / folder).rglob("*.py"))
            if ".ipynb_checkpoints" not in p.parts]


def test_nothing_edits_the_module_search_path():
    offenders = [str(p.relative_to(ROOT)) for p in
                 _python_files("from_scratch", "tests", "tools", "benchmarks")
                 if SYS_PATH_EDIT.search(p.read_text(encoding="utf-8"))]
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        if any(SYS_PATH_EDIT.search("".join(c["source"])) for c in cells):
            offenders.append(str(nb.relative_to(ROOT)))
    assert not offenders, f"edit the module search path (install the package instead): {offenders}"


def test_the_search_path_pattern_catches_edits():
    name = "sys" + ".path"  # spelled apart so that this file passes the test above
    for edit in [".insert(0, '..')", ".append(x)", "[0:0] = ['.']", " += ['..']", " = ['.']"]:
        assert SYS_PATH_EDIT.search(name + edit), name + edit
    assert not SYS_PATH_EDIT.search(f"print({name})")
    assert not SYS_PATH_EDIT.search(f"{name} == []")


def test_library_code_never_prints():
    offenders = []
    for path in _python_files("from_scratch"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id == "print":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, f"library code returns values or raises, it never prints: {offenders}"


def test_importing_the_library_stays_light():
    # Every module of the package, not only __init__: heavy imports belong inside functions.
    modules = ["from_scratch"] + [
        "from_scratch." + ".".join(p.relative_to(ROOT / "from_scratch").with_suffix("").parts)
        for p in _python_files("from_scratch") if p.name != "__init__.py"]
    code = (f"import importlib, sys\nfor m in {modules!r}:\n    importlib.import_module(m)\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'matplotlib', 'sklearn', 'scipy', 'torch', 'pandas'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT / "tests", timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", f"importing from_scratch imported {out.stdout.strip()}"


def test_readme_shows_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in ("make lab", "make test"):
        assert command in readme, f"README.md must show `{command}`"


def test_ci_runs_the_readme_test_command():
    lines = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()
             if ln.strip() and not ln.strip().startswith("#")]
    assert "make test" in lines, "CI must run `make test`, the README's command"


def _badges_tool():
    if "badges" not in sys.modules:
        for name in ("notebook_tools", "badges"):
            spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module  # badges.py imports notebook_tools by this name
            spec.loader.exec_module(module)
    return sys.modules["badges"]


def test_colab_install_derives_from_the_repository_url_and_keeps_numpy():
    badges = _badges_tool()
    url = PYPROJECT["project"]["urls"]["Repository"]
    cell = badges.colab_cell(badges.repository_url(ROOT))
    assert f'"from_scratch @ git+{url}"' in cell
    assert '"google.colab" in sys.modules' in cell
    install = next(ln for ln in cell.splitlines() if "pip install" in ln)
    for flag in (" -e ", "--editable", "--upgrade", " -U ", "--force-reinstall",
                 "--ignore-installed", "eager"):
        assert flag not in install, f"the Colab install must not use {flag.strip()}"


def test_badges_readme_and_chapter_table_agree_with_pyproject():
    problems = _badges_tool().run(ROOT, fix=False)
    assert not problems, "\n".join(problems) + "\nFix: python tools/badges.py --fix"


def test_badges_check_notices_a_wrong_repository(tmp_path):
    badges = _badges_tool()
    for name in ("pyproject.toml", "README.md"):
        if (ROOT / name).exists():
            (tmp_path / name).write_text((ROOT / name).read_text(encoding="utf-8"))
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "INSTRUCTORS.md").write_text(
        f"{badges.TABLE_BEGIN}\nold\n{badges.TABLE_END}\n")
    chapter = ROOT / "notebooks" / "00_setup.ipynb"
    text = chapter.read_text(encoding="utf-8")
    (tmp_path / "notebooks" / chapter.name).write_text(
        text.replace(badges.slug(badges.repository_url(ROOT)), "someone/else"))
    problems = badges.run(tmp_path)
    assert any("00_setup.ipynb: the first cell's badges" in p for p in problems)
    assert any("Colab install cell" in p for p in problems)
    assert any("chapter table is out of date" in p for p in problems)
    badges.run(tmp_path, fix=True)
    assert [p for p in badges.run(tmp_path) if "README" not in p] == []
