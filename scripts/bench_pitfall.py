"""Benchmark the live experiments of notebook 05 (rerunnable; prints medians over several runs).

Measures, each in a fresh cache:

1. the side-by-side comparison cell: ``compare_placements("digits")`` (three runs) plus its figure rendered to PNG;
2. an explorer change that hits the cache (back to a setting already drawn): must redraw in < 0.1 s;
3. an explorer change to a new configuration (train + redraw): a new placement (one run), a new seed (the
   chosen run and the correct run with the same settings; the 20-seed view is cached across seeds) and the slider's
   maximum of 100 epochs (two runs and a new 20-seed sweep, the worst case): < 3 s for a new seed, < 4 s for a new
   placement (two runs and a sweep), < 5 s at 100 epochs.

Run it on one core, as on a Binder or a busy laptop:

    taskset -c 0 .venv/bin/python scripts/bench_pitfall.py --repeats 5
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from course_utils import placement as E
from course_utils.plots import figure_to_png

LIMITS = {"comparison cell": 10.0, "explorer: cached setting": 0.1, "explorer: new placement": 4.0,
          "explorer: new seed": 3.0, "explorer: 100 epochs": 5.0}


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench(repeats: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in LIMITS}
    E.datasets("digits"), E.datasets("moons")          # load the data once, as the notebook's first cells do
    E.train_run("moons", "inside", epochs=2)           # warm up torch
    for i in range(repeats):
        E.clear_cache()
        times["comparison cell"].append(_timed(lambda: figure_to_png(E.comparison_figure(E.compare_placements("digits")))))
        E.clear_cache()
        explorer = E.pitfall_explorer(seed=i % 20)       # default view: placement "outside" (seeds 0-19)
        controls = explorer.controls
        times["explorer: new placement"].append(_timed(lambda: setattr(controls["placement"], "value", "never_eval")))
        times["explorer: new seed"].append(_timed(lambda: setattr(controls["seed"], "value", (i + 7) % 20)))
        times["explorer: cached setting"].append(_timed(lambda: setattr(controls["seed"], "value", i % 20)))
        times["explorer: 100 epochs"].append(_timed(lambda: setattr(controls["epochs"], "value", 100)))
        assert explorer.last_error is None, explorer.last_error
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per measurement (the median is reported)")
    args = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(f"torch {torch.__version__}, CPU cores available to this process: {cores}, repeats {args.repeats}")
    times = bench(args.repeats)
    failed = False
    print(f"{'measurement':<28}{'median':>10}{'min':>10}{'max':>10}{'limit':>9}")
    for name, values in times.items():
        median = statistics.median(values)
        ok = median < LIMITS[name]
        failed |= not ok
        print(f"{name:<28}" + "".join(f"{v * 1000:>8.1f}ms" for v in (median, min(values), max(values)))
              + f"{LIMITS[name]:>8}s  {'ok' if ok else 'TOO SLOW'}")
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
