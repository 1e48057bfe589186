"""Start JupyterLab the way the course's instructions say (``make lab``, the README's "Without make" line,
binder/postBuild's config) and look at what a learner gets: the server's root folder and the printed link.

Used by ``tests/test_launch.py`` and ``tests/browser/test_make_lab.py``. Each server gets private config,
runtime, data, settings and workspace folders, an explicit token, and is stopped through its own process handle.
"""
from __future__ import annotations

import os
import re
import secrets
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts.kernel_tools import free_port, stop_process  # noqa: E402,F401 (free_port: used by the tests)

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
START = "notebooks/00_start_here.ipynb"
START_PATH = "/lab/tree/" + START
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
# What the file browser must show at the course root.
COURSE_ROOT_ENTRIES = {"README.md", "notebooks", "solutions", "docs"}
_PRINTED_URL = re.compile(r"(http://127\.0\.0\.1:(\d+)/\S*)")


def private_env(tmp: Path) -> dict[str, str]:
    """The environment of a learner's shell in the course's venv, with Jupyter's folders moved into ``tmp``."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # imports must work through the installed packages, as for a learner
    env.pop("MPLBACKEND", None)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    for name, folder in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                         ("IPYTHONDIR", "ipython"), ("JUPYTER_DATA_DIR", "data")):
        (tmp / folder).mkdir(parents=True, exist_ok=True)
        env[name] = str(tmp / folder)
    return env


def private_flags(tmp: Path, token: str) -> list[str]:
    """Options a test adds to a documented command line: no browser, a known token, private lab folders."""
    settings = tmp / "settings" / "@jupyterlab"
    for plugin, data in (("apputils-extension/notification", '{"fetchNews": "false", "checkForUpdates": false}'),
                         ("docmanager-extension/plugin", '{"autosave": false}')):
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(data)
    return ["--no-browser", f"--IdentityProvider.token={token}", "--ServerApp.port_retries=0",
            f"--LabApp.user_settings_dir={tmp / 'settings'}", f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]


def make_lab_command(port: int, extra_flags: list[str]) -> list[str]:
    """The command ``make lab`` runs (from ``make -n``, so nothing is installed), with this interpreter's bin/."""
    out = subprocess.run(["make", "--no-print-directory", "-n", "lab", f"LAB_PORT={port}", f"BIN={BIN}",
                          f"LAB_FLAGS={shlex.join(extra_flags)}"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    lines = [ln for ln in out.replace("\\\n", " ").splitlines() if re.search(r"jupyter\S*\s+lab\b", ln)]
    assert len(lines) == 1, f"`make -n lab` should run one `jupyter lab` command, got:\n{out}"
    return shlex.split(lines[0])


@dataclass
class Launched:
    """A JupyterLab started from a documented command line."""

    process: subprocess.Popen
    port: int
    token: str
    printed_url: str
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str, token: bool = True) -> tuple[int, str, str]:
        """(status, final URL after redirects, body) of a GET, with or without the token."""
        url = self.base + path
        if token:
            url += ("&" if "?" in url else "?") + "token=" + self.token
        try:
            with urllib.request.urlopen(url, timeout=15) as response:
                return response.status, response.geturl(), response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as err:
            return err.code, url, ""

    def request(self, method: str, path: str) -> tuple[int, str, str]:
        """(status, URL, body) of a request with the token (e.g. POST /api/kernels)."""
        request = urllib.request.Request(self.base + path, method=method, data=b"" if method != "GET" else None,
                                         headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.geturl(), response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as err:
            return err.code, self.base + path, ""

    def wait_for_log(self, text: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return True
            time.sleep(0.25)
        return False

    def root_entries(self) -> set[str]:
        """What the file browser shows at the server's root."""
        import json
        status, _, body = self.get("/api/contents")
        assert status == 200, f"GET /api/contents answered {status}"
        return {item["name"] for item in json.loads(body)["content"]}

    def printed_path(self) -> str:
        return urllib.parse.urlparse(self.printed_url).path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        stop_process(self.process)


def launch(argv: list[str], tmp: Path, port: int, token: str, timeout: float = 90.0) -> Launched:
    """Run ``argv`` from the course root; wait for the printed link and for the API to answer."""
    log_path = tmp / "jupyterlab.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(argv, cwd=ROOT, env=private_env(tmp), stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    server = Launched(process, port, token, "", log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        found = [m for m in _PRINTED_URL.finditer(server.log()) if int(m.group(2)) == port]
        if found:
            server.printed_url = found[0].group(1)
            try:
                if server.get("/api/status")[0] == 200:
                    return server
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
        time.sleep(0.25)
    server.stop()
    raise AssertionError(f"{shlex.join(argv)}\ndid not serve a link on port {port} within {timeout:.0f} s "
                         f"(exit code {process.returncode}); log:\n{server.log()[-3000:]}")


def new_token() -> str:
    return secrets.token_hex(16)


def check_course_server(server: Launched) -> None:
    """What every documented way to start JupyterLab must give a learner."""
    assert server.printed_path() == START_PATH, (
        f"the printed link {server.printed_url} should open {START} ({START_PATH})")
    entries = server.root_entries()
    assert COURSE_ROOT_ENTRIES <= entries, (
        f"the file browser should show the course root; missing {sorted(COURSE_ROOT_ENTRIES - entries)} "
        f"(it shows {sorted(entries)})")
    status, final_url, _ = server.get("/")
    assert status == 200 and final_url.split("?")[0].endswith(START_PATH), (
        f"/ should redirect to {START_PATH}, went to {final_url} ({status})")
    status, _, body = server.get(START_PATH)
    assert status == 200 and f'"treePath": "{START}"' in body, (
        f"{START_PATH} should be JupyterLab opening {START} (status {status})")
    assert server.get("/api/contents", token=False)[0] == 403, "the server must require its token"
