"""Every course notebook executed twice per test session, for the health tests and the reader's edition alike.

Each notebook runs in one kernel manager (``scripts/kernel_tools.py``):

1. in a fresh kernel, started in a new network namespace (``unshare -rn``), so the run has no network at all;
2. after "Restart kernel" in the same kernel manager (what "Restart and Run All" does in JupyterLab).

Both runs execute the notebook as the site build does (``scripts/build_site.py``: its hidden first cell that makes
a figure's plain-text form its description, widget state kept), so the first run, when it ran offline and without
error, is also the site's executed copy: it goes into the site's cache (``build/site-cache/``) under the site's own
key, and the site tests (``site_check.built_site``) build from it instead of executing every notebook a third time.
``tests/test_health.py`` asserts on both runs; whichever of the two test files comes first starts the executions.

Two notebooks run at a time (``COURSE_HEALTH_WORKERS``, default 2). Cells tagged ``nbval-skip`` or
``skip-execution`` are not run (as under nbval); outputs of cells tagged ``nbval-ignore-output`` are not compared
between the two runs.
"""
from __future__ import annotations

import copy
import multiprocessing
import os
import re
import shutil
import sys
import time
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import build_site  # noqa: E402
from kernel_tools import kernel_manager, offline_prefix, peak_mib, run_cells  # noqa: E402

NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
SITE_CACHE = build_site.DEFAULT_CACHE  # build/site-cache, where site_check.built_site builds from
CELL_TIMEOUT = 120  # seconds; the budget is 10 s a cell, this only stops a hung kernel
SKIP_TAGS = ("nbval-skip", "skip-execution")  # cells nbval does not run are not run here either
IGNORE_OUTPUT_TAGS = {"nbval-ignore-output"}  # cells whose output is declared to vary (not compared)
WATCHED_DIRS = (ROOT / "notebooks", ROOT / "data")  # where a notebook run would leave files (cwd, data)

_prefix, UNSHARE_REASON = offline_prefix()
UNSHARE: list[str] | None = _prefix or None  # the command prefix that runs a kernel without network, if any


# --- What a run printed, without what legitimately differs between two runs ---------------------------------

_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
_DURATION = re.compile(r"\d+(?:\.\d+)?\s*(?:ns|µs|us|ms|s|sec|secs|seconds|min|minutes)\b")
_TQDM = re.compile(r"\[(?:\d+:)?\d+:\d+<[^\]]*\]|\d+(?:\.\d+)?\s*(?:it/s|s/it)")
_PROGRESS_BAR = re.compile(r"[█▏▎▍▌▋▊▉#]+")


def normalize(text: str) -> str:
    """Remove what legitimately differs between two runs: addresses, durations and progress bars."""
    text = _ADDRESS.sub("0x?", text)
    text = _TQDM.sub("[?]", text)
    text = _DURATION.sub("? s", text)
    return _PROGRESS_BAR.sub("", text)


def key_results(nb) -> list[tuple[int, str]]:
    """Per code cell: all its stdout (chunks joined: the kernel may flush them differently) and its text/plain
    outputs, normalized. A figure's text/plain is its description (titles, axes, legend: see build_site)."""
    results = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or IGNORE_OUTPUT_TAGS & set(cell.metadata.get("tags", [])):
            continue
        stdout, plain = [], []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                stdout.append(output.get("text", ""))
            elif output.get("output_type") in ("execute_result", "display_data"):
                data = output.get("data", {})
                if "application/vnd.jupyter.widget-view+json" in data:
                    continue  # widget views carry fresh model ids; their state is checked by their own tests
                if "text/plain" in data:
                    plain.append(data["text/plain"])
        if stdout or plain:
            results.append((index, normalize("".join(stdout) + "\n" + "\n".join(plain))))
    return results


def _files_under(dirs) -> set[str]:
    found = set()
    for folder in dirs:
        for path in folder.rglob("*"):
            parts = set(path.parts)
            if path.is_dir() or "__pycache__" in parts or ".ipynb_checkpoints" in parts or path.suffix == ".ipynb":
                continue
            found.add(str(path.relative_to(ROOT)))
    return found


# --- Executing a notebook twice in one kernel manager (runs in a worker process) ----------------------------

def run_twice(path: str, prefix: list[str] | None, cache: str | None = str(SITE_CACHE)) -> dict:
    """Execute ``path`` in a fresh kernel, restart the kernel, execute it again; return what happened.

    The first run's executed notebook goes to the site cache ``cache`` (if it ran offline and without error).
    Runs in a worker process; returns only plain data (picklable).
    """
    import nbformat

    notebook = Path(path)
    # ipc (unix sockets in a folder) reaches a kernel in another network namespace; tcp on 127.0.0.1 would not.
    km, socket_dir = kernel_manager(prefix or (), "health")
    env = dict(os.environ, MPLBACKEND="module://matplotlib_inline.backend_inline", PYDEVD_DISABLE_FILE_VALIDATION="1")
    env.pop("JPY_PARENT_PID", None)
    result: dict = {"path": path, "runs": [], "kernel_pids": [], "kernel_net": [], "own_net": None,
                    "site_cache": None}
    files_before = _files_under(WATCHED_DIRS)
    raw = notebook.read_bytes()
    machinery = build_site.machinery_digest()  # the site's key, taken before the run as the site build does
    original = nbformat.reads(raw.decode("utf-8"), as_version=4)
    try:
        result["own_net"] = os.readlink("/proc/self/ns/net") if os.path.exists("/proc/self/ns/net") else None
        km.start_kernel(cwd=str(notebook.parent), env=env)
        for run in range(2):
            if run == 1:
                km.restart_kernel(now=True)
            pid = km.provisioner.process.pid if km.provisioner is not None else None
            result["kernel_pids"].append(pid)
            try:
                result["kernel_net"].append(os.readlink(f"/proc/{pid}/ns/net"))
            except OSError:
                result["kernel_net"].append(None)
            # both runs execute the same text, even if the file is edited meanwhile
            nb = build_site.with_site_setup(copy.deepcopy(original))
            started = time.perf_counter()
            error = None
            try:
                run_cells(km, nb, timeout=CELL_TIMEOUT, skip_tags=SKIP_TAGS, store_widget_state=True)
            except Exception as exc:  # CellExecutionError, timeouts, a dead kernel: report, don't crash the pool
                error = f"{type(exc).__name__}: {exc}"
            seconds = time.perf_counter() - started
            nb.cells = [c for c in nb.cells if build_site.SETUP_TAG not in c.metadata.get("tags", [])]
            result["runs"].append({"error": error, "seconds": seconds, "key_results": key_results(nb),
                                   "peak_rss_mb": peak_mib(pid)})
            offline = result["kernel_net"][-1] not in (None, result["own_net"])
            if run == 0 and cache and error is None and offline:
                unchanged = notebook.read_bytes() == raw and build_site.machinery_digest() == machinery
                if unchanged:  # else the key would name a notebook or course_utils this run did not execute
                    target = Path(cache) / f"{notebook.stem}-{build_site.cache_key(notebook, machinery)}.ipynb"
                    build_site.write_executed(nb, target)
                    result["site_cache"] = str(target)
    except Exception as exc:
        result["setup_error"] = f"{type(exc).__name__}: {exc}"
    finally:
        try:
            km.shutdown_kernel(now=True)
        except Exception:
            pass
        shutil.rmtree(socket_dir, ignore_errors=True)
    result["new_files"] = sorted(_files_under(WATCHED_DIRS) - files_before)
    return result


# --- Once per test session ----------------------------------------------------------------------------------

_RESULTS: dict[str, dict | Future] = {}
_POOL: list[ProcessPoolExecutor] = []


def _pool() -> ProcessPoolExecutor:
    if not _POOL:
        workers = int(os.environ.get("COURSE_HEALTH_WORKERS", min(2, os.cpu_count() or 1)))
        context = multiprocessing.get_context("spawn")  # no fork of a process that runs torch threads
        _POOL.append(ProcessPoolExecutor(max_workers=max(1, workers), mp_context=context))
    return _POOL[0]


def _submit(notebooks) -> None:
    for nb in notebooks:
        if str(nb) not in _RESULTS:
            _RESULTS[str(nb)] = _pool().submit(run_twice, str(nb), UNSHARE)


def _result(notebook: Path) -> dict:
    value = _RESULTS[str(notebook)]
    if not isinstance(value, dict):
        value = value.result()
        _RESULTS[str(notebook)] = value
    return value


def executed(notebook: Path) -> dict:
    """The two executions of ``notebook``; the next notebook is started at the same time (two workers), so a
    run of the whole health file keeps both cores busy and ``pytest -k 02_dropout`` executes at most one extra."""
    index = NOTEBOOKS.index(notebook)
    _submit(NOTEBOOKS[index:index + _pool()._max_workers])
    return _result(notebook)


def executed_all() -> dict[str, dict]:
    """The two executions of every notebook (started now if they have not been); frees the workers after."""
    _submit(NOTEBOOKS)
    results = {str(nb): _result(nb) for nb in NOTEBOOKS}
    shutdown()
    return results


def shutdown() -> None:
    """Stop the worker processes (results already collected stay available)."""
    for pool in _POOL:
        pool.shutdown(wait=True, cancel_futures=True)
    _POOL.clear()
    for key in [k for k, v in _RESULTS.items() if not isinstance(v, dict) and v.cancelled()]:
        del _RESULTS[key]  # cancelled before it ran: start it again if asked
