"""Fixtures for the browser tests: a private JupyterLab server, Debian's Chromium, one notebook open at a time.

The browser tests are part of ``make test``. Without a Chromium at /usr/bin/chromium they are skipped with a
message saying how to enable them (``sudo apt-get install -y chromium``) -- except when the environment variable
``CI`` is set: then a missing browser is a failure, never a silent skip. ``pytest -m "not browser"`` leaves them
out. Screenshots and the server log go to ``test-artifacts/browser/`` (ignored by git).

Environment variables (optional): ``COURSE_CHROMIUM`` (another Chromium binary), ``COURSE_NOTEBOOK_DIR`` (test
another folder of notebooks, used while developing this suite).
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from lab_driver import (REPO, LabPage, LabServer, NotebookRun, find_notebook, notebook_dir, open_and_run,
                        problems_in, start_lab)

sys.path.insert(0, str(REPO / "scripts"))
import measure_walk  # noqa: E402 - the shipped settings, the learner's way to close a tab, the memory sampler

CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
ARTIFACTS = REPO / "test-artifacts" / "browser"
HOW_TO_ENABLE = ("to run them: sudo apt-get install -y chromium (Debian/Ubuntu), or set COURSE_CHROMIUM to a "
                 "Chromium binary; then make test")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason: str) -> None:
    """Skip the browser tests on a learner's machine; fail them in CI, where they must run."""
    if _in_ci():
        pytest.fail(f"browser tests cannot run: {reason}. CI is set, so this is a failure, not a skip "
                    f"(.ci/run installs chromium with apt-get).", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}; {HOW_TO_ENABLE}")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: runs the course in JupyterLab in headless Chromium "
                                       "(deselect with -m 'not browser')")
    config.addinivalue_line("markers", "lab_notebook(prefix): the notebook (e.g. '05') an interaction test uses")
    config.addinivalue_line("filterwarnings", "ignore::pytest.PytestRemovedIn10Warning:pytest_playwright.*")


def _notebook_key(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    if callspec is not None and isinstance(callspec.params.get("notebook"), Path):
        return callspec.params["notebook"].name
    marker = item.get_closest_marker("lab_notebook")
    if marker is None:
        return None
    notebook = find_notebook(marker.args[0])
    return notebook.name if notebook else marker.args[0]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Group the browser tests by notebook, so each notebook is opened and run once for all of its tests.

    The browser tests run as one block where the first of them stood; every other test keeps its order.
    """
    positions = [i for i, item in enumerate(items) if item.get_closest_marker("browser")]
    if not positions:
        return
    browser_items = [items[i] for i in positions]
    order = {id(item): n for n, item in enumerate(browser_items)}

    def key(item: pytest.Item) -> tuple:
        name = _notebook_key(item)
        return (name is None, name or "", order[id(item)])

    # One block, starting where the first browser test stood: a non-browser test in between (e.g. the driver's own
    # unit tests) would make pytest_runtest_teardown stop the shared server before the remaining browser tests.
    others = [item for item in items if not item.get_closest_marker("browser")]
    first = positions[0]
    items[:] = others[:first] + sorted(browser_items, key=key) + others[first:]


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        unavailable(f"no Chromium at {CHROMIUM}")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser_type_launch_args(chromium_executable: str) -> dict:
    """pytest-playwright launches Debian's Chromium (Playwright's own browser download does not work here)."""
    return {"executable_path": chromium_executable, "headless": True, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_artifacts() -> Path:
    """test-artifacts/browser/, emptied once per session."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def lab_browser(request: pytest.FixtureRequest, chromium_executable: str):
    """pytest-playwright's session browser (Chromium), after checking that Playwright is installed."""
    if not request.config.pluginmanager.has_plugin("playwright"):
        unavailable("pytest-playwright is not installed (pip install -r requirements.txt)")
    return request.getfixturevalue("browser")


@pytest.fixture(scope="session")
def lab_server(lab_browser, tmp_path_factory: pytest.TempPathFactory, browser_artifacts: Path):
    """A private JupyterLab on 127.0.0.1 (free port, random token, its own settings/runtime folders), with the
    settings binder/ ships (binder/jupyter_server_config.py, binder/overrides.json: closing a tab shuts its kernel
    down), as a learner's JupyterLab on Binder or after make lab has them."""
    tmp = tmp_path_factory.mktemp("lab")
    measure_walk.shipped_settings(tmp)
    server = start_lab(tmp, notebook_dir())
    try:
        yield server
    finally:
        server.stop()
        shutil.copy(server.log_path, browser_artifacts / "jupyterlab.log")


class NotebookRuns:
    """Opens and runs one notebook at a time; the interaction tests reuse the run their notebook test made.

    The runs are also a learner's walk through the course (scripts/measure_walk.py): before the next notebook
    opens, the current one's tab is closed with its close icon (*Discard*), and the resident memory of the server
    and its kernels is recorded per notebook, with a sampler keeping the peak (tests/browser/test_walk_memory.py).
    """

    def __init__(self, browser, server: LabServer, artifacts: Path) -> None:
        self.server, self.artifacts = server, artifacts
        self.lab = LabPage(browser, server)
        self.current: NotebookRun | None = None
        self.timings: dict[str, dict[str, float]] = {}
        self.started = time.monotonic()
        self.sampler = measure_walk.PeakSampler(server.process.pid)
        self.sampler.start()
        time.sleep(1.0)  # the sampler's first reading
        idle, _ = measure_walk.tree_rss(server.process.pid)
        self.steps: list[dict] = [{"step": "server started", "rss_mib": round(idle, 1),
                                   "peak_mib": round(self.sampler.take(), 1),
                                   "kernels": measure_walk.kernel_count(server)}]
        self.step: dict | None = None

    def get(self, name: str) -> NotebookRun:
        """The run of ``name`` (e.g. ``05_misplaced_train.ipynb``), opening and running it if not current."""
        if self.current is not None and self.current.name == name:
            return self.current
        self.close_current()
        # Copy it now: the server's root holds copies, and the notebook may have changed since the session began.
        shutil.copy2(notebook_dir() / name, self.server.root / "notebooks" / name)
        run = open_and_run(self.lab, name, self.artifacts)
        self.current = run
        self.timings[name] = {"open_s": round(run.seconds_to_open, 1), "run_all_s": round(run.seconds_to_run, 1)}
        open_rss, open_kernels = measure_walk.tree_rss(self.server.process.pid)
        self.step = {"step": name, "run_s": round(run.seconds_to_run, 1), "rss_open_mib": round(open_rss, 1),
                     "kernels_open": open_kernels, "problems": []}
        try:
            self.step["problems"] = problems_in(run.cells())
        except Exception as error:  # noqa: BLE001 - reported by the walk; the notebook's own test says more
            self.step["problems"] = [f"its cells could not be read: {type(error).__name__}: {error}"]
        return run

    def close_current(self) -> None:
        """Close the current notebook's tab as a learner does and record the walk's step for it."""
        if self.current is None:
            return
        step, self.step = self.step, None
        try:
            measure_walk.close_tab(self.lab, self.current.path, self.server)
        except Exception as error:  # noqa: BLE001 - recorded: test_walk_memory fails on it
            step["problems"].append(f"closing its tab with the close icon failed: {type(error).__name__}: {error}")
        closed_rss, _ = measure_walk.tree_rss(self.server.process.pid)
        step.update({"peak_mib": round(self.sampler.take(), 1), "rss_after_close_mib": round(closed_rss, 1),
                     "kernels_after_close": measure_walk.kernel_count(self.server)})
        self.steps.append(step)
        self.current.close()  # nothing left to do unless the close icon failed
        self.current = None
        self.server.shutdown_kernels()

    def walk(self) -> dict:
        """The walk so far, as scripts/measure_walk.py reports one (after closing the current notebook)."""
        self.close_current()
        return {"steps": self.steps, "peak_mib": round(self.sampler.overall, 1), "budget_mib": measure_walk.BUDGET_MIB}

    def finish(self) -> None:
        self.close_current()
        self.sampler.halt.set()
        self.sampler.join(timeout=5)
        self.lab.reset()
        total = time.monotonic() - self.started
        (self.artifacts / "timings.json").write_text(json.dumps(
            {"total_s_from_first_notebook": round(total, 1), "notebooks": self.timings}, indent=2))


_SUMMARY: dict = {}
_ACTIVE: list[NotebookRuns] = []


@pytest.fixture(scope="session")
def notebook_runs(lab_browser, lab_server: LabServer, browser_artifacts: Path):
    runs = NotebookRuns(lab_browser, lab_server, browser_artifacts)
    _ACTIVE.append(runs)
    try:
        yield runs
    finally:
        _release(runs)


def _release(runs: NotebookRuns) -> None:
    if runs in _ACTIVE:
        _ACTIVE.remove(runs)
        runs.finish()
        _SUMMARY.update(runs.timings)
        runs.server.stop()


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """After the last browser test, stop the kernel and the server at once, not at the end of the session
    (the notebook tests that follow under nbval should not share the machine with them)."""
    if item.get_closest_marker("browser") and (nextitem is None or not nextitem.get_closest_marker("browser")):
        for runs in list(_ACTIVE):
            _release(runs)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if _SUMMARY:
        terminalreporter.section("browser tests: time per notebook (open / Run All)")
        for name, t in _SUMMARY.items():
            terminalreporter.write_line(f"{name}: {t['open_s']:.1f} s / {t['run_all_s']:.1f} s")
        terminalreporter.write_line(f"screenshots: {ARTIFACTS.relative_to(REPO)}/")
