"""Shared test settings: a non-interactive matplotlib backend and one torch thread (as on Binder)."""
import os
import re

os.environ.setdefault("MPLBACKEND", "Agg")

import torch  # noqa: E402

torch.set_num_threads(1)

# Lint fixtures are inputs for course_utils.lint, not lessons: nbval must not run them.
collect_ignore_glob = ["lint_cases/*"]

# `make unit` runs `pytest tests -m "not slow"`: the fast loop for people changing the course (under a minute).
# These files run notebooks, a browser, a server or the 20-seed claims, so they are marked slow as a whole.
SLOW_FILES = ("test_health.py", "test_claims_across_seeds.py", "test_site.py", "test_launch.py",
              "test_lab_settings.py", "test_hub.py")


# A claim checked on many seeds (tests named ..._on_every_seed, ..._on_most_seeds, ...) is slow wherever it lives.
SLOW_NAMES = re.compile(r"on_(every|most)_seeds?|across_seeds|seeds_checked")


def pytest_collection_modifyitems(config, items):
    import pytest

    for item in items:
        path = item.path
        if (path.name in SLOW_FILES or "browser" in path.parts or path.suffix == ".ipynb"
                or SLOW_NAMES.search(item.name)):
            item.add_marker(pytest.mark.slow)

