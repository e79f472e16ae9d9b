"""Check that this Python can run the book: versions, where from_scratch comes from, the data.

    >>> report = fs.check_environment()
    >>> print(report)       # what is installed, and for each problem how to fix it
    >>> report.problems     # [] when everything the chapters need works

Chapter 00 prints this report. It returns a value and never prints: the chapter decides.
"""

from __future__ import annotations

import importlib
import importlib.metadata as metadata
import json
import os
import platform
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

# The minimum versions come from the installed package's metadata (pyproject.toml), so they
# are written in one place; these are used only when from_scratch is not installed.
FALLBACK_MINIMUMS = {"numpy": "1.23", "matplotlib": "3.5", "scikit-learn": "1.1"}
IMPORT_NAMES = {"scikit-learn": "sklearn"}  # distribution name -> module name, where they differ
MNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


@dataclass
class EnvironmentReport:
    """What `check_environment()` found; `problems` lists what must be fixed, each with a fix."""

    python: str
    executable: str
    versions: dict[str, str | None]   # distribution name -> version, None if it does not import
    from_scratch_version: str
    location: str                     # the folder `import from_scratch` loads
    install: str                      # e.g. "editable install of /home/me/from_scratch"
    on_colab: bool
    data_dir: str
    mnist_cached: bool
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing needs fixing."""
        return not self.problems

    def __str__(self) -> str:
        rows = [("Python", f"{self.python} ({self.executable})")]
        rows += [(name, version or "does not import") for name, version in self.versions.items()]
        rows += [("from_scratch", f"{self.from_scratch_version}, {self.install}"),
                 ("  imported from", self.location),
                 ("Colab", "yes" if self.on_colab else "no"),
                 ("data cache", self.data_dir),
                 ("MNIST cached", "yes" if self.mnist_cached else "no")]
        width = max(len(name) for name, _ in rows)
        lines = [f"{name:<{width}}  {value}" for name, value in rows]
        lines.append("")
        lines += [f"PROBLEM: {p}" for p in self.problems] or ["No problems found."]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def version_tuple(version: str) -> tuple[int, ...]:
    """The leading numbers of a version string: '1.26.4' -> (1, 26, 4), '2.0.0rc1' -> (2, 0, 0)."""
    numbers = []
    for part in version.split("."):
        m = re.match(r"\d+", part)
        if not m:
            break
        numbers.append(int(m.group()))
        if m.group() != part:  # '0rc1': a pre-release tag ends the numeric part
            break
    return tuple(numbers)


def minimum_versions() -> dict[str, str]:
    """Runtime dependencies and their minimum versions, from the installed package metadata."""
    try:
        requirements = metadata.requires("from_scratch") or []
    except metadata.PackageNotFoundError:
        return dict(FALLBACK_MINIMUMS)
    found = {}
    for req in requirements:
        if ";" in req:  # extras (dev, bench) carry an environment marker; not needed to read
            continue
        m = re.match(r"\s*([A-Za-z0-9_.-]+)\s*>=\s*([0-9][0-9.]*)", req)
        if m:
            found[m.group(1).lower().replace("_", "-")] = m.group(2)
    return found or dict(FALLBACK_MINIMUMS)


def package_problem(name: str, version: str | None, minimum: str, error: str = "",
                    on_colab: bool = False) -> str | None:
    """The problem (with its fix) of one dependency, or None if it imports and is recent enough."""
    restart = " then restart the runtime (Runtime > Restart session)" if on_colab else ""
    if version is None:
        return (f"{name} does not import ({error}). Fix: run `make lab` at the repository root "
                f"(it installs everything into .venv), or `pip install '{name}>={minimum}'` in "
                f"the Python this notebook runs on ({sys.executable}).{restart}")
    if version_tuple(version) < version_tuple(minimum):
        return (f"{name} {version} is older than the {minimum} the book needs. "
                f"Fix: pip install --upgrade '{name}>={minimum}'{restart}.")
    return None


def _install_kind(here: Path) -> tuple[str, list[str], list[str]]:
    """How from_scratch is installed (PEP 610 direct_url.json), with problems and notes."""
    # Prefer the record pip wrote (it has direct_url.json) over a stray from_scratch.egg-info
    # that setuptools leaves in the source tree and that is found first when Python starts there.
    dists = sorted(metadata.distributions(name="from_scratch"),
                   key=lambda d: d.read_text("direct_url.json") is None)
    if not dists:
        return "not installed", [
            f"from_scratch is imported from {here} but is not installed, so it only imports "
            f"when Python starts in {here.parent}. Fix: run `pip install -e .` at the "
            f"repository root (or `make lab`)."], []
    direct = json.loads(dists[0].read_text("direct_url.json") or "{}")
    url = direct.get("url", "")
    source = Path(unquote(urlparse(url).path)) if url.startswith("file:") else None
    if direct.get("dir_info", {}).get("editable") and source is not None:
        if source.resolve() != here.parent:
            return f"editable install of {source}", [
                f"from_scratch is imported from {here}, but the editable install points at "
                f"{source}: a folder named from_scratch in the current directory shadows it, "
                f"or there are two checkouts. Fix: `pip install -e .` in the checkout you use."], []
        return f"editable install of {source}", [], []
    if "vcs_info" in direct:
        return f"installed from {url}", [], []
    notes = []
    if source is not None:
        notes.append("from_scratch is installed as a copy: edits to the library take effect "
                     "only after `pip install -e .` (an editable install)")
    return "installed" + (f" (a copy of {source})" if source else ""), [], notes


def _data_dir() -> Path:
    try:
        from .datasets import data_root  # the one definition of where data lives

        return data_root()
    except ImportError:  # an older checkout without datasets.py: same rule, written here
        env = os.environ.get("FROM_SCRATCH_DATA")
        return Path(env).expanduser() if env else Path.home() / ".cache" / "from_scratch"


def check_environment() -> EnvironmentReport:
    """Report Python and package versions, how from_scratch is installed, and the data cache."""
    import from_scratch

    on_colab = "google.colab" in sys.modules
    problems, notes, versions = [], [], {}
    if sys.version_info < (3, 10):
        problems.append(f"Python {platform.python_version()} is older than 3.10. Fix: use "
                        f"Python 3.10 or newer (python3 -m venv .venv with a newer python3).")
    for name, minimum in minimum_versions().items():
        version, error = None, ""
        try:
            module = importlib.import_module(IMPORT_NAMES.get(name, name.replace("-", "_")))
            version = getattr(module, "__version__", None) or metadata.version(name)
        except Exception as e:  # a broken install raises more than ImportError (e.g. ABI errors)
            error = f"{type(e).__name__}: {e}"
        versions[name] = version
        problem = package_problem(name, version, minimum, error, on_colab)
        if problem:
            problems.append(problem)

    here = Path(from_scratch.__file__).resolve().parent
    install, install_problems, install_notes = _install_kind(here)
    problems += install_problems
    notes += install_notes

    data = _data_dir()
    mnist = data / "mnist"
    cached = all((mnist / f).is_file() for f in MNIST_FILES)
    if not cached:
        notes.append(f"MNIST is not cached in {mnist} yet: chapter 06 downloads it (about "
                     f"11 MB) on first use. Offline, copy the four *-ubyte.gz files there, or "
                     f"set FROM_SCRATCH_DATA to a folder whose mnist/ holds them.")
    if on_colab:
        notes.append("On Colab, run each chapter's setup cell first: it installs from_scratch.")
    return EnvironmentReport(
        python=platform.python_version(), executable=sys.executable, versions=versions,
        from_scratch_version=getattr(from_scratch, "__version__", "?"), location=str(here),
        install=install, on_colab=on_colab, data_dir=str(data), mnist_cached=cached,
        problems=problems, notes=notes)
