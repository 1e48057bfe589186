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
import time
from pathlib import Path

import pytest

from lab_driver import REPO, LabPage, LabServer, NotebookRun, find_notebook, notebook_dir, open_and_run, start_lab

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
    """A private JupyterLab on 127.0.0.1 (free port, random token, its own settings/runtime folders)."""
    tmp = tmp_path_factory.mktemp("lab")
    server = start_lab(tmp, notebook_dir())
    try:
        yield server
    finally:
        server.stop()
        shutil.copy(server.log_path, browser_artifacts / "jupyterlab.log")


class NotebookRuns:
    """Opens and runs one notebook at a time; the interaction tests reuse the run their notebook test made."""

    def __init__(self, browser, server: LabServer, artifacts: Path) -> None:
        self.server, self.artifacts = server, artifacts
        self.lab = LabPage(browser, server)
        self.current: NotebookRun | None = None
        self.timings: dict[str, dict[str, float]] = {}
        self.started = time.monotonic()

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
        return run

    def close_current(self) -> None:
        if self.current is not None:
            self.current.close()
            self.current = None
            self.server.shutdown_kernels()

    def finish(self) -> None:
        self.close_current()
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
