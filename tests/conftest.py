"""Shared test configuration: one Hypothesis profile, so CI runs are fast and reproducible."""

from hypothesis import HealthCheck, settings

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
