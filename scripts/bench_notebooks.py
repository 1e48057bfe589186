"""Benchmark every notebook as a learner on a 1-CPU Binder would run it, and check the course's budgets.

Each notebook runs top to bottom in a fresh kernel pinned to one core (``taskset -c 0``). For each one this
reports the wall time of "Run All", its slowest cell, and the kernel's peak resident memory (VmHWM from
/proc, cross-checked by polling the kernel and its children). It prints a markdown table, writes it to
``bench/notebooks.md`` and exits with status 1 if a budget is missed:

- slowest notebook under 30 s, slowest cell under 10 s, whole course under 150 s, every kernel under 1 GB.

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
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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


def _rss_kb(pid: int, key: str = "VmRSS") -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


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
            self.peak_kb = max(self.peak_kb, sum(_rss_kb(p) for p in pids))
            self._halt.wait(self.interval)

    def stop(self) -> int:
        self._halt.set()
        self.join(timeout=2)
        return self.peak_kb


def bench_notebook(path: Path, core: int | None, timeout: int = 300) -> NotebookBench:
    """Run ``path`` in a fresh kernel (pinned to ``core`` if given) and measure it."""
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    prefix = ["taskset", "-c", str(core)] if core is not None else []

    class PinnedKernelManager(KernelManager):
        def format_kernel_cmd(self, extra_arguments=None):
            return prefix + super().format_kernel_cmd(extra_arguments)

    result = NotebookBench(path.stem)
    socket_dir = tempfile.mkdtemp(prefix="bench-kernel-")
    km = PinnedKernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(socket_dir, "kernel"))
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
        peak_hwm_kb = _rss_kb(pid, "VmHWM")
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
        "(shown separately); *peak RSS* is the kernel's resident-memory high-water mark.",
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: notebooks/NN_*.ipynb)")
    parser.add_argument("--core", type=int, default=0, help="CPU core to pin each kernel to (default 0)")
    parser.add_argument("--all-cores", action="store_true", help="do not pin the kernel (no taskset)")
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
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    print(f"written to {args.out}", file=sys.stderr)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
