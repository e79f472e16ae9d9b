"""Small helpers for the chapters: show the library's real source instead of a copy.

    fs.utils.show_source(fs.ops.Mul)   # highlighted in Jupyter, plain text elsewhere

A chapter that copied code into a markdown cell would drift from the package the moment the
package changed; `show_source` reads the code from the installed module, so it cannot.
"""

from __future__ import annotations

import inspect
import pathlib
import textwrap


class Source:
    """The source code of a function, class or module, as returned by `show_source`.

    `repr()` (and `str()`) give the plain text; Jupyter renders it as highlighted Python.
    """

    __slots__ = ("text", "name", "location")

    def __init__(self, text: str, name: str, location: str):
        self.text = text
        self.name = name
        self.location = location

    def _header(self) -> str:
        return f"# {self.location}: {self.name}" if self.location else f"# {self.name}"

    def __repr__(self) -> str:
        return f"{self._header()}\n{self.text}".rstrip("\n")

    __str__ = __repr__

    def _repr_markdown_(self) -> str:
        # A fenced block: JupyterLab, Colab and GitHub all highlight it as Python.
        return f"```python\n{self._header()}\n{self.text.rstrip()}\n```"

    def __contains__(self, fragment: str) -> bool:
        return fragment in self.text

    def __len__(self) -> int:
        """Number of lines of source."""
        return len(self.text.splitlines())


def _location(obj) -> str:
    """The file that defines `obj`, relative to the package when it is part of it."""
    try:
        path = pathlib.Path(inspect.getsourcefile(obj) or "")
    except TypeError:
        return ""
    parts = path.parts
    if "from_scratch" in parts:
        # The last occurrence: the package, not a checkout folder of the same name.
        start = len(parts) - 1 - parts[::-1].index("from_scratch")
        return "/".join(parts[start:])
    return path.name


def show_source(obj) -> Source:
    """The source code of `obj` (function, method, class or module), ready to display."""
    target = inspect.unwrap(obj.__func__ if inspect.ismethod(obj) else obj)
    try:
        text = inspect.getsource(target)
    except (TypeError, OSError) as e:
        raise TypeError(
            f"show_source cannot find the Python source of {obj!r} ({type(obj).__name__}): {e}. "
            f"It works on functions, classes, methods and modules written in Python, not on "
            f"built-ins or functions compiled in C.") from None
    name = getattr(target, "__qualname__", None) or getattr(target, "__name__", repr(obj))
    # A method's source is indented as in its class: dedent it so it reads as a block.
    return Source(textwrap.dedent(text), name, _location(target))
