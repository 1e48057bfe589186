"""Drive the course in a real JupyterLab from Playwright: start the server, open and run a notebook, inspect it.

Used by ``conftest.py`` (fixtures) and ``test_notebooks_in_lab.py`` (tests). Everything here talks to the page
the way a learner's browser does; the only shortcut is ``window.jupyterapp`` (``--LabApp.expose_app_in_browser``),
used to run commands and to read each cell's model next to its DOM.
"""
from __future__ import annotations

import base64
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from scripts.kernel_tools import free_port, stop_process  # noqa: E402
KERNEL_IDLE = "Python 3 (ipykernel) | Idle"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def notebook_dir() -> Path:
    """The folder of course notebooks (``COURSE_NOTEBOOK_DIR`` overrides it while developing this suite)."""
    return Path(os.environ.get("COURSE_NOTEBOOK_DIR", REPO / "notebooks")).resolve()


def course_notebooks() -> list[Path]:
    """Every course notebook (``NN_name.ipynb``) in the notebook folder, in course order."""
    return sorted(notebook_dir().glob("[0-9][0-9]_*.ipynb"))


def find_notebook(prefix: str) -> Path | None:
    """The course notebook whose name starts with ``prefix`` (e.g. ``"05"``), or None if it does not exist yet."""
    matches = [p for p in course_notebooks() if p.name.startswith(prefix + "_")]
    return matches[0] if matches else None


# --- The JupyterLab server ------------------------------------------------------------------------------------

def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))


def make_root(tmp: Path, notebook_dir: Path) -> Path:
    """A server root that looks like the repository, with a *copy* of the notebooks.

    Running a notebook in JupyterLab makes it dirty; a copy guarantees that no output (and no
    ``.ipynb_checkpoints``) is ever written into the committed notebooks. Everything else is a symlink, so
    relative paths such as ``../data`` resolve as in the repository.
    """
    root = tmp / "root"
    root.mkdir()
    for entry in REPO.iterdir():
        if entry.name.startswith(".") or entry.name in ("notebooks", "test-artifacts"):
            continue
        (root / entry.name).symlink_to(entry)
    shutil.copytree(notebook_dir, root / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return root


@dataclass
class LabServer:
    """A running JupyterLab: its URL, token, server root and process."""

    url: str
    token: str
    root: Path
    process: subprocess.Popen
    log_path: Path

    def api(self, method: str, path: str, timeout: float = 10.0) -> Any:
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def notebook_url(self, relative_path: str, workspace: str) -> str:
        """The URL that opens one notebook in a fresh, empty workspace (no other tab is restored)."""
        return f"{self.url}/lab/workspaces/{workspace}/tree/{relative_path}?token={self.token}"

    def shutdown_kernels(self) -> None:
        """Stop every kernel session (closing a browser tab leaves its kernel running)."""
        for session in self.api("GET", "/api/sessions"):
            try:
                self.api("DELETE", f"/api/sessions/{session['id']}")
            except urllib.error.URLError:
                pass

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def stop(self) -> None:
        """Stop the server through its own process handle (it shuts its kernels down on SIGTERM)."""
        stop_process(self.process)


def start_lab(tmp: Path, notebook_dir: Path, timeout: float = 60.0) -> LabServer:
    """Start JupyterLab on 127.0.0.1 with a random token and private settings/runtime folders; wait for it."""
    root = make_root(tmp, notebook_dir)
    settings = tmp / "settings"
    # No news / update pop-up on a fresh profile, and no autosave (the run would otherwise write outputs).
    _write_json(settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings",
                {"fetchNews": "false", "checkForUpdates": False})
    _write_json(settings / "@jupyterlab" / "docmanager-extension" / "plugin.jupyterlab-settings",
                {"autosave": False})
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # the kernel should use the inline backend, as a learner's does
    for name, folder in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                         ("IPYTHONDIR", "ipython"), ("JUPYTER_DATA_DIR", "data")):
        (tmp / folder).mkdir(exist_ok=True)
        env[name] = str(tmp / folder)
    log_path = tmp / "jupyterlab.log"
    last_error = ""
    for _attempt in range(3):  # a free port can be taken between choosing it and binding it
        port, token = free_port(), secrets.token_hex(24)
        args = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
                "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
                f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                "--LabApp.expose_app_in_browser=True"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--allow-root")
        log = open(log_path, "ab")
        process = subprocess.Popen(args, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
        log.close()
        server = LabServer(f"http://127.0.0.1:{port}", token, root, process, log_path)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and process.poll() is None:
            try:
                server.api("GET", "/api/status", timeout=2)
                return server
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.25)
        last_error = server.log_tail()
        server.stop()
    raise RuntimeError(f"JupyterLab did not answer on /api/status within {timeout:.0f} s:\n{last_error}")


# --- One notebook open in the browser -------------------------------------------------------------------------

_FIND_PANEL = """
const findPanel = (path) => {
  const app = window.jupyterapp;
  if (!app) return null;
  for (const w of app.shell.widgets('main')) {
    if (w.context && w.context.path === path && w.content && w.content.widgets) return w;
  }
  return null;
};
const isCode = (cell) => cell.model.type === 'code' && cell.model.sharedModel.getSource().trim() !== '';
const tagsOf = (cell) => cell.model.getMetadata('tags') || [];
// A widget closed by the kernel (e.g. a tqdm bar with leave=False) leaves an empty, hidden output.
const closedWidget = (child) => {
  const out = child.querySelector(':scope > .jp-OutputArea-output');
  return !!out && out.classList.contains('lm-mod-hidden') && out.textContent.trim() === '';
};
const hasError = (cell) => {
  for (let i = 0; i < cell.model.outputs.length; i++) {
    if (cell.model.outputs.get(i).type === 'error') return true;
  }
  return false;
};
"""

JS_READY = _FIND_PANEL + """
([path, idle]) => {
  const panel = findPanel(path);
  const bar = document.querySelector('#jp-main-statusbar');
  return !!panel && panel.content.widgets.length > 0 && !!bar && bar.textContent.includes(idle);
}
"""

JS_RUN_DONE = _FIND_PANEL + """
([path, idle]) => {
  const panel = findPanel(path);
  const bar = document.querySelector('#jp-main-statusbar');
  if (!panel || !bar || !bar.textContent.includes(idle)) return false;
  let running = false, allDone = true, stopped = false;
  for (const cell of panel.content.widgets) {
    if (!isCode(cell)) continue;
    const prompt = cell.node.querySelector('.jp-InputPrompt');
    const text = prompt ? prompt.textContent.trim() : '';
    if (text === '[*]:') running = true;
    if (!/^\\[\\d+\\]:$/.test(text)) allDone = false;
    if (hasError(cell) && !tagsOf(cell).includes('raises-exception')) stopped = true;
  }
  return !running && (allDone || stopped);
}
"""

JS_WIDGETS_SETTLED = _FIND_PANEL + """
(path) => {
  const panel = findPanel(path);
  if (!panel) return false;
  for (const cell of panel.content.widgets) {
    if (cell.model.type !== 'code') continue;
    const children = [...cell.node.querySelectorAll('.jp-OutputArea > .jp-OutputArea-child')];
    for (let i = 0; i < cell.model.outputs.length; i++) {
      const data = cell.model.outputs.get(i).data || {};
      if (!('WIDGET_MIME' in data)) continue;
      const child = children[i];
      if (!child) return false;
      if (!child.querySelector('.jupyter-widgets') && !child.textContent.includes('Error displaying widget')
          && !closedWidget(child)) return false;
    }
  }
  return true;
}
""".replace("WIDGET_MIME", WIDGET_MIME)

JS_CELLS = _FIND_PANEL + """
(path) => {
  const panel = findPanel(path);
  if (!panel) return null;
  const textOf = (root, selector) => [...root.querySelectorAll(selector)].map(e => e.textContent).join('\\n');
  return panel.content.widgets.map((cell, index) => {
    const m = cell.model;
    const info = {index, type: m.type, source: m.sharedModel.getSource(), tags: tagsOf(cell)};
    if (m.type !== 'code') return info;
    const prompt = cell.node.querySelector('.jp-InputPrompt');
    info.prompt = prompt ? prompt.textContent.trim() : null;
    const children = [...cell.node.querySelectorAll('.jp-OutputArea > .jp-OutputArea-child')];
    info.outputs = [];
    info.error_outputs = 0;
    info.error_text = '';
    info.stderr = '';
    for (let i = 0; i < m.outputs.length; i++) {
      const out = m.outputs.get(i);
      const mimes = Object.keys(out.data || {});
      const child = children[i];
      const text = child ? child.textContent : '';
      // JupyterLab renders an error output with the stderr MIME type: tell them apart by the model.
      if (out.type === 'error') { info.error_outputs += 1; info.error_text += text + '\\n'; }
      else if (child && child.querySelector(':scope > .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'))
        info.stderr += text + '\\n';
      info.outputs.push({type: out.type, mimes,
                         widget: mimes.includes('WIDGET_MIME'),
                         rendered_widget: !!(child && (child.querySelector('.jupyter-widgets') || closedWidget(child)))});
    }
    const wrapper = cell.node.querySelector('.jp-Cell-outputWrapper') || cell.node;
    info.output_text = wrapper.textContent;
    // Errors and stderr inside widget Outputs (e.g. an explorer's callback that raised).
    info.widget_stderr = textOf(wrapper, '.widget-output [data-mime-type="application/vnd.jupyter.stderr"]');
    info.plain_text = textOf(wrapper, '.jp-RenderedText[data-mime-type="text/plain"]');
    info.feedback = wrapper.querySelectorAll('.course-feedback').length;
    info.radio_boxes = wrapper.querySelectorAll('.widget-radio-box').length;
    info.widgets = wrapper.querySelectorAll('.jupyter-widgets').length;
    return info;
  });
}
""".replace("WIDGET_MIME", WIDGET_MIME)

JS_SCROLLER = _FIND_PANEL + """
([path, top]) => {
  const panel = findPanel(path);
  const scroller = panel.node.querySelector('.jp-WindowedPanel-outer') || panel.content.node;
  if (top !== null) scroller.scrollTop = top;
  const box = scroller.getBoundingClientRect();
  const cells = panel.content.widgets;
  const last = cells.length ? cells[cells.length - 1].node.getBoundingClientRect().bottom : box.top;
  // scrollHeight includes the "scroll past the end" space, which grows with the window: measure the cells.
  const contentHeight = Math.ceil(last - box.top + scroller.scrollTop + 24);
  return {scrollHeight: scroller.scrollHeight, clientHeight: scroller.clientHeight, top: box.top,
          scrollTop: scroller.scrollTop, contentHeight};
}
"""

# A widget output's text when the widget manager failed and the plain-text fallback was shown instead.
UNRENDERED_WIDGET = re.compile(r"\b[A-Z]\w*\((children|value|options|layout|description|outputs)=")
# A line of a code cell that shows an exercise's feedback: `check_x(...)`, `display(check_x(...))`, `print(...)`.
EXERCISE_CALL = re.compile(r"^\s*((display|print)\()?check_\w+\(", re.MULTILINE)


JS_CLOSE = _FIND_PANEL + """
(path) => {
  const panel = findPanel(path);
  if (!panel) return true;
  panel.context.model.dirty = false;  // closing without the "save your changes?" dialog: the run is thrown away
  panel.close();
  return false;
}
"""


class LabPage:
    """One JupyterLab page in its own browser context; notebooks are opened in it one after another.

    Reusing the page saves loading JupyterLab again for every notebook (about 4 s each). After a failure the
    page is thrown away, so the next notebook starts in a fresh one.
    """

    def __init__(self, browser: Any, server: LabServer) -> None:
        self.browser, self.server = browser, server
        self.context: Any = None
        self.page: Any = None
        self.page_errors: list[str] = []

    def ensure(self, first_path: str) -> bool:
        """Open a page showing ``first_path`` if there is none; True if it did (the notebook is then open)."""
        if self.page is not None:
            return False
        self.context = self.browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        workspace = "t" + re.sub(r"[^A-Za-z0-9]", "", Path(first_path).stem) + secrets.token_hex(3)
        self.page.goto(self.server.notebook_url(first_path, workspace), wait_until="domcontentloaded")
        return True

    def close_notebook(self, path: str) -> None:
        if self.page is None:
            return
        try:
            self.page.wait_for_function(JS_CLOSE, arg=path, timeout=10_000, polling=100)
        except Exception:
            self.reset()

    def reset(self) -> None:
        if self.context is not None:
            try:
                self.context.close()
            except Exception:  # the browser may already be gone at session end
                pass
        self.context = self.page = None


@dataclass
class NotebookRun:
    """One notebook open in the shared JupyterLab page, after Run All."""

    name: str
    path: str  # relative to the server root, e.g. "notebooks/01_x.ipynb"
    lab: LabPage
    page: Any
    seconds_to_open: float = 0.0
    seconds_to_run: float = 0.0
    page_errors_before: int = 0

    @property
    def page_errors(self) -> list[str]:
        """Uncaught JavaScript errors in the page since this notebook was opened."""
        return self.lab.page_errors[self.page_errors_before:]

    def cells(self) -> list[dict]:
        cells = self.page.evaluate(JS_CELLS, self.path)
        assert cells is not None, f"{self.name}: the notebook panel is gone"
        return cells

    def close(self) -> None:
        self.lab.close_notebook(self.path)


def open_and_run(lab: LabPage, name: str, artifacts: Path, run_timeout_s: float = 150.0) -> NotebookRun:
    """Open ``notebooks/<name>``, wait for its kernel, Run All, and wait until every cell ran.

    If it does not get there, a screenshot ``<name>_failed_to_run.png`` is saved and the page thrown away.
    """
    path = f"notebooks/{name}"
    start = time.monotonic()
    if not lab.ensure(path):
        lab.page.evaluate("(path) => { window.jupyterapp.commands.execute('docmanager:open', "
                          "{path, factory: 'Notebook'}); return true; }", path)
    run = NotebookRun(name, path, lab, lab.page, page_errors_before=len(lab.page_errors))
    try:
        _wait_and_run(run, start, run_timeout_s)
    except Exception:
        try:
            artifacts.mkdir(parents=True, exist_ok=True)
            lab.page.screenshot(path=str(artifacts / f"{Path(name).stem}_failed_to_run.png"))
        finally:
            lab.reset()
        raise
    return run


def _wait_and_run(run: NotebookRun, start: float, run_timeout_s: float) -> None:
    page, path = run.page, run.path
    # The execution indicator reads idle before the kernel exists; the status bar's kernel state does not.
    page.wait_for_function(JS_READY, arg=[path, KERNEL_IDLE], timeout=60_000, polling=200)
    run.seconds_to_open = time.monotonic() - start
    start = time.monotonic()
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); return true; }")
    page.wait_for_function(JS_RUN_DONE, arg=[path, KERNEL_IDLE], timeout=run_timeout_s * 1000, polling=250)
    try:  # widget views render asynchronously after their cell finished
        page.wait_for_function(JS_WIDGETS_SETTLED, arg=path, timeout=20_000, polling=250)
    except Exception:
        pass  # reported precisely by the assertions on cells()
    run.seconds_to_run = time.monotonic() - start


def screenshot_notebook(run: NotebookRun, folder: Path, max_height: int = 12_000) -> list[Path]:
    """Screenshots of the whole notebook: the window is made as tall as the notebook (in parts if very long)."""
    folder.mkdir(parents=True, exist_ok=True)
    page, stem = run.page, Path(run.name).stem
    viewport = page.viewport_size
    info = page.evaluate(JS_SCROLLER, [run.path, 0])
    chrome = viewport["height"] - int(info["clientHeight"])  # menu, tabs, toolbar and status bar
    for _ in range(3):  # off-screen cells are laid out with estimated heights until they become visible
        height = min(info["contentHeight"], max_height)
        if page.viewport_size["height"] != height + chrome:
            page.set_viewport_size({"width": viewport["width"], "height": height + chrome})
            page.wait_for_timeout(400)
        new = page.evaluate(JS_SCROLLER, [run.path, 0])
        if new["contentHeight"] == info["contentHeight"]:
            break
        info = new
    paths, top, part = [], 0, 1
    while True:
        info = page.evaluate(JS_SCROLLER, [run.path, top])
        page.wait_for_timeout(200)
        target = folder / (f"{stem}.png" if part == 1 else f"{stem}_part{part}.png")
        page.screenshot(path=str(target))
        paths.append(target)
        top += info["clientHeight"]
        if top >= info["contentHeight"] or part >= 10:
            break
        part += 1
    page.evaluate(JS_SCROLLER, [run.path, 0])
    page.set_viewport_size(viewport)
    return paths


# --- What a learner sees ---------------------------------------------------------------------------------------

def problems_in(cells: list[dict]) -> list[str]:
    """Every way the run notebook differs from a clean run, as messages naming the cell."""
    problems = []
    for cell in cells:
        if cell["type"] != "code" or not cell["source"].strip():
            continue
        where = f"cell {cell['index']} ({cell['source'].strip().splitlines()[0][:60]!r})"
        expected_error = "raises-exception" in cell["tags"]
        if not re.fullmatch(r"\[\d+\]:", cell["prompt"] or ""):
            problems.append(f"{where} did not run: its prompt reads {cell['prompt']!r}")
        if cell["error_outputs"] and not expected_error:
            problems.append(f"{where} shows an error:\n{cell['error_text'][-1500:]}")
        if "Traceback" in cell["stderr"]:
            problems.append(f"{where} printed a traceback on stderr:\n{cell['stderr'][-1500:]}")
        if "Error" in cell["widget_stderr"] or "Traceback" in cell["widget_stderr"]:
            problems.append(f"{where} shows an error inside a widget:\n{cell['widget_stderr'][-1500:]}")
        if "Error displaying widget" in cell["output_text"]:
            problems.append(f"{where} shows 'Error displaying widget'")
        for out in cell["outputs"]:
            if out["widget"] and not out["rendered_widget"]:
                problems.append(f"{where} has a widget output that did not render as a widget")
        match = UNRENDERED_WIDGET.search(cell["plain_text"])
        if match:
            problems.append(f"{where} shows a widget's model text instead of the widget: {match.group(0)!r}...")
        if EXERCISE_CALL.search(cell["source"]) and not cell["feedback"]:
            problems.append(f"{where} calls a checker but shows no exercise feedback (.course-feedback)")
    problems.extend(_quiz_problems(cells))
    return problems


def _quiz_problems(cells: list[dict]) -> list[str]:
    """A notebook that builds a Quiz must render one radio group per ``Question(``."""
    code = [c for c in cells if c["type"] == "code"]
    questions = sum(len(re.findall(r"\bQuestion\(", c["source"])) for c in code)
    builds_quiz = any(re.search(r"\bQuiz\(", c["source"]) for c in code)
    radios = sum(c.get("radio_boxes", 0) for c in code)
    if builds_quiz and radios == 0:
        return ["the notebook builds a Quiz but no quiz question rendered (.widget-radio-box)"]
    if radios < questions:
        return [f"{questions} quiz questions are built but only {radios} rendered as radio buttons"]
    return []


def overlays(page: Any) -> list[str]:
    """Dialogs and toasts left open over the notebook (a learner would have to dismiss them)."""
    found = []
    for selector in (".jp-Dialog", ".Toastify__toast"):
        for element in page.locator(selector).all():
            found.append(f"{selector}: {element.text_content()[:200]!r}")
    return found


# --- Images ------------------------------------------------------------------------------------------------------

def decode_png(src: str):
    """The RGB pixels (a numpy array) of a ``data:image/png;base64,...`` image source."""
    import numpy as np
    from PIL import Image

    assert src and src.startswith("data:image/png;base64,"), f"not a PNG data URL: {str(src)[:60]!r}"
    image = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("RGB")
    return np.asarray(image)


def ink_fraction(pixels) -> float:
    """The share of pixels that are not (near) white: 0 for a blank image."""
    return float((pixels.min(axis=2) < 235).mean())


def color_fraction(pixels, hex_color: str, tolerance: int = 40) -> float:
    """The share of pixels within ``tolerance`` (per channel) of ``hex_color``."""
    import numpy as np

    rgb = np.array([int(hex_color.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)])
    return float((np.abs(pixels.astype(int) - rgb).max(axis=2) <= tolerance).mean())


def changed_fraction(before, after) -> float:
    """The share of pixels that differ between two images (1.0 when their sizes differ)."""
    import numpy as np

    if before.shape != after.shape:
        return 1.0
    return float((np.abs(before.astype(int) - after.astype(int)).max(axis=2) > 30).mean())
