"""Shared test settings: a non-interactive matplotlib backend and one torch thread (as on Binder)."""
import os

os.environ.setdefault("MPLBACKEND", "Agg")

import torch  # noqa: E402

torch.set_num_threads(1)

# Lint fixtures are inputs for course_utils.lint, not lessons: nbval must not run them.
collect_ignore_glob = ["lint_cases/*"]
