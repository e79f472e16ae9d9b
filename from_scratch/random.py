"""One random generator for the whole library: init, dropout and shuffling all draw from it.

`fs.manual_seed(0)` makes a chapter reproducible from top to bottom.
"""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the library's generator (like `torch.manual_seed`) and return it."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"manual_seed expects a non-negative integer, got {seed!r}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def default_generator() -> np.random.Generator:
    """The generator every random operation of the library uses."""
    return _generator
