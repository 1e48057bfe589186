"""How the course runs torch: one thread for its tiny models, and seeded draws that leave the global RNG alone."""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch

from ._validate import check_int


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


@contextlib.contextmanager
def seeded(seed: int, *generators: torch.Generator | None) -> Iterator[None]:
    """Run the body with torch's global generator seeded by ``seed``, then restore the generator's state.

    ``nn.Dropout`` draws from the global generator and takes no generator argument; this makes a draw
    reproducible without changing the random numbers the rest of a notebook sees. Each of ``generators`` (e.g. a
    loader's ``generator``; ``None`` is skipped) is seeded with ``seed`` too and put back afterwards, also on error.
    """
    check_int("seed", seed, minimum=0)
    own = [g for g in generators if g is not None]
    for generator in own:
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"seeded() takes torch.Generator objects (or None) after the seed, got {generator!r} "
                            f"of type {type(generator).__name__}")
    saved = [g.get_state() for g in own]
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            for generator in own:
                generator.manual_seed(seed)
            yield
    finally:
        for generator, state in zip(own, saved):
            generator.set_state(state)
