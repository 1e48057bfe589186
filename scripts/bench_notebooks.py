"""Benchmark every notebook as a learner on a 1-CPU Binder would run it, and check the course's budgets.

Each notebook runs top to bottom in a fresh kernel pinned to one core (``taskset -c 0``). For each one this
reports the wall time of "Run All", its slowest cell, and the kernel's peak resident memory (VmHWM from
/proc, cross-checked by polling the kernel and its children). It prints a markdown table, writes it to
``bench/notebooks.md`` and exits with status 1 if a budget is missed:

- slowest notebook under 30 s, slowest cell under 10 s, whole course under 150 s, every kernel under 1 GB.

It then times, in this process on the same core, a training step with and without ``ModeWatcher`` and the
latency of every ``*_explorer`` in course_utils for a fresh and a cached setting (medians).

Usage::

    python scripts/bench_notebooks.py                     # every notebooks/NN_*.ipynb
    python scripts/bench_notebooks.py notebooks/02_dropout.ipynb --core 1 --out /tmp/bench.md

Where a notebook misses a budget, make it faster, not the budget larger.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from kernel_tools import kernel_manager, peak_mib, proc_memory  # noqa: E402


def _rss_mib(pid: int) -> float:
    try:
        return proc_memory(pid)["rss"]
    except ValueError:  # the process ended meanwhile
        return 0.0

BUDGET_NOTEBOOK_S = 30.0
BUDGET_CELL_S = 10.0
BUDGET_COURSE_S = 150.0
BUDGET_RSS_MB = 1024.0


@dataclass
class NotebookBench:
    name: str
    start_s: float = 0.0
    run_all_s: float = 0.0
    slowest_cell_s: float = 0.0
    slowest_cell: int = -1
    slowest_cell_line: str = ""
    peak_rss_mb: float = 0.0
    error: str | None = None
    cell_times: list[float] = field(default_factory=list)


def _children(pid: int) -> list[int]:
    kids = []
    task_dir = Path(f"/proc/{pid}/task")
    try:
        for task in task_dir.iterdir():
            text = (task / "children").read_text()
            kids += [int(c) for c in text.split()]
    except OSError:
        pass
    return kids


class MemoryPoller(threading.Thread):
    """Samples the resident memory of a process and its descendants every ``interval`` seconds."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_kb = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            pids, todo = [], [self.pid]
            while todo:
                p = todo.pop()
                pids.append(p)
                todo += _children(p)
            self.peak_kb = max(self.peak_kb, sum(_rss_mib(p) for p in pids) * 1024)
            self._halt.wait(self.interval)

    def stop(self) -> int:
        self._halt.set()
        self.join(timeout=2)
        return self.peak_kb


def bench_notebook(path: Path, core: int | None, timeout: int = 300) -> NotebookBench:
    """Run ``path`` in a fresh kernel (pinned to ``core`` if given) and measure it."""
    import nbformat
    from nbclient import NotebookClient


    result = NotebookBench(path.stem)
    km, socket_dir = kernel_manager(["taskset", "-c", str(core)] if core is not None else [], "bench")
    env = dict(os.environ, MPLBACKEND="module://matplotlib_inline.backend_inline")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, km=km, timeout=timeout, kernel_name="python3", allow_errors=False)
    poller = None
    started = time.perf_counter()
    try:
        km.start_kernel(cwd=str(path.parent), env=env)
        pid = km.provisioner.process.pid
        poller = MemoryPoller(pid)
        poller.start()
        client.kc = km.client()
        client.kc.start_channels()
        client.kc.wait_for_ready(timeout=120)
        result.start_s = time.perf_counter() - started
        run_started = time.perf_counter()
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            t0 = time.perf_counter()
            try:
                client.execute_cell(cell, index)
            finally:
                seconds = time.perf_counter() - t0
                result.cell_times.append(seconds)
                if seconds > result.slowest_cell_s:
                    result.slowest_cell_s, result.slowest_cell = seconds, index
                    first = next((ln for ln in cell.source.splitlines() if ln.strip()), "")
                    result.slowest_cell_line = first[:60]
        result.run_all_s = time.perf_counter() - run_started
        peak_hwm_kb = (peak_mib(pid) or 0.0) * 1024
        result.peak_rss_mb = max(peak_hwm_kb, poller.stop()) / 1024
    except Exception as error:  # report the failure in the table instead of stopping the benchmark
        result.error = f"{type(error).__name__}: {str(error).strip().splitlines()[-1] if str(error).strip() else ''}"
        result.run_all_s = time.perf_counter() - started
        if poller is not None:
            result.peak_rss_mb = poller.stop() / 1024
    finally:
        try:
            client.kc.stop_channels()
        except Exception:
            pass
        km.shutdown_kernel(now=True)
        shutil.rmtree(socket_dir, ignore_errors=True)
    return result


def _ok(flag: bool) -> str:
    return "ok" if flag else "**OVER**"


def markdown(results: list[NotebookBench], core: int | None, load_before: tuple[float, float, float]) -> tuple[str, bool]:
    """The report as markdown, and whether every budget is met."""
    total = sum(r.run_all_s for r in results)
    lines = [
        "# Notebook benchmark",
        "",
        f"Measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC by `python scripts/bench_notebooks.py` "
        f"({'one core: `taskset -c ' + str(core) + '`' if core is not None else 'all cores'}; "
        f"{os.cpu_count()} CPUs, load average before the run {load_before[0]:.2f}; Python {platform.python_version()}"
        f"{_torch_version()}).",
        "Each notebook runs top to bottom in a fresh kernel. *Run all* excludes the kernel start "
        "(shown separately); *cell N* counts every cell from 0, markdown included; *peak RSS* is the kernel's "
        "resident-memory high-water mark.",
        "",
        f"Budgets: notebook < {BUDGET_NOTEBOOK_S:.0f} s, cell < {BUDGET_CELL_S:.0f} s, course < "
        f"{BUDGET_COURSE_S:.0f} s, kernel < {BUDGET_RSS_MB:.0f} MB.",
        "",
        "| notebook | kernel start (s) | run all (s) | slowest cell (s) | slowest cell starts with | peak RSS (MB) | budgets |",
        "|---|---:|---:|---:|---|---:|---|",
    ]
    all_ok = True
    for r in results:
        ok = (r.error is None and r.run_all_s < BUDGET_NOTEBOOK_S and r.slowest_cell_s < BUDGET_CELL_S
              and r.peak_rss_mb < BUDGET_RSS_MB)
        all_ok &= ok
        verdict = f"FAILED: {r.error}" if r.error else _ok(ok)
        cell = f"`{r.slowest_cell_line.replace('|', '/')}` (cell {r.slowest_cell})" if r.slowest_cell >= 0 else ""
        lines.append(f"| {r.name} | {r.start_s:.1f} | {r.run_all_s:.1f} | {r.slowest_cell_s:.1f} | {cell} | "
                     f"{r.peak_rss_mb:.0f} | {verdict} |")
    course_ok = total < BUDGET_COURSE_S
    all_ok &= course_ok
    slowest = max(results, key=lambda r: r.run_all_s) if results else None
    lines += [
        f"| **whole course** | {sum(r.start_s for r in results):.1f} | **{total:.1f}** | "
        f"{max((r.slowest_cell_s for r in results), default=0):.1f} | | "
        f"{max((r.peak_rss_mb for r in results), default=0):.0f} (max) | {_ok(course_ok)} |",
        "",
        f"Slowest notebook: {slowest.name} ({slowest.run_all_s:.1f} s). "
        f"{'All budgets met.' if all_ok else 'Some budgets are missed: make those notebooks faster.'}"
        if slowest else "No notebooks found.",
    ]
    return "\n".join(lines) + "\n", all_ok


def _torch_version() -> str:
    try:
        import torch

        return f", torch {torch.__version__}"
    except ImportError:
        return ""


# --- Micro-benchmarks: ModeWatcher on a training step, explorer latencies ------------------------------------

def _median(values: list[float]) -> float:
    values = sorted(values)
    n = len(values)
    return (values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2) if n else float("nan")


def bench_mode_watcher(steps: int = 200) -> dict | None:
    """Median time of one training step (MLP with BatchNorm and dropout, batch 64) without and with ModeWatcher."""
    import torch
    import torch.nn as nn

    try:
        from course_utils.watcher import ModeWatcher
    except ImportError:
        return None
    from course_utils.models import mlp

    torch.manual_seed(0)
    model = mlp(64, (128, 128), 10, dropout=0.2, batchnorm=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.rand(64, 64), torch.randint(0, 10, (64,))
    loss_fn = nn.CrossEntropyLoss()

    def step() -> float:
        t0 = time.perf_counter()
        loss = loss_fn(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return time.perf_counter() - t0

    model.train()
    for _ in range(20):
        step()
    plain, watched, open_watch = [], [], []
    for _ in range(steps // 20):  # interleaved blocks, so a load change on the machine hits all three alike
        plain += [step() for _ in range(20)]
        for _ in range(20):
            with ModeWatcher(model) as watcher:
                watched.append(step())
            assert not watcher.problems
        with ModeWatcher(model) as watcher:  # one watcher kept open over many steps (how a learner uses it)
            open_watch += [step() for _ in range(20)]
        assert not watcher.problems
    return {"plain_ms": _median(plain) * 1e3, "watched_ms": _median(watched) * 1e3,
            "open_ms": _median(open_watch) * 1e3}


def _explorer_factories() -> list[tuple[str, object]]:
    import importlib
    import inspect
    import pkgutil

    import course_utils

    found = []
    for info in pkgutil.iter_modules(course_utils.__path__, "course_utils."):
        try:
            module = importlib.import_module(info.name)
        except Exception:
            continue
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if name.endswith("_explorer") and fn.__module__ == module.__name__:
                found.append((f"{info.name.split('.')[-1]}.{name}", fn))
    return found


def _candidate_values(control) -> list:
    options = getattr(control, "options", None)
    if options:
        values = [o[1] if isinstance(o, tuple) else o for o in options]
        return [v for v in values if v != control.value]
    low, high, step = getattr(control, "min", None), getattr(control, "max", None), getattr(control, "step", None)
    if low is None or high is None:
        return []
    values = []
    for i in range(1, 6):
        v = low + (high - low) * i / 6
        if step:
            v = low + round((v - low) / step) * step
        v = type(control.value)(v)
        if v != control.value and v not in values:
            values.append(v)
    return values


def bench_explorers(max_fresh: int = 4, budget_s: float = 40.0) -> list[dict]:
    """For every ``*_explorer`` factory in course_utils: median latency of a control change that computes afresh
    (cache miss) and of one that returns to a setting already seen (cache hit), compute + draw + PNG."""
    rows = []
    for label, factory in _explorer_factories():
        try:
            explorer = factory()
        except TypeError:
            continue  # needs arguments: not a default explorer
        fresh, cached = [], []
        started = time.perf_counter()
        for name, control in explorer.controls.items():
            values = _candidate_values(control)[:max_fresh]
            original = control.value
            seen = [original]
            for value in values:
                if time.perf_counter() - started > budget_s:
                    break
                hits = explorer.cache_hits
                t0 = time.perf_counter()
                control.value = value
                (cached if explorer.cache_hits > hits else fresh).append(time.perf_counter() - t0)
                seen.append(value)
            for value in seen[:-1][::-1]:  # go back through settings already computed
                hits = explorer.cache_hits
                t0 = time.perf_counter()
                control.value = value
                (cached if explorer.cache_hits > hits else fresh).append(time.perf_counter() - t0)
        rows.append({"explorer": label, "fresh_ms": _median(fresh) * 1e3, "fresh_n": len(fresh),
                     "cached_ms": _median(cached) * 1e3, "cached_n": len(cached)})
    return rows


BUDGET_SWEEP_S = 5.0
MIN_SWEEP_SPEEDUP = 8.0


def bench_sweep(repeats: int = 3) -> dict:
    """Notebook 05's "Is it luck?" sweep (20 seeds x 2 placements, trained at once) against the same 40 runs
    trained one after another as ``compare_placements`` trains them. The two alternate ``repeats`` times, so a
    burst of load hits both; medians of wall and CPU seconds, and the range of the per-repeat speed-ups."""
    from course_utils import placement as E

    E.seed_comparison("digits", epochs=2)  # warm up torch's kernels (the first call pays for them), not the cache
    wall, cpu, seq_wall, seq_cpu = [], [], [], []
    for _ in range(repeats):
        E._seed_runs.cache_clear()  # noqa: SLF001 - time a fresh sweep, not the cache
        t0, c0 = time.perf_counter(), time.process_time()
        comparison = E.seed_comparison("digits")
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        E.clear_cache()
        t0, c0 = time.perf_counter(), time.process_time()
        for seed in E.SWEEP_SEEDS:
            E.compare_placements("digits", ("inside", "outside"), seed=seed)
        seq_wall.append(time.perf_counter() - t0)
        seq_cpu.append(time.process_time() - c0)
    ratios = [q / w for q, w in zip(seq_wall, wall)]
    speedup = _median(seq_wall) / _median(wall)
    return {"sweep_s": _median(wall), "sweep_cpu_s": _median(cpu), "sequential_s": _median(seq_wall),
            "sequential_cpu_s": _median(seq_cpu), "speedup": speedup, "speedup_min": min(ratios),
            "speedup_max": max(ratios), "repeats": repeats, "worse": comparison.worse, "n": len(comparison.seeds),
            "ok": _median(wall) <= BUDGET_SWEEP_S and speedup >= MIN_SWEEP_SPEEDUP}


def bench_dropout_masks(shape: tuple[int, ...] = (20, 128, 32), repeats: int = 200) -> dict:
    """The sweep's dropout mask (``SeedDropout``: ``torch.rand(...) >= p``) against ``nn.Dropout``'s ``F.dropout``
    (``bernoulli_``) on one step's hidden activations of the 20-seed sweep, forward only: median ns per element."""
    import torch
    import torch.nn.functional as F
    from course_utils.sweep import SeedDropout

    x, layer = torch.randn(shape), SeedDropout(0.5).train()
    result = {}
    for name, step in (("seed_dropout", lambda: layer(x)), ("torch_dropout", lambda: F.dropout(x, 0.5, True)),
                       ("rand", lambda: torch.rand(shape)), ("bernoulli", lambda: torch.empty(shape).bernoulli_(0.5))):
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
        result[name] = _median(times) / x.numel() * 1e9
    return result


def micro_markdown(core: int | None) -> str:
    """Run the micro-benchmarks in this process (pinned like the kernels) and return their markdown."""
    import torch

    if core is not None:
        os.sched_setaffinity(0, {core})
    torch.set_num_threads(1)
    os.environ.setdefault("MPLBACKEND", "Agg")
    lines = ["", "## ModeWatcher and explorers", ""]
    watcher = bench_mode_watcher()
    if watcher is None:
        lines.append("course_utils.watcher has no ModeWatcher.")
    else:
        over = watcher["watched_ms"] / watcher["plain_ms"] - 1
        over_open = watcher["open_ms"] / watcher["plain_ms"] - 1
        lines += [
            "One training step of `mlp(64, (128, 128), 10, dropout=0.2, batchnorm=True)` on a batch of 64 "
            "(forward, loss, backward, SGD step), median of 200 steps, one thread:",
            "",
            "| step | median (ms) | overhead |",
            "|---|---:|---:|",
            f"| plain | {watcher['plain_ms']:.3f} | |",
            f"| inside `ModeWatcher` (one open/close per step) | {watcher['watched_ms']:.3f} | {over:+.0%} |",
            f"| inside one `ModeWatcher` kept open | {watcher['open_ms']:.3f} | {over_open:+.0%} |",
            "",
        ]
    sweep = bench_sweep()
    lines += [
        "Notebook 05's 20-seed sweep (digits, seeds 0-19, correct and misplaced placement: 40 runs of 60 epochs), "
        "trained as one batched model, against the same 40 runs one after another (`compare_placements`, "
        f"which also validates every epoch), alternating, median of {sweep['repeats']} each:",
        "",
        "| | wall (s) | CPU (s) |",
        "|---|---:|---:|",
        f"| 20-seed sweep, 2 placements | {sweep['sweep_s']:.2f} | {sweep['sweep_cpu_s']:.2f} |",
        f"| 40 runs one after another | {sweep['sequential_s']:.1f} | {sweep['sequential_cpu_s']:.1f} |",
        f"| speed-up | {sweep['speedup']:.1f}x (runs: {sweep['speedup_min']:.1f}-{sweep['speedup_max']:.1f}x) | "
        f"{sweep['sequential_cpu_s'] / sweep['sweep_cpu_s']:.1f}x |",
        "",
        f"Budgets: sweep <= {BUDGET_SWEEP_S:.0f} s and >= {MIN_SWEEP_SPEEDUP:.0f}x faster: "
        f"{'ok' if sweep['ok'] else 'MISSED'}. (The misplaced run was worse on {sweep['worse']} of {sweep['n']} "
        "seeds.)",
        "",
    ]
    masks = bench_dropout_masks()
    lines += [
        "The sweep's dropout (`SeedDropout`, mask from `torch.rand`) against `nn.Dropout` (`bernoulli_`), one "
        "step's hidden activations (20 x 128 x 32), median ns per element:",
        "",
        "| | ns per element |",
        "|---|---:|",
        f"| `SeedDropout(0.5)` forward | {masks['seed_dropout']:.1f} |",
        f"| `F.dropout(x, 0.5)` forward | {masks['torch_dropout']:.1f} |",
        f"| `torch.rand` alone | {masks['rand']:.1f} |",
        f"| `bernoulli_(0.5)` alone | {masks['bernoulli']:.1f} |",
        "",
    ]
    rows = bench_explorers()
    if rows:
        lines += ["Explorer latency from a control change to the new output (compute + draw + PNG), median:", "",
                  "| explorer | fresh setting (ms) | n | setting seen before, cached (ms) | n |",
                  "|---|---:|---:|---:|---:|"]
        lines += [f"| {r['explorer']} | {r['fresh_ms']:.0f} | {r['fresh_n']} | {r['cached_ms']:.0f} | {r['cached_n']} |"
                  for r in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: notebooks/NN_*.ipynb)")
    parser.add_argument("--core", type=int, default=0, help="CPU core to pin each kernel to (default 0)")
    parser.add_argument("--all-cores", action="store_true", help="do not pin the kernel (no taskset)")
    parser.add_argument("--no-micro", action="store_true", help="skip the ModeWatcher and explorer timings")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "notebooks.md", help="markdown file to write")
    args = parser.parse_args(argv)

    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        print("no notebooks found", file=sys.stderr)
        return 2
    core = None if args.all_cores else args.core
    if core is not None and shutil.which("taskset") is None:
        print("taskset (util-linux) is not installed: running on all cores", file=sys.stderr)
        core = None
    if core is not None and core not in os.sched_getaffinity(0):
        parser.error(f"--core {core} is not available here; available cores: {sorted(os.sched_getaffinity(0))}")
    load_before = os.getloadavg()
    results = []
    for path in notebooks:
        print(f"running {path.name} ...", file=sys.stderr, flush=True)
        results.append(bench_notebook(Path(path).resolve(), core))
    report, all_ok = markdown(results, core, load_before)
    if not args.no_micro:
        print("timing ModeWatcher and the explorers ...", file=sys.stderr, flush=True)
        report += micro_markdown(core)
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    print(f"written to {args.out}", file=sys.stderr)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
