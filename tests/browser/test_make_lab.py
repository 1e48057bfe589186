"""`make lab` as a learner meets it: the printed link, opened in Chromium, shows JupyterLab with notebook 00 open
and its kernel idle, the file browser in notebooks/, and one click on the file browser's home (folder) icon
shows the whole course: README, notebooks, solutions, docs. Closing 00's tab shuts its kernel down (the
JupyterLab setting binder/overrides.json, which make setup installs into the venv).

The server is the exact command ``make lab`` runs (``make -n lab``), serving the course folder itself, with the
test's private settings (autosave off, so nothing is written to the course) and its own token.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lab_launch import (COURSE_ROOT_ENTRIES, ROOT, START, free_port, launch, make_lab_command,  # noqa: E402
                        new_token, private_flags)

pytestmark = pytest.mark.browser

JS_STATE = """
() => {
  const current = document.querySelector('#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current');
  const names = [...document.querySelectorAll('.jp-FileBrowser .jp-DirListing-itemName')].map(
    (el) => el.textContent.trim());
  const bar = document.querySelector('#jp-main-statusbar');
  return {current: current ? current.textContent.trim() : null, names, status: bar ? bar.textContent : ''};
}
"""


OVERRIDES_IN_VENV = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"


@contextlib.contextmanager
def make_lab_page(lab_browser, tmp_path: Path):
    """The server `make lab` starts, and a page on its printed link once 00 is open with its kernel idle."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    port, token = free_port(), new_token()
    server = launch(make_lab_command(port, private_flags(tmp_path, token)), tmp_path, port, token)
    context = lab_browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(server.printed_url.replace("token=...", f"token={token}"), wait_until="domcontentloaded")
        # 00 open in the current tab; the file browser beside it in notebooks/ (JupyterLab goes to the folder
        # of the file a /lab/tree/ link opens), one click below the course root.
        page.wait_for_function(
            """(name) => {
                 const cur = document.querySelector('#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current');
                 const names = [...document.querySelectorAll('.jp-FileBrowser .jp-DirListing-itemName')]
                   .map((el) => el.textContent.trim());
                 return !!cur && cur.textContent.includes(name) && names.includes(name);
               }""", arg=Path(START).name, timeout=60_000, polling=250)
        page.wait_for_function("() => (document.querySelector('#jp-main-statusbar') || {}).textContent"
                               "?.includes('Python 3 (ipykernel) | Idle')", timeout=60_000, polling=250)
        yield server, page
    finally:
        context.close()
        server.stop()  # SIGTERM: the server shuts any kernel left down with it


def test_make_lab_link_opens_00_with_the_course_in_the_file_browser(lab_browser, tmp_path, browser_artifacts):
    name = Path(START).name
    with make_lab_page(lab_browser, tmp_path) as (server, page):
        page.screenshot(path=str(browser_artifacts / "make_lab_start.png"))
        home = page.locator(".jp-FileBrowser .jp-BreadCrumbs-home")
        assert Path(home.get_attribute("title")).resolve() == ROOT, (
            f"the file browser's root should be the course folder {ROOT}, not {home.get_attribute('title')}")
        home.click()
        page.wait_for_function(
            """(entries) => {
                 const names = [...document.querySelectorAll('.jp-FileBrowser .jp-DirListing-itemName')]
                   .map((el) => el.textContent.trim());
                 return entries.every((e) => names.includes(e));
               }""", arg=sorted(COURSE_ROOT_ENTRIES), timeout=20_000, polling=250)
        state = page.evaluate(JS_STATE)
        assert name in state["current"], f"{name} should still be the current tab: {state}"
        assert COURSE_ROOT_ENTRIES <= set(state["names"]), (
            f"the course root should show {COURSE_ROOT_ENTRIES}: {state}")


def test_closing_a_notebook_tab_shuts_its_kernel_down(lab_browser, tmp_path):
    """binder/overrides.json, which make setup installs into the venv (a venv made by hand has no such file)."""
    if not OVERRIDES_IN_VENV.is_file():
        reason = f"{OVERRIDES_IN_VENV} does not exist: `make setup` installs binder/overrides.json there"
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(reason + " (CI runs make test, so it must exist)", pytrace=False)
        pytest.skip(reason)
    with make_lab_page(lab_browser, tmp_path) as (server, page):
        assert len(sessions(server)) == 1, f"00 should have one kernel session: {sessions(server)}"
        page.click("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabCloseIcon")
        # The kernel's language_info marks the notebook changed, so JupyterLab asks; a learner may discard.
        page.click(".jp-Dialog button:has-text('Discard')", timeout=10_000)
        deadline = time.monotonic() + 30
        while sessions(server) and time.monotonic() < deadline:
            time.sleep(0.25)
        assert not sessions(server), f"closing 00's tab left its kernel running: {sessions(server)}"


def sessions(server) -> list[dict]:
    status, _, body = server.get("/api/sessions")
    assert status == 200, f"GET /api/sessions answered {status}"
    return json.loads(body)
