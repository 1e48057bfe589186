"""Shared test settings: a non-interactive matplotlib backend and one torch thread (as on Binder)."""
import os

os.environ.setdefault("MPLBACKEND", "Agg")

import torch  # noqa: E402

torch.set_num_threads(1)
