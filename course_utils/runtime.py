"""How the course runs torch: one thread for its tiny models."""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one thread inside the block, then restore the previous thread count (also on error).

    The course's models and tensors are tiny: a second thread only adds synchronisation. On a busy 2-core
    machine (a shared JupyterHub, a laptop doing other work) runs were 10-100 times slower with two threads;
    on Binder there is one core anyway.
    """
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(saved)
