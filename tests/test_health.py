"""Course health: every notebook runs offline, first in a fresh kernel, twice in one session, with the same results.

Each notebook is executed twice in one kernel manager (``tests/notebook_executions.py``):

1. in a fresh kernel, started in a new network namespace (``unshare -rn``), so the run has no network at all;
2. after "Restart kernel" in the same kernel manager (what "Restart and Run All" does in JupyterLab).

The tests below share those two executions, and so does the reader's edition: the first run is the executed copy
the site is built from (``tests/test_site.py``), so ``make test`` runs each notebook twice outside the browser, not
three times. Two notebooks run at a time (``COURSE_HEALTH_WORKERS``, default 2). Where ``unshare`` cannot create a
network namespace, the notebooks still run (for the other checks) and the offline test is skipped with a message
saying why.

Cells tagged ``nbval-skip`` are not run (as under nbval); outputs of cells tagged ``nbval-ignore-output`` are not
compared between the two runs. The data files' checksums are tested in ``tests/test_data.py``.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import notebook_executions
from notebook_executions import NOTEBOOKS, UNSHARE, UNSHARE_REASON, normalize

MEMORY_BUDGET_MB = 1024


def executed(notebook: Path) -> dict:
    """The two executions of ``notebook`` (shared with the site tests; see notebook_executions)."""
    value = notebook_executions.executed(notebook)
    if value.get("setup_error"):
        pytest.fail(f"could not start a kernel for {notebook.name}: {value['setup_error']}")
    return value


@pytest.fixture(scope="module", autouse=True)
def _stop_workers():
    yield
    notebook_executions.shutdown()


def _ids(paths):
    return [p.stem for p in paths]


needs_notebooks = pytest.mark.skipif(not NOTEBOOKS, reason="no notebooks/NN_*.ipynb yet")


@needs_notebooks
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_runs_first_in_a_fresh_kernel(notebook):
    """Independent: each notebook runs top to bottom in a new kernel, needing nothing another notebook made."""
    run = executed(notebook)["runs"][0]
    assert run["error"] is None, f"{notebook.name} fails in a fresh kernel: {run['error']}"


@needs_notebooks
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_restart_and_run_all_twice(notebook):
    """Restart the kernel and run everything again in the same session: it still works."""
    result = executed(notebook)
    assert len(result["runs"]) == 2, f"{notebook.name}: the kernel did not restart"
    second = result["runs"][1]
    assert second["error"] is None, f"{notebook.name} fails on Restart and Run All: {second['error']}"
    pids = result["kernel_pids"]
    assert pids[0] != pids[1], f"{notebook.name}: the restart did not start a new kernel process ({pids})"


@needs_notebooks
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_deterministic(notebook):
    """Two runs print the same numbers: losses, accuracies and asserted values come from seeds, not luck."""
    first, second = executed(notebook)["runs"]
    if first["error"] or second["error"]:
        pytest.skip(f"{notebook.name} did not run through (see the other tests)")
    a, b = first["key_results"], second["key_results"]
    assert len(a) == len(b), f"{notebook.name}: {len(a)} text outputs in the first run, {len(b)} in the second"
    for (cell, text_a), (_, text_b) in zip(a, b):
        assert text_a == text_b, (
            f"{notebook.name}, cell {cell}: the output differs between two runs (unseeded randomness?)\n"
            f"first run:\n{text_a[:800]}\nsecond run:\n{text_b[:800]}")


@needs_notebooks
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_runs_offline(notebook):
    """Offline: the notebook ran in a kernel with no network (a new network namespace)."""
    if UNSHARE is None:
        pytest.skip(f"cannot disable networking here: {UNSHARE_REASON}")
    result = executed(notebook)
    own, nets = result["own_net"], result["kernel_net"]
    assert None not in nets and own not in nets, (
        f"{notebook.name}: the kernel was not in its own network namespace (ours {own}, kernel {nets})")
    assert result["runs"][0]["error"] is None, f"{notebook.name} fails without network: {result['runs'][0]['error']}"


@needs_notebooks
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_leaves_no_files_behind(notebook):
    """A notebook that writes into the course folders could make another notebook depend on it (or on its order)."""
    result = executed(notebook)
    assert not result["new_files"], (
        f"{notebook.name} created {result['new_files']}; write scratch files to tempfile.TemporaryDirectory()")


@needs_notebooks
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_kernel_memory_under_budget(notebook):
    """Every kernel stays under 1 GB resident (Binder gives 2 GB; JupyterLab and the browser need the rest).

    Wall-time budgets are checked by scripts/bench_notebooks.py (timings in a test would flake on a busy machine).
    """
    peaks = [run["peak_rss_mb"] for run in executed(notebook)["runs"]]
    if any(p is None for p in peaks):
        pytest.skip("cannot read the kernel's /proc/PID/status here")
    assert max(peaks) < MEMORY_BUDGET_MB, f"{notebook.name}: kernel peak RSS {max(peaks):.0f} MB (budget 1 GB)"


def test_no_network_inside_unshare():
    """The namespace used for the offline run really has no network: a connection attempt fails at once."""
    if UNSHARE is None:
        pytest.skip(f"cannot disable networking here: {UNSHARE_REASON}")
    probe = ("import socket\n"
             "try:\n"
             "    socket.create_connection(('1.1.1.1', 443), timeout=3)\n"
             "except OSError as e:\n"
             "    print('offline', e)\n"
             "else:\n"
             "    print('ONLINE')\n")
    done = subprocess.run(UNSHARE + [sys.executable, "-c", probe], capture_output=True, text=True, timeout=30)
    assert done.stdout.startswith("offline"), done.stdout + done.stderr


def test_normalize_removes_only_run_dependent_text():
    assert normalize("at 0x7f3a2c1b40d0") == normalize("at 0x55d0aa")
    assert normalize("took 12.3 ms") == normalize("took 8 ms")
    assert normalize("100%|██████████| 20/20 [00:03<00:00, 6.1it/s]") == \
        normalize("100%|██████████| 20/20 [00:02<00:00, 9.5it/s]")
    assert normalize("val loss 0.4123") != normalize("val loss 0.4124"), "numbers that matter are kept"
    assert normalize("tensor([0.1, 2.0])") != normalize("tensor([0.1, 2.5])")


@needs_notebooks
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_seeds_are_set_by_course_utils(notebook):
    """Determinism by design: the set-up cell (the first code cell) calls course_utils' seed_everything."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    code = ["".join(c.get("source", [])) for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    assert code and "seed_everything(" in code[0], (
        f"{notebook.name}: call seed_everything(0) in the first code cell (with the imports), so Restart and "
        "Run All gives the same numbers")
