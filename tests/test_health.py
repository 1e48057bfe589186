"""Course health: every notebook runs offline, first in a fresh kernel, twice in one session, with the same results.

Each notebook is executed twice with nbclient, in one kernel manager:

1. in a fresh kernel, started in a new network namespace (``unshare -rn``), so the run has no network at all;
2. after "Restart kernel" in the same kernel manager (what "Restart and Run All" does in JupyterLab).

The tests below share those two executions (nbval runs every notebook a third time), so the whole file costs
about two notebook runs per notebook; two notebooks run at a time (``COURSE_HEALTH_WORKERS``, default 2).
Where ``unshare`` cannot create a network namespace, the notebooks still run (for the other checks) and the
offline test is skipped with a message saying why.

Cells tagged ``nbval-skip`` are not run (as under nbval); outputs of cells tagged ``nbval-ignore-output`` are not
compared between the two runs.

The data-integrity checks (checksums) are here too; see the end of the file.
"""
from __future__ import annotations

import copy
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
MEMORY_BUDGET_MB = 1024
CELL_TIMEOUT = 120  # seconds; the budget is 10 s a cell, this only stops a hung kernel
SKIP_TAGS = {"nbval-skip", "skip-execution"}  # cells nbval does not run are not run here either
IGNORE_OUTPUT_TAGS = {"nbval-ignore-output"}  # cells whose output is declared to vary (not compared)
WATCHED_DIRS = (ROOT / "notebooks", ROOT / "data")  # where a notebook run would leave files (cwd, data)


# --- Is a network namespace available here? ------------------------------------------------------------------

def _unshare_prefix() -> tuple[list[str] | None, str]:
    """The command prefix that runs a process without network, or None and the reason it is not available."""
    if not sys.platform.startswith("linux"):
        return None, f"network namespaces need Linux (this is {sys.platform})"
    if shutil.which("unshare") is None:
        return None, "the `unshare` command (util-linux) is not installed"
    for prefix in (["unshare", "-rn"], ["unshare", "-n"]):
        try:
            done = subprocess.run(prefix + ["true"], capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired) as error:
            reason = str(error)
            continue
        if done.returncode == 0:
            return prefix, ""
        reason = done.stderr.strip() or f"exit code {done.returncode}"
    return None, f"`unshare -rn true` failed here ({reason}); user namespaces are probably disabled"


UNSHARE, UNSHARE_REASON = _unshare_prefix()


# --- Executing a notebook twice in one kernel manager (runs in a worker process) ----------------------------

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
    outputs, normalized."""
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


def run_twice(path: str, prefix: list[str] | None) -> dict:
    """Execute ``path`` in a fresh kernel, restart the kernel, execute it again; return what happened.

    Runs in a worker process; returns only plain data (picklable).
    """
    import nbformat
    from nbclient import NotebookClient

    from scripts.kernel_tools import kernel_manager, peak_mib

    # ipc (unix sockets in a folder) reaches a kernel in another network namespace; tcp on 127.0.0.1 would not.
    km, socket_dir = kernel_manager(prefix or (), "health")
    env = dict(os.environ, MPLBACKEND="module://matplotlib_inline.backend_inline", PYDEVD_DISABLE_FILE_VALIDATION="1")
    env.pop("JPY_PARENT_PID", None)
    result: dict = {"path": path, "runs": [], "kernel_pids": [], "kernel_net": [], "own_net": None}
    files_before = _files_under(WATCHED_DIRS)
    original = nbformat.read(path, as_version=4)
    try:
        result["own_net"] = os.readlink("/proc/self/ns/net") if os.path.exists("/proc/self/ns/net") else None
        km.start_kernel(cwd=str(Path(path).parent), env=env)
        for run in range(2):
            if run == 1:
                km.restart_kernel(now=True)
            pid = km.provisioner.process.pid if km.provisioner is not None else None
            result["kernel_pids"].append(pid)
            try:
                result["kernel_net"].append(os.readlink(f"/proc/{pid}/ns/net"))
            except OSError:
                result["kernel_net"].append(None)
            nb = copy.deepcopy(original)  # both runs execute the same text, even if the file is edited meanwhile
            client = NotebookClient(nb, km=km, timeout=CELL_TIMEOUT, startup_timeout=60, kernel_name="python3",
                                    allow_errors=False, record_timing=True)
            started = time.perf_counter()
            error = None
            client.kc = km.client()
            client.kc.start_channels()
            try:
                client.kc.wait_for_ready(timeout=60)
                for index, cell in enumerate(nb.cells):
                    if cell.cell_type == "code" and not SKIP_TAGS & set(cell.metadata.get("tags", [])):
                        client.execute_cell(cell, index)
            except Exception as exc:  # CellExecutionError, timeouts, a dead kernel: report, don't crash the pool
                error = f"{type(exc).__name__}: {exc}"
            finally:
                client.kc.stop_channels()
            result["runs"].append({"error": error, "seconds": time.perf_counter() - started,
                                   "key_results": key_results(nb), "peak_rss_mb": peak_mib(pid)})
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


_RESULTS: dict[str, object] = {}
_POOL: list[ProcessPoolExecutor] = []


def executed(notebook: Path) -> dict:
    """The two executions of ``notebook``; the next notebook is started at the same time (two workers), so a
    run of the whole file keeps both cores busy and ``pytest -k 02_dropout`` executes at most one extra."""
    if not _POOL:
        workers = int(os.environ.get("COURSE_HEALTH_WORKERS", min(2, os.cpu_count() or 1)))
        context = multiprocessing.get_context("spawn")  # no fork of a process that runs torch threads
        _POOL.append(ProcessPoolExecutor(max_workers=max(1, workers), mp_context=context))
    index = NOTEBOOKS.index(notebook)
    for nb in NOTEBOOKS[index:index + _POOL[0]._max_workers]:
        if str(nb) not in _RESULTS:
            _RESULTS[str(nb)] = _POOL[0].submit(run_twice, str(nb), UNSHARE)
    value = _RESULTS[str(notebook)]
    if not isinstance(value, dict):
        value = value.result()
        _RESULTS[str(notebook)] = value
    if value.get("setup_error"):
        pytest.fail(f"could not start a kernel for {notebook.name}: {value['setup_error']}")
    return value


@pytest.fixture(scope="module", autouse=True)
def _stop_workers():
    yield
    for pool in _POOL:
        pool.shutdown(wait=True, cancel_futures=True)
    _POOL.clear()


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


# --- Data integrity ------------------------------------------------------------------------------------------

def test_corrupted_data_file_is_detected_with_restore_hint(tmp_path):
    from course_utils.data import DATA_DIR, DataFileError, load_digits_tensors

    shipped = DATA_DIR / "digits.csv.gz"
    copy = tmp_path / "digits.csv.gz"
    raw = bytearray(shipped.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # one flipped byte
    copy.write_bytes(bytes(raw))
    with pytest.raises(DataFileError) as info:
        load_digits_tensors(data_dir=tmp_path)
    message = str(info.value)
    assert "corrupted" in message and "digits.csv.gz" in message
    assert "git checkout -- data/digits.csv.gz" in message and "export_digits.py" in message


def test_truncated_data_file_is_detected(tmp_path):
    from course_utils.data import DATA_DIR, DataFileError, load_digits_tensors

    (tmp_path / "digits.csv.gz").write_bytes((DATA_DIR / "digits.csv.gz").read_bytes()[:1000])
    with pytest.raises(DataFileError, match="git checkout"):
        load_digits_tensors(data_dir=tmp_path)


def test_missing_data_file_is_detected_with_restore_hint(tmp_path):
    from course_utils.data import DataFileError, DigitsDataset, load_digits_tensors

    for load in (load_digits_tensors, lambda data_dir: DigitsDataset(data_dir=data_dir)):
        with pytest.raises(DataFileError) as info:
            load(data_dir=tmp_path)
        assert "missing" in str(info.value) and "git checkout -- data/digits.csv.gz" in str(info.value)


def test_every_shipped_file_matches_its_checksum():
    from course_utils.data import CHECKSUMS, DATA_DIR, sha256_of

    for name, expected in CHECKSUMS.items():
        assert sha256_of(DATA_DIR / name) == expected, f"data/{name} does not match its recorded SHA-256"
    shipped = {p.name for p in DATA_DIR.iterdir() if p.is_file() and p.name != "README.md"}
    assert shipped <= set(CHECKSUMS), f"files in data/ without a recorded checksum: {shipped - set(CHECKSUMS)}"


def test_data_readme_lists_the_checksums():
    from course_utils.data import CHECKSUMS, DATA_DIR

    readme = DATA_DIR / "README.md"
    if not readme.exists():
        pytest.skip("data/README.md is not written yet (it should list provenance, licence and SHA-256)")
    text = readme.read_text(encoding="utf-8")
    for name, digest in CHECKSUMS.items():
        assert digest in text, f"data/README.md does not list the SHA-256 of {name}"


@needs_notebooks
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_seeds_are_set_by_course_utils(notebook):
    """Determinism by design: the set-up cell (the first code cell) calls course_utils' seed_everything."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    code = ["".join(c.get("source", [])) for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    assert code and "seed_everything(" in code[0], (
        f"{notebook.name}: call seed_everything(0) in the first code cell (with the imports), so Restart and "
        "Run All gives the same numbers")
