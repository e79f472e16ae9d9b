"""fs.check_environment(): versions, how the package is installed, the data cache."""

from __future__ import annotations

import pathlib
import platform

import numpy as np
import pytest

import from_scratch as fs
from from_scratch import environment as env


@pytest.fixture(scope="module")
def report():
    return fs.check_environment()


def test_report_matches_this_interpreter(report):
    assert report.python == platform.python_version()
    assert report.versions["numpy"] == np.__version__
    assert set(report.versions) == {"numpy", "matplotlib", "scikit-learn"}
    assert report.ok and report.problems == []  # the test environment is a working one
    assert report.location.endswith("from_scratch")


def test_report_prints_every_fact_and_says_no_problems(report):
    text = str(report)
    for fact in ("Python", "numpy", "matplotlib", "scikit-learn", "from_scratch", "data cache",
                 "MNIST cached", report.data_dir, np.__version__):
        assert fact in text
    assert "No problems found." in text


def test_minimum_versions_come_from_the_package_metadata():
    tomllib = pytest.importorskip("tomllib")
    text = (pathlib.Path(__file__).parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    declared = tomllib.loads(text)["project"]["dependencies"]
    assert env.minimum_versions() == dict(r.replace(" ", "").split(">=") for r in declared)


@pytest.mark.parametrize("version, expected", [
    ("1.26.4", (1, 26, 4)), ("2.0.0rc1", (2, 0, 0)), ("1.23", (1, 23)),
    ("3.10.0.post1", (3, 10, 0)),
])
def test_version_tuple(version, expected):
    assert env.version_tuple(version) == expected


def test_package_problem_gives_a_fix():
    assert env.package_problem("numpy", "1.26.4", "1.23") is None
    old = env.package_problem("numpy", "1.22.4", "1.23")
    assert "older than the 1.23" in old and "pip install --upgrade 'numpy>=1.23'" in old
    assert "Restart session" in env.package_problem("numpy", "1.21.0", "1.23", on_colab=True)
    missing = env.package_problem("scikit-learn", None, "1.1", "ModuleNotFoundError: sklearn")
    assert "does not import" in missing and "make lab" in missing and "ModuleNotFound" in missing


def test_data_cache_follows_from_scratch_data(tmp_path, monkeypatch):
    monkeypatch.setenv("FROM_SCRATCH_DATA", str(tmp_path))
    empty = fs.check_environment()
    assert empty.data_dir == str(tmp_path) and not empty.mnist_cached
    assert any("MNIST is not cached" in n for n in empty.notes)
    (tmp_path / "mnist").mkdir()
    for name in env.MNIST_FILES:
        (tmp_path / "mnist" / name).write_bytes(b"")
    full = fs.check_environment()
    assert full.mnist_cached and not any("MNIST" in n for n in full.notes)
