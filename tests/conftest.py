"""Shared test configuration: one Hypothesis profile, so CI runs are fast and reproducible, and
matplotlib without a display."""

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")  # before pyplot is imported anywhere: tests need no display
import matplotlib.pyplot as plt  # noqa: E402

# derandomize: the same examples on every run, so a red CI run can be reproduced locally.
# deadline None: 2 shared cores make single-example timings meaningless.
settings.register_profile(
    "from_scratch",
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("from_scratch")


@pytest.fixture(autouse=True)
def close_figures():
    """Tests draw on the Agg backend (no display); each test's figures are closed after it."""
    yield
    plt.close("all")
