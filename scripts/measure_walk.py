"""A learner's walk through the course in JupyterLab, with the memory it takes: the figures of docs/binder.md.

JupyterLab runs with the settings binder/ ships (binder/jupyter_server_config.py as the server's config, and
binder/overrides.json as the application settings, so *closing a tab shuts its kernel down*). In headless Chromium
(Playwright), each notebook 00-09 is opened in turn, run with *Run All*, and its tab closed with the tab's close
icon (then *Discard*, as a learner who does not keep the outputs). After each step the total resident memory of the
server and all its kernels (every process in the server's tree, /proc VmRSS via psutil) is read, and a sampler
(every 0.25 s) keeps the peak. Memory is in MiB; Binder's budget is 2 GB (2,000,000,000 bytes = 1907 MiB).

    python scripts/measure_walk.py                 # one walk, prints a table
    python scripts/measure_walk.py --repeat 3 --write-docs   # medians of 3 walks into docs/binder.md

The browser tests do the same walk with their own notebook runs (``tests/browser/conftest.py``: their JupyterLab
has these settings, and each notebook's tab is closed with :func:`close_tab` before the next opens), and
``tests/browser/test_walk_memory.py`` fails above the budget.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from lab_driver import _FIND_PANEL, LabPage, course_notebooks, open_and_run, problems_in, start_lab  # noqa: E402

MIB = 1024 * 1024
BUDGET_BYTES = 2_000_000_000  # mybinder.org stops a session at 2 GB
BUDGET_MIB = round(BUDGET_BYTES / MIB)  # 1907
CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
DOCS = ROOT / "docs" / "binder.md"
START_MARK = "<!-- measure_walk:start -->"
END_MARK = "<!-- measure_walk:end -->"
CLOSE_ICON = "#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabCloseIcon"
JS_ACTIVATE = _FIND_PANEL + """
(path) => {
  const panel = findPanel(path);
  if (!panel) return false;
  window.jupyterapp.shell.activateById(panel.id);
  return true;
}
"""


def tree_rss(pid: int) -> tuple[float, int]:
    """(total VmRSS in MiB, number of kernels) of process ``pid`` and all its descendants."""
    import psutil
    try:
        root = psutil.Process(pid)
        procs = [root] + root.children(recursive=True)
    except psutil.NoSuchProcess:
        return 0.0, 0
    total, kernels = 0.0, 0
    for proc in procs:
        try:
            total += proc.memory_info().rss / MIB
            if proc is not root and "ipykernel" in " ".join(proc.cmdline()):
                kernels += 1
        except psutil.Error:
            pass
    return total, kernels


class PeakSampler(threading.Thread):
    """The highest total RSS of the server's tree since the last ``take()``."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak, self.overall = pid, interval, 0.0, 0.0
        self.halt = threading.Event()
        self.lock = threading.Lock()

    def run(self) -> None:
        while not self.halt.is_set():
            total, _ = tree_rss(self.pid)
            with self.lock:
                self.peak = max(self.peak, total)
                self.overall = max(self.overall, total)
            self.halt.wait(self.interval)

    def take(self) -> float:
        with self.lock:
            peak, self.peak = self.peak, 0.0
        return peak


def shipped_settings(tmp: Path, shipped: bool = True) -> None:
    """The server config and JupyterLab defaults binder/postBuild installs, in the folders start_lab uses.

    ``shipped=False``: JupyterLab's own defaults instead (a closed tab keeps its kernel), for comparison.
    """
    config = tmp / "config"
    config.mkdir(parents=True, exist_ok=True)
    app_settings = tmp / "app-settings"
    app_settings.mkdir(exist_ok=True)
    if shipped:
        shutil.copy(ROOT / "binder" / "overrides.json", app_settings / "overrides.json")
    text = (ROOT / "binder" / "jupyter_server_config.py").read_text() if shipped else "c = get_config()\n"
    # Where postBuild puts overrides.json ({sys.prefix}/share/jupyter/lab/settings), here a private folder.
    text += f"\nc.LabApp.app_settings_dir = {str(app_settings)!r}\n"
    (config / "jupyter_server_config.py").write_text(text)


def kernel_count(server) -> int:
    return len(server.api("GET", "/api/kernels"))


def close_tab(lab, path: str, server, shipped: bool = True, kernels_left: int = 0) -> None:
    """Close the tab of ``path`` as a learner does: its close icon, then *Discard* in the "save changes?" dialog;
    then wait until the server has at most ``kernels_left`` kernels (with the shipped setting the kernel goes within
    a second or two; JupyterLab's default keeps it). Raises if the tab or its close icon is not there."""
    if not lab.page.evaluate(JS_ACTIVATE, path):
        raise RuntimeError(f"no open tab for {path}")
    lab.page.click(CLOSE_ICON, timeout=10_000)
    try:
        lab.page.click(".jp-Dialog button:has-text('Discard')", timeout=10_000)
    except Exception:
        pass  # no dialog: the notebook was not marked changed
    deadline = time.monotonic() + (60 if shipped else 3)
    while kernel_count(server) > kernels_left and time.monotonic() < deadline:
        time.sleep(0.25)
    time.sleep(1.0)  # the kernel process exits after its shutdown reply


def walk(browser, tmp: Path, artifacts: Path, log=print, shipped: bool = True) -> dict:
    """One walk through every course notebook; returns the per-step figures and the overall peak."""
    shipped_settings(tmp, shipped)
    server = start_lab(tmp, ROOT / "notebooks")
    sampler = PeakSampler(server.process.pid)
    sampler.start()
    lab = LabPage(browser, server)
    steps = []
    try:
        time.sleep(2)
        idle, _ = tree_rss(server.process.pid)
        steps.append({"step": "server started", "rss_mib": round(idle, 1), "peak_mib": round(sampler.take(), 1),
                      "kernels": kernel_count(server)})
        for notebook in course_notebooks():
            name = notebook.name
            run = open_and_run(lab, name, artifacts, run_timeout_s=300)
            problems = problems_in(run.cells())
            open_rss, open_kernels = tree_rss(server.process.pid)
            close_tab(lab, run.path, server, shipped, kernels_left=0 if shipped else len(steps))
            closed_rss, _ = tree_rss(server.process.pid)
            step = {"step": name, "run_s": round(run.seconds_to_run, 1), "rss_open_mib": round(open_rss, 1),
                    "kernels_open": open_kernels, "peak_mib": round(sampler.take(), 1),
                    "rss_after_close_mib": round(closed_rss, 1), "kernels_after_close": kernel_count(server),
                    "problems": problems}
            log(json.dumps({k: v for k, v in step.items() if k != "problems"}) +
                (f"  PROBLEMS: {problems}" if problems else ""))
            steps.append(step)
    finally:
        sampler.halt.set()
        sampler.join(timeout=5)
        lab.reset()
        server.stop()
        shutil.copy(server.log_path, artifacts / "walk_jupyterlab.log")
    return {"steps": steps, "peak_mib": round(sampler.overall, 1), "budget_mib": BUDGET_MIB}


def medians(walks: list[dict]) -> list[dict]:
    """Per step, the median of each figure over the walks."""
    rows = []
    for i, first in enumerate(walks[0]["steps"]):
        row = {"step": first["step"]}
        for key, value in first.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                row[key] = round(statistics.median(w["steps"][i][key] for w in walks), 1)
        rows.append(row)
    return rows


def import_costs() -> dict:
    """RSS of a fresh kernel-like process: after numpy/matplotlib/ipywidgets, after torch, after torchvision."""
    import subprocess
    code = ("import resource, os\n"
            "def rss():\n"
            "    return int(open('/proc/self/status').read().split('VmRSS:')[1].split()[0]) / 1024\n"
            "import numpy, matplotlib, ipywidgets, IPython; a = rss()\n"
            "import torch; b = rss()\n"
            "import course_utils, course_utils.training, course_utils.placement; c = rss()\n"
            "import torchvision; d = rss()\n"
            "print(a, b, c, d)")
    values = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        values.append([float(x) for x in out.split()])
    med = [statistics.median(v[i] for v in values) for i in range(4)]
    return {"base_mib": round(med[0]), "torch_mib": round(med[1] - med[0]), "course_utils_mib": round(med[2] - med[1]),
            "torchvision_mib": round(med[3] - med[2])}


def markdown(walks: list[dict], costs: dict, torch_version: str, default: dict | None = None) -> str:
    rows = medians(walks)
    peak = statistics.median(w["peak_mib"] for w in walks)
    worst = max(w["peak_mib"] for w in walks)
    lines = [
        START_MARK,
        f"Measured by `python scripts/measure_walk.py --repeat {len(walks)}"
        f"{' --jupyterlab-defaults' if default else ''} --write-docs` (median of {len(walks)} "
        f"walks; torch {torch_version}, this machine's CUDA build, 2 busy cores): JupyterLab with the settings above, "
        "each notebook opened, *Run All*, its tab closed (*Discard*). Resident memory (VmRSS, MiB) of the server and "
        "all its kernels; Binder's budget is 2 GB = 1907 MiB.",
        "",
        "| step | Run All (s) | open, after Run All | peak during the step | after closing the tab | kernels left |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        if row["step"] == "server started":
            lines.append(f"| JupyterLab started, nothing open | | {row['rss_mib']:.0f} | {row['peak_mib']:.0f} | | "
                         f"{row['kernels']:.0f} |")
            continue
        lines.append(f"| {row['step'][:-6]} | {row['run_s']:.1f} | {row['rss_open_mib']:.0f} | "
                     f"{row['peak_mib']:.0f} | {row['rss_after_close_mib']:.0f} | {row['kernels_after_close']:.0f} |")
    lines += [
        "",
        f"Peak of the whole walk: {peak:.0f} MiB (median; highest walk {worst:.0f} MiB), "
        f"{100 * worst / BUDGET_MIB:.0f} % of the budget. With the tab closing its kernel, one kernel at a time is "
        "alive, so the peak is the heaviest notebook's kernel plus the server, not the sum of ten kernels.",
        "",
    ]
    if default is not None:
        after = [s for s in default["steps"][1:]]
        over = next((s["step"][:2] for s in after if s["peak_mib"] > BUDGET_MIB), None)
        lines += [
            "Without the setting (JupyterLab's own default, one walk): every closed notebook keeps its kernel; "
            "after closing each tab the total was " + ", ".join(f"{s['step'][:2]}: {s['rss_after_close_mib']:.0f}"
                                                                  for s in after) +
            f" MiB ({after[-1]['kernels_after_close']} kernels left), peak {default['peak_mib']:.0f} MiB"
            + (f": over 2 GB from notebook {over} on." if over else "."),
            "",
        ]
    lines += [
        f"Where a kernel's memory goes (one process, median of 3): numpy, matplotlib, ipywidgets and IPython "
        f"{costs['base_mib']} MiB; `import torch` +{costs['torch_mib']} MiB; the course's modules "
        f"+{costs['course_utils_mib']} MiB; `import torchvision` +{costs['torchvision_mib']} MiB. `course_utils` "
        "imports torchvision only inside the functions that use it, so only 00 (the environment check), 06 "
        "(torchvision models) and 09 (FrozenBatchNorm2d) pay for it. The CPU build Binder installs takes about "
        "290 MiB less per kernel at `import torch` ([jupyterhub.md](jupyterhub.md#3-resources-per-learner)).",
        END_MARK,
    ]
    return "\n".join(lines)


def write_docs(block: str) -> None:
    text = DOCS.read_text()
    pattern = re.compile(re.escape(START_MARK) + ".*?" + re.escape(END_MARK), re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"{DOCS} has no {START_MARK} ... {END_MARK} block: regenerate it with binder/badges.py")
    DOCS.write_text(pattern.sub(lambda _: block, text))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="number of walks (medians are reported)")
    parser.add_argument("--write-docs", action="store_true", help="replace the figures in docs/binder.md")
    parser.add_argument("--json", type=Path, help="write every walk's figures here")
    parser.add_argument("--jupyterlab-defaults", action="store_true",
                        help="one walk with JupyterLab's own defaults instead (closed tabs keep their kernels), "
                             "printed for comparison; with --write-docs, its peak goes into the docs too")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    import torch
    artifacts = ROOT / "test-artifacts" / "walk"
    artifacts.mkdir(parents=True, exist_ok=True)
    walks = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for i in range(args.repeat):
                with tempfile.TemporaryDirectory(prefix="course-walk-") as tmp:
                    print(f"walk {i + 1} of {args.repeat}")
                    walks.append(walk(browser, Path(tmp), artifacts))
            default = None
            if args.jupyterlab_defaults:
                with tempfile.TemporaryDirectory(prefix="course-walk-") as tmp:
                    print("walk with JupyterLab's defaults (closed tabs keep their kernels)")
                    default = walk(browser, Path(tmp), artifacts, shipped=False)
        finally:
            browser.close()
    costs = import_costs()
    if args.json:
        args.json.write_text(json.dumps({"walks": walks, "import_costs": costs, "defaults": default}, indent=2))
    block = markdown(walks, costs, torch.__version__, default)
    print(block)
    if args.write_docs:
        write_docs(block)
        print(f"wrote the figures into {DOCS.relative_to(ROOT)}")
    over = [w["peak_mib"] for w in walks if w["peak_mib"] > BUDGET_MIB]
    problems = [s["problems"] for w in walks for s in w["steps"] if s.get("problems")]
    return 1 if over or problems else 0


if __name__ == "__main__":
    sys.exit(main())
