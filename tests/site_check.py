"""Helpers for the reader's-edition tests: build the site once per test session, serve it, inspect its pages.

Used by ``tests/test_site.py`` (the built HTML, no browser) and ``tests/browser/test_site_in_browser.py`` (pages
in headless Chromium with every non-local request blocked, and axe-core).

The build runs ``scripts/build_site.py`` inside ``unshare -rn`` (no network at all) where a network namespace can
be made, into ``build/site-test/``; executed notebooks come from ``build/site-cache/`` when their key (the
notebook, every file of ``course_utils/`` and ``data/``, the versions) matches, so a second run costs only Sphinx.
Before building, every notebook is executed by the health runs (``notebook_executions``, shared with
``tests/test_health.py``), which put their first, offline run into that cache: in ``make test`` the site executes
nothing itself. A notebook whose health run failed is not cached, so the build executes it and reports its error.
"""
from __future__ import annotations

import functools
import http.server
import os
import socketserver
import subprocess
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

import pytest

import notebook_executions
from notebook_executions import SITE_CACHE as CACHE

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "build" / "site-test"
AXE = REPO / "site" / "vendor" / "axe.min.js"
ARTIFACTS = REPO / "test-artifacts" / "site"
BUILD_TIMEOUT = 1200


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason: str) -> None:
    """Skip on a learner's machine; fail in CI, where the site must be built and checked."""
    if in_ci():
        pytest.fail(f"the site tests cannot run: {reason}. CI is set, so this is a failure, not a skip.",
                    pytrace=False)
    pytest.skip(f"site tests skipped: {reason}; to run them: make site (installs requirements-site.txt)",
                allow_module_level=True)


@dataclass
class BuiltSite:
    """A built reader's edition: its HTML folder, its source folder and whether it was built offline."""

    html: Path
    src: Path
    offline: bool
    log: str = ""
    info: dict = field(default_factory=dict)


_BUILD: dict[str, object] = {}


def built_site() -> BuiltSite:
    """Build the site once per test session (offline where possible); fail with the build's own message.

    A failed build is not retried by every test that needs the site: they all fail at once with its message.
    """
    if "error" in _BUILD:
        pytest.fail(str(_BUILD["error"]), pytrace=False)
    if "site" not in _BUILD:
        try:
            _BUILD["site"] = _build()
        except pytest.fail.Exception as error:
            _BUILD["error"] = str(error)
            raise
    return _BUILD["site"]  # type: ignore[return-value]


def _build() -> BuiltSite:
    try:
        import myst_nb  # noqa: F401
        import sphinx_book_theme  # noqa: F401
    except ImportError as error:
        unavailable(f"the site tools are not installed ({error.name})")
    notebook_executions.executed_all()  # the health runs, shared: the first run of each is the site's copy
    prefix = notebook_executions.UNSHARE or []
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)
    command = prefix + [sys.executable, str(REPO / "scripts" / "build_site.py"), "--out", str(OUT),
                        "--cache", str(CACHE)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=BUILD_TIMEOUT, env=env)
    if done.returncode != 0:
        stderr = "\n".join(line for line in done.stderr.splitlines() if not line.startswith("[IPKernelApp]"))
        pytest.fail(f"the site did not build ({' '.join(command)}):\n{stderr[-6000:]}", pytrace=False)
    import json

    return BuiltSite(OUT / "html", OUT / "src", bool(prefix), done.stdout + done.stderr,
                     json.loads((OUT / "build-info.json").read_text()))


# --- Serving the site on 127.0.0.1 ----------------------------------------------------------------------------

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # noqa: D401 - keep the test output clean
        pass


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` over HTTP on 127.0.0.1 (a free port) for the duration; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler) as server:
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()


# --- A page opened with every non-local request blocked -------------------------------------------------------

def is_local(url: str) -> bool:
    """True for URLs a reader's browser gets from the site itself (127.0.0.1/localhost, data:, blob:, about:)."""
    parsed = urlparse(url)
    if parsed.scheme in ("data", "blob", "about"):
        return True
    return parsed.scheme in ("http", "https") and parsed.hostname in ("127.0.0.1", "localhost")


@dataclass
class PageReport:
    """What went wrong while a page loaded: blocked (non-local) and failed requests, console and page errors."""

    url: str
    blocked: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return ([f"non-local request (blocked): {u}" for u in self.blocked]
                + [f"failed request: {u}" for u in self.failed]
                + [f"console error: {m}" for m in self.console_errors]
                + [f"JavaScript error: {m}" for m in self.page_errors])


def open_offline(page, url: str, wait_ms: int = 300) -> PageReport:
    """Open ``url`` in ``page`` with every non-local request aborted; return what failed or was blocked."""
    report = PageReport(url)

    def route(r) -> None:
        if is_local(r.request.url):
            r.continue_()
        else:
            report.blocked.append(r.request.url)
            r.abort("blockedbyclient")

    page.route("**/*", route)
    page.on("requestfailed", lambda request: None if request.url in report.blocked else report.failed.append(
        f"{request.url} ({request.failure})"))
    page.on("response", lambda response: report.failed.append(f"{response.url} (HTTP {response.status})")
            if response.status >= 400 else None)
    page.on("console", lambda message: report.console_errors.append(message.text)
            if message.type == "error" else None)
    page.on("pageerror", lambda error: report.page_errors.append(str(error)))
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(wait_ms)
    # A blocked request also logs a console error; it is reported once, as blocked.
    report.console_errors = [m for m in report.console_errors if "ERR_BLOCKED_BY_CLIENT" not in m]
    return report


def axe_violations(page, context: str = "body", impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict]:
    """Run axe-core (vendored, injected from the repository) on ``context``; the violations of ``impacts``."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async (context) => await axe.run(document.querySelector(context) || document,
               {resultTypes: ['violations']})""", context)
    return [v for v in result["violations"] if v.get("impact") in impacts]


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        targets = ", ".join(str(n.get("target")) for n in v.get("nodes", [])[:4])
        lines.append(f"{v['impact']}: {v['id']} ({v['help']}) at {targets}")
    return "\n".join(lines)
