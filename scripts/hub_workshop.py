"""A workshop on a real JupyterHub, on this machine: N learners log in, get the course and run notebook 05 at once.

What a small workshop runs (docs/jupyterhub.md), bound to 127.0.0.1 with random free ports and a temporary folder:

- JupyterHub with its configurable-http-proxy (the npm package, installed locally by ``make hub-setup`` into
  ``tests/hub/node_modules``), ``DummyAuthenticator`` (one shared password) and ``SimpleLocalProcessSpawner``
  (JupyterHub's spawner for local tests: every learner's server runs as this OS user, each in its own home folder
  under the temporary folder); each home gets the kernel-culling settings docs/jupyterhub.md ships.
- The course is served from a local bare git clone of this repository's HEAD (``file://``), and each learner gets
  it through nbgitpuller, following the docs' link ``/hub/user-redirect/git-pull?repo=...``.
- Each learner, in its own thread, like a browser through the hub's proxy: logs in with the login form, asks the
  hub API for a token, starts its server, pulls the course, opens ``notebooks/05`` (a session, i.e. a kernel) and
  runs its code cells one by one over the kernel's websocket, as JupyterLab's *Run All* does.

Measured per learner: seconds from login to the server being ready, to the course pulled, to the first output of
notebook 05 ("first result") and to its last cell ("total"), and the peak resident memory of its processes (its
server plus its kernel, /proc VmRSS via psutil, sampled every 0.5 s). Checked: every cell ran without error, no
kernel died or restarted, every learner sees only its own files and cannot reach another learner's server, and
nothing is left running afterwards.

    python scripts/hub_workshop.py --learners 10 --json hub.json        # prints a summary and per-learner lines
    python scripts/hub_workshop.py --learners 3 --markdown              # a table for docs/jupyterhub.md

``tests/test_hub.py`` runs it (N from ``COURSE_HUB_LEARNERS``, 10 by default) and asserts the checks above.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kernel_tools import free_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHP = ROOT / "tests" / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"
NOTEBOOK = "notebooks/05_misplaced_train.ipynb"
COURSE = "train-eval-course"  # the folder nbgitpuller makes in each home (the last part of the repository URL)
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
MIB = 1024 * 1024


def missing_requirements() -> list[str]:
    """What this machine lacks to run the hub (empty when everything is there)."""
    missing = []
    try:
        import jupyterhub  # noqa: F401
    except ImportError:
        missing.append("jupyterhub (pip install -r requirements-hub.txt, or make hub-setup)")
    try:
        import nbgitpuller  # noqa: F401
    except ImportError:
        missing.append("nbgitpuller (pip install -r requirements-hub.txt, or make hub-setup)")
    if not CHP.exists():
        missing.append(f"configurable-http-proxy at {CHP} (make hub-setup: npm ci in tests/hub)")
    if shutil.which("node") is None:
        missing.append("node (configurable-http-proxy runs on Node.js)")
    if shutil.which("git") is None:
        missing.append("git")
    return missing


HUB_CONFIG = '''
import json, os
from pathlib import Path
c = get_config()  # noqa: F821
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {proxy_port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.ConfigurableHTTPProxy.command = [{chp!r}]
c.ConfigurableHTTPProxy.pid_file = {tmp!r} + "/proxy.pid"
c.JupyterHub.db_url = "sqlite:///" + {tmp!r} + "/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = {tmp!r} + "/cookie_secret"
c.JupyterHub.pid_file = {tmp!r} + "/hub.pid"
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {homes!r} + "/{{username}}"
c.Spawner.cmd = [{singleuser!r}]
c.Spawner.args = {args!r}
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = {timeout}
c.Spawner.http_timeout = {timeout}
# As the image in docs/jupyterhub.md: one torch thread per kernel, course_utils from the learner's copy.
c.Spawner.environment = {{
    "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    "PYTHONPATH": lambda spawner: {homes!r} + "/" + spawner.user.name + "/{course}",
}}

def pre_spawn_hook(spawner):
    home = Path({homes!r}) / spawner.user.name
    (home / ".jupyter").mkdir(parents=True, exist_ok=True)
    # The kernel culling docs/jupyterhub.md ships (jupyter_server_config.json in the image).
    (home / ".jupyter" / "jupyter_server_config.json").write_text(json.dumps(
        {{"MappingKernelManager": {{"cull_idle_timeout": 1200, "cull_interval": 60, "cull_connected": True}}}}))
    # A file only this learner should see.
    (home / ("learner-" + spawner.user.name + ".txt")).write_text(spawner.user.name)

c.Spawner.pre_spawn_hook = pre_spawn_hook
'''


@dataclass
class LearnerResult:
    name: str
    ok: bool = False
    error: str = ""
    seconds_to_server: float = float("nan")
    seconds_to_course: float = float("nan")
    seconds_to_first_result: float = float("nan")
    seconds_total: float = float("nan")
    cells: int = 0
    cell_errors: list[str] = field(default_factory=list)
    kernel_events: list[str] = field(default_factory=list)  # 'restarting' / 'dead' statuses seen on iopub
    kernel_alive_after: bool = False
    own_files: list[str] = field(default_factory=list)
    foreign_files: list[str] = field(default_factory=list)
    other_server_status: int = 0  # what this learner gets from another learner's server (after redirects)
    other_server_url: str = ""  # where that request ended
    kernel_cwd: str = ""
    course_utils_file: str = ""
    peak_mib: float = 0.0
    cpu_seconds: float = 0.0  # CPU time of this learner's server and kernels


class Hub:
    """A running JupyterHub (hub + proxy), its temporary folder and the processes it started."""

    def __init__(self, tmp: Path, timeout: float) -> None:
        self.tmp, self.password = tmp, secrets.token_hex(8)
        self.homes = tmp / "homes"
        self.homes.mkdir(parents=True)
        self.proxy_port, hub_port, api_port = free_port(), free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.proxy_port}"
        config = HUB_CONFIG.format(proxy_port=self.proxy_port, hub_port=hub_port, api_port=api_port,
                                   chp=str(CHP), tmp=str(tmp), password=self.password, homes=str(self.homes),
                                   singleuser=str(BIN / "jupyterhub-singleuser"), timeout=int(timeout),
                                   args=["--allow-root"] if IS_ROOT else [], course=COURSE)
        (tmp / "jupyterhub_config.py").write_text(config)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY", "IPYTHON", "MPLBACKEND"))}
        env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
        env["CONFIGPROXY_AUTH_TOKEN"] = secrets.token_hex(16)
        self.log_path = tmp / "jupyterhub.log"
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen([str(BIN / "jupyterhub"), "-f", str(tmp / "jupyterhub_config.py")],
                                        cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.seen_pids: dict[int, str] = {}  # every process of the hub's tree ever seen, with its command
        import requests
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyterhub exited ({self.process.returncode}):\n{self.log()[-4000:]}")
            try:
                if requests.get(self.url + "/hub/api", timeout=3).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"JupyterHub did not answer on {self.url}/hub/api within 120 s:\n{self.log()[-4000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def tree(self):
        """The hub process and all its descendants (the proxy, every learner's server and kernels)."""
        import psutil
        try:
            hub = psutil.Process(self.process.pid)
            procs = [hub] + hub.children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        for p in procs:
            if p.pid not in self.seen_pids:
                try:
                    self.seen_pids[p.pid] = " ".join(p.cmdline())[:200]
                except psutil.Error:
                    self.seen_pids[p.pid] = "?"
        return procs

    def stop(self) -> list[str]:
        """Stop the hub (which stops the servers it spawned and its proxy); return what was still running."""
        import psutil
        self.tree()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        left = []
        deadline = time.monotonic() + 30
        for pid, cmd in self.seen_pids.items():
            try:
                proc = psutil.Process(pid)
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except psutil.NoSuchProcess:
                continue
            except psutil.TimeoutExpired:
                left.append(f"{pid}: {cmd}")
                try:
                    proc.kill()
                except psutil.Error:
                    pass
        return left


class MemorySampler(threading.Thread):
    """Samples the resident memory of each learner's processes (server + kernels) and of the whole hub."""

    def __init__(self, hub: Hub, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.hub, self.interval = hub, interval
        self.owner: dict[int, str] = {}
        self.peak: dict[str, float] = {}
        self.peak_total = 0.0
        self.cpu: dict[int, float] = {}  # last CPU seconds (user + system) seen per process
        self.samples = 0
        self.halt = threading.Event()

    def _owner(self, proc) -> str:
        import psutil
        if proc.pid not in self.owner:
            try:
                self.owner[proc.pid] = proc.environ().get("JUPYTERHUB_USER", "")
            except psutil.Error:
                return ""
        return self.owner[proc.pid]

    def cpu_seconds(self, user: str) -> float:
        """CPU seconds used by ``user``'s processes (server and kernels), as last sampled."""
        return sum(t for pid, t in self.cpu.items() if self.owner.get(pid) == user)

    def run(self) -> None:
        import psutil
        while not self.halt.is_set():
            per_user: dict[str, float] = {}
            total = 0.0
            for proc in self.hub.tree():
                try:
                    rss = proc.memory_info().rss / MIB
                    times = proc.cpu_times()
                    self.cpu[proc.pid] = times.user + times.system
                except psutil.Error:
                    continue
                total += rss
                user = self._owner(proc)
                if user:
                    per_user[user] = per_user.get(user, 0.0) + rss
            for user, rss in per_user.items():
                self.peak[user] = max(self.peak.get(user, 0.0), rss)
            self.peak_total = max(self.peak_total, total)
            self.samples += 1
            self.halt.wait(self.interval)


def code_cells(nb: dict) -> list[tuple[str, bool]]:
    """(source, may raise) of each non-empty code cell of a notebook's JSON."""
    cells = []
    for cell in nb["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "code" and source.strip():
            tags = cell.get("metadata", {}).get("tags", [])
            cells.append((source, "raises-exception" in tags))
    return cells


class Learner(threading.Thread):
    """One learner at a browser: every request goes through the hub's proxy."""

    def __init__(self, hub: Hub, name: str, repo_url: str, names: list[str], start_at: float,
                 cell_timeout: float, deadline: float) -> None:
        super().__init__(daemon=True)
        self.hub, self.name, self.repo_url, self.names = hub, name, repo_url, names
        self.start_at, self.cell_timeout, self.deadline = start_at, cell_timeout, deadline
        self.result = LearnerResult(name)

    def run(self) -> None:
        try:
            self._run()
            self.result.ok = not self.result.cell_errors and not self.result.kernel_events
        except Exception as exc:  # reported in the result: the test prints every learner's failure
            self.result.error = f"{type(exc).__name__}: {exc}"

    def left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the workshop's time limit was reached")
        return left

    def _run(self) -> None:
        import requests
        r = self.result
        time.sleep(max(0.0, self.start_at - time.monotonic()))
        t0 = time.monotonic()
        hub = self.hub.url
        s = requests.Session()
        # 1. The login form (DummyAuthenticator: any name, the shared password), as a browser posts it.
        page = s.get(f"{hub}/hub/login", timeout=60)
        page.raise_for_status()
        xsrf = re.search(r'name="_xsrf"\s+value="([^"]+)"', page.text)
        form = {"username": self.name, "password": self.hub.password}
        if xsrf:
            form["_xsrf"] = xsrf.group(1)
        resp = s.post(f"{hub}/hub/login", data=form, allow_redirects=False, timeout=60)
        assert resp.status_code == 302, f"login answered {resp.status_code}: {resp.text[:300]}"
        # 2. A token for this learner from the hub's API (cookie + XSRF header, as the hub's own pages do).
        resp = s.post(f"{hub}/hub/api/users/{self.name}/tokens", json={"note": "workshop test", "expires_in": 3600},
                      headers={"X-XSRFToken": s.cookies.get("_xsrf", path="/hub/") or ""}, timeout=60)
        assert resp.status_code in (200, 201), f"token request answered {resp.status_code}: {resp.text[:300]}"
        auth = {"Authorization": f"token {resp.json()['token']}"}
        # 3. Start the server and wait until the hub says it is ready.
        resp = s.post(f"{hub}/hub/api/users/{self.name}/server", headers=auth, timeout=60)
        assert resp.status_code in (201, 202), f"server start answered {resp.status_code}: {resp.text[:300]}"
        while True:
            info = s.get(f"{hub}/hub/api/users/{self.name}", headers=auth, timeout=60).json()
            server = (info.get("servers") or {}).get("", {})
            if server.get("ready"):
                break
            self.left()
            time.sleep(1)
        r.seconds_to_server = time.monotonic() - t0
        user = f"{hub}/user/{self.name}"
        # 4. The course, through the nbgitpuller link of docs/jupyterhub.md (here with a file:// repository).
        query = urlencode({"repo": self.repo_url, "branch": "main",
                           "urlpath": f"lab/tree/{COURSE}/notebooks/00_start_here.ipynb"})
        # The hub redirects the link to this learner's server (through /hub/spawn when it is already running).
        resp = s.get(f"{hub}/hub/user-redirect/git-pull?{query}", headers=auth, timeout=60)
        assert resp.status_code == 200 and resp.url.startswith(f"{user}/git-pull?"), (
            f"the nbgitpuller link ended at {resp.url} ({resp.status_code}), not this learner's git-pull page")
        finished = False
        with s.get(f"{user}/git-pull/api?" + urlencode({"repo": self.repo_url, "branch": "main",
                                                         "targetpath": COURSE}),
                   headers=auth, stream=True, timeout=self.left()) as stream:
            for line in stream.iter_lines(decode_unicode=True):
                if line and line.startswith("data:"):
                    event = json.loads(line[5:])
                    if event.get("phase") == "error":
                        raise RuntimeError(f"nbgitpuller: {event.get('message')}")
                    if event.get("phase") == "finished":
                        finished = True
                        break
        assert finished, "nbgitpuller's event stream ended without 'finished'"
        r.seconds_to_course = time.monotonic() - t0
        # 5. What this learner sees, and whether another learner's server lets it in.
        listing = s.get(f"{user}/api/contents", headers=auth, timeout=60).json()
        r.own_files = sorted(item["name"] for item in listing["content"])
        r.foreign_files = [f for f in r.own_files if f.startswith("learner-") and f != f"learner-{self.name}.txt"]
        # 6. Open notebook 05 (a session starts its kernel) and run every code cell over the kernel's websocket.
        path = f"{COURSE}/{NOTEBOOK}"
        resp = s.post(f"{user}/api/sessions", headers=auth, timeout=120,
                      json={"path": path, "name": Path(path).name, "type": "notebook", "kernel": {"name": "python3"}})
        assert resp.status_code == 201, f"opening {path} answered {resp.status_code}: {resp.text[:300]}"
        session_id, kernel_id = resp.json()["id"], resp.json()["kernel"]["id"]
        model = s.get(f"{user}/api/contents/{quote(path)}", params={"content": "1"}, headers=auth, timeout=60)
        assert model.status_code == 200, f"reading {path} answered {model.status_code}"
        cells = code_cells(model.json()["content"])
        check = ("import os, course_utils; print('CWD', os.getcwd()); print('COURSE_UTILS', course_utils.__file__)",
                 False)
        self._run_cells(f"ws://127.0.0.1:{self.hub.proxy_port}/user/{self.name}/api/kernels/{kernel_id}/channels",
                        auth, cells + [check], t0)
        r.seconds_total = time.monotonic() - t0
        # Another learner's files, with this learner's token and cookies (redirects followed, as a browser does).
        other = next(n for n in self.names if n != self.name) if len(self.names) > 1 else None
        if other:
            resp = s.get(f"{hub}/user/{other}/api/contents", headers=auth, timeout=60)
            r.other_server_status = resp.status_code
            r.other_server_url = resp.url.replace(hub, "")
        kernel = s.get(f"{user}/api/kernels/{kernel_id}", headers=auth, timeout=60)
        r.kernel_alive_after = kernel.status_code == 200 and kernel.json().get("execution_state") == "idle"
        # 7. Close the notebook (its session and kernel), as closing its tab does with the shipped setting.
        closed = s.delete(f"{user}/api/sessions/{session_id}", headers=auth, timeout=60)
        assert closed.status_code == 204, f"closing the notebook's session answered {closed.status_code}"

    def _run_cells(self, ws_url: str, auth: dict, cells: list[tuple[str, bool]], t0: float) -> None:
        import websocket
        r = self.result
        ws = websocket.create_connection(ws_url, header=[f"{k}: {v}" for k, v in auth.items()],
                                         timeout=min(self.cell_timeout, self.left()))
        session = uuid.uuid4().hex
        try:
            for index, (source, may_raise) in enumerate(cells):
                msg_id = uuid.uuid4().hex
                ws.send(json.dumps({
                    "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": self.name,
                               "session": session, "version": "5.3", "date": ""},
                    "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                    "content": {"code": source, "silent": False, "store_history": True,
                                "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}}))
                cell_deadline = time.monotonic() + min(self.cell_timeout, self.left())
                replied = idle = False
                while not (replied and idle):
                    if time.monotonic() > cell_deadline:
                        raise TimeoutError(f"cell {index} did not finish within {self.cell_timeout:.0f} s")
                    ws.settimeout(max(1.0, cell_deadline - time.monotonic()))
                    msg = json.loads(ws.recv())
                    kind = msg.get("msg_type") or msg["header"]["msg_type"]
                    parent = msg.get("parent_header", {}).get("msg_id")
                    if kind == "status" and msg["content"]["execution_state"] in ("restarting", "dead"):
                        r.kernel_events.append(f"cell {index}: kernel {msg['content']['execution_state']}")
                        raise RuntimeError(f"the kernel {msg['content']['execution_state']} during cell {index}")
                    if parent != msg_id:
                        continue
                    if kind in ("stream", "execute_result", "display_data") and r.seconds_to_first_result != \
                            r.seconds_to_first_result:  # NaN: nothing shown yet
                        r.seconds_to_first_result = time.monotonic() - t0
                    if kind == "stream" and index == len(cells) - 1:
                        for line in msg["content"]["text"].splitlines():
                            if line.startswith("CWD "):
                                r.kernel_cwd = line[4:]
                            if line.startswith("COURSE_UTILS "):
                                r.course_utils_file = line[13:]
                    if kind == "execute_reply":
                        replied = True
                        content = msg["content"]
                        if content["status"] != "ok" and not may_raise:
                            r.cell_errors.append(f"cell {index}: {content.get('ename')}: {content.get('evalue')}")
                    if kind == "status" and msg["content"]["execution_state"] == "idle":
                        idle = True
                r.cells = index + 1
                if r.cell_errors:
                    break
        finally:
            ws.close()


def make_repository(tmp: Path) -> str:
    """A bare clone of this repository's HEAD, served as file:// (what a hub's git server would serve)."""
    bare = tmp / "git" / COURSE
    subprocess.run(["git", "clone", "--quiet", "--bare", "--branch", current_branch(), str(ROOT), str(bare)],
                   check=True, capture_output=True)
    # nbgitpuller pulls branch "main" as the docs' link says; name HEAD's branch so whatever is checked out here.
    subprocess.run(["git", "--git-dir", str(bare), "branch", "-f", "main", "HEAD"], capture_output=True)
    return "file://" + str(bare)


def current_branch() -> str:
    out = subprocess.run(["git", "rev-parse", "--abbrev-ref", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    name = out.stdout.strip()
    return name if out.returncode == 0 and name and name != "HEAD" else "main"


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def run_workshop(learners: int = 10, timeout: float = 1500.0, cell_timeout: float = 900.0,
                 tmp: Path | None = None, keep: bool = False) -> dict:
    """Run the whole workshop and return its figures and checks (see the module docstring)."""
    missing = missing_requirements()
    if missing:
        raise RuntimeError("cannot start the hub: missing " + "; ".join(missing))
    own_tmp = tmp is None
    tmp = Path(tempfile.mkdtemp(prefix="course-hub-")) if own_tmp else tmp
    started = time.monotonic()
    load_before = load_average()
    hub = sampler = None
    results: list[LearnerResult] = []
    left_running: list[str] = []
    log_tail = ""
    try:
        repo_url = make_repository(tmp)
        hub = Hub(tmp / "hub", timeout=min(timeout, 600))
        sampler = MemorySampler(hub)
        sampler.start()
        names = [f"learner{i:02d}" for i in range(1, learners + 1)]
        deadline = time.monotonic() + timeout
        start_at = time.monotonic() + 1.0  # everyone clicks at once
        threads = [Learner(hub, name, repo_url, names, start_at, cell_timeout, deadline) for name in names]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=max(1.0, deadline - time.monotonic() + 30))
        for t in threads:
            if t.is_alive():
                t.result.error = t.result.error or "still running when the workshop's time limit was reached"
            t.result.peak_mib = round(sampler.peak.get(t.name, 0.0), 1)
            t.result.cpu_seconds = round(sampler.cpu_seconds(t.name), 1)
            results.append(t.result)
    finally:
        if sampler is not None:
            sampler.halt.set()
            sampler.join(timeout=10)
        homes = sorted(p.name for p in hub.homes.iterdir()) if hub is not None else []
        if hub is not None:
            log_tail = hub.log()[-6000:]
            hub_log = hub.log()
            left_running = hub.stop()
        else:
            hub_log = ""
        if own_tmp and not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    done = [r for r in results if r.ok]
    figures = {
        "learners": learners,
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_average()],
        "wall_seconds": round(time.monotonic() - started, 1),
        "peak_total_mib": round(sampler.peak_total, 1) if sampler else None,
        "memory_samples": sampler.samples if sampler else 0,
        "kernel_restarts_in_log": len(re.findall(r"restarting kernel|Kernel died|KernelRestarter", hub_log,
                                                 re.IGNORECASE)),
        "left_running": left_running,
        "tmp": str(tmp),
        "homes": homes,
        "tmp_removed": not tmp.exists() if own_tmp and not keep else None,
        "learners_ok": len(done),
        "results": [{k: (round(v, 1) if isinstance(v, float) else v) for k, v in asdict(r).items()}
                    for r in results],
    }
    for key in ("seconds_to_server", "seconds_to_course", "seconds_to_first_result", "seconds_total", "peak_mib",
                "cpu_seconds"):
        values = [getattr(r, key) for r in done]
        if values:
            figures[key] = {"median": round(statistics.median(values), 1), "min": round(min(values), 1),
                            "max": round(max(values), 1)}
    figures["hub_log_tail"] = log_tail
    return figures


def markdown(figures: dict) -> str:
    rows = ["| learner | server ready (s) | course pulled (s) | first result (s) | total (s) | peak memory (MiB) "
            "| CPU (s) |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in figures["results"]:
        rows.append(f"| {r['name']} | {r['seconds_to_server']} | {r['seconds_to_course']} | "
                    f"{r['seconds_to_first_result']} | {r['seconds_total']} | {r['peak_mib']} | {r['cpu_seconds']} |")
    summary = (f"{figures['learners']} learners at once, {figures['learners_ok']} ran notebook 05 to the end; "
               f"{figures['cpus']} CPUs, load average before {figures['load_average_before'][0]}, after "
               f"{figures['load_average_after'][0]}; whole hub (hub, proxy, servers, kernels) peaked at "
               f"{figures['peak_total_mib']} MiB; wall time {figures['wall_seconds']} s.")
    return summary + "\n\n" + "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=int(os.environ.get("COURSE_HUB_LEARNERS", "10")))
    parser.add_argument("--timeout", type=float, default=1500.0, help="seconds for the whole workshop")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (for debugging)")
    args = parser.parse_args(argv)
    figures = run_workshop(args.learners, timeout=args.timeout, keep=args.keep)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    printable = {k: v for k, v in figures.items() if k not in ("results", "hub_log_tail")}
    print(json.dumps(printable, indent=2))
    for r in figures["results"]:
        print(json.dumps(r))
    if args.markdown:
        print(markdown(figures))
    return 0 if figures["learners_ok"] == args.learners and not figures["left_running"] else 1


if __name__ == "__main__":
    sys.exit(main())
