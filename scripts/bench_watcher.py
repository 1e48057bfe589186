"""Measure what ModeWatcher adds to a training step of a small MLP when nothing is wrong.

    python scripts/bench_watcher.py [--repeats 41] [--steps 50]

Alternates blocks of steps with and without the watcher and prints the median relative overhead.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from course_utils.models import mlp
from course_utils.watcher import ModeWatcher


def _steps(model, opt, x, y, n):
    start = time.perf_counter()
    for _ in range(n):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def overhead(repeats: int = 41, steps: int = 50, seed: int = 0) -> tuple[float, float]:
    """(median over ``repeats`` paired blocks of time-with / time-without - 1, same ratio of the fastest blocks).

    Blocks alternate (and alternate which goes first) so that load from other processes hits both alike.
    """
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    model = mlp(64, (128, 128), 10, dropout=0.2, batchnorm=True).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(64, 64), torch.randint(0, 10, (64,))
    _steps(model, opt, x, y, 50)  # warm up
    ratios, plains, watcheds = [], [], []
    for i in range(repeats):
        if i % 2:
            plain = _steps(model, opt, x, y, steps)
        with ModeWatcher(model) as watcher:
            watched = _steps(model, opt, x, y, steps)
        if not i % 2:
            plain = _steps(model, opt, x, y, steps)
        assert not watcher.problems
        ratios.append(watched / plain - 1)
        plains.append(plain)
        watcheds.append(watched)
    return statistics.median(ratios), min(watcheds) / min(plains) - 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=41)
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args()
    median, fastest = overhead(args.repeats, args.steps)
    print(f"ModeWatcher overhead on a small MLP training step: median {100 * median:+.2f} % "
          f"(fastest blocks: {100 * fastest:+.2f} %)")
