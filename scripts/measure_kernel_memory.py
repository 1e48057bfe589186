"""Measure the memory one learner's kernel uses, to size a JupyterHub or check Binder's limit.

Starts a fresh IPython kernel per notebook (as JupyterLab does), runs every code cell, and reads the kernel
process's memory from /proc (Linux only):

- RSS (VmRSS): resident memory now, counting shared libraries in full (torch's libraries are most of it);
- peak (VmHWM): the highest RSS the kernel reached;
- PSS (smaps_rollup): RSS with shared pages divided among the processes sharing them.

Optionally (``--server``) also measures an idle JupyterLab server, the other per-learner process on a hub.

    python scripts/measure_kernel_memory.py notebooks/01_train_is_a_switch.ipynb notebooks/05_misplaced_train.ipynb
    python scripts/measure_kernel_memory.py --server --json memory.json notebooks/*.ipynb
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kernel_tools import free_port, kernel_manager, proc_memory  # noqa: E402


def _run(kc, code: str, timeout: float) -> str | None:
    """Run ``code`` in the kernel; return the error name or None."""
    reply = kc.execute_interactive(code, timeout=timeout, output_hook=lambda msg: None)
    content = reply["content"]
    return None if content["status"] == "ok" else f"{content.get('ename')}: {content.get('evalue')}"


def measure_notebook(path: Path, timeout: float = 120.0) -> dict:
    """Run every code cell of ``path`` in a fresh kernel; memory before, after ``import torch`` and at the end."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no notebook at {str(path)!r}")
    nb = nbformat.read(path, as_version=4)
    km, socket_dir = kernel_manager((), "memory")
    km.start_kernel(cwd=str(path.parent))
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        pid = km.provisioner.process.pid
        result = {"notebook": path.name, "idle": proc_memory(pid)}
        _run(kc, "import torch, torchvision, course_utils", timeout)
        result["after_import"] = proc_memory(pid)
        started = time.perf_counter()
        errors = []
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and cell.source.strip():
                err = _run(kc, cell.source, timeout)
                if err:
                    errors.append(f"cell {i}: {err}")
        result["run_seconds"] = round(time.perf_counter() - started, 1)
        result["after_run"] = proc_memory(pid)
        result["errors"] = errors
        return result
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        shutil.rmtree(socket_dir, ignore_errors=True)


def measure_server(settle_seconds: float = 3.0) -> dict:
    """Start an idle JupyterLab server on 127.0.0.1, wait until it answers, and read its memory."""
    port, token = free_port(), secrets.token_hex(16)
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, JUPYTER_CONFIG_DIR=f"{tmp}/config", JUPYTER_RUNTIME_DIR=f"{tmp}/runtime",
                   IPYTHONDIR=f"{tmp}/ipython")
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp}"]
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 60
            while time.time() < deadline:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
                    break
                except OSError:
                    time.sleep(0.5)
            else:
                raise RuntimeError("JupyterLab did not answer within 60 s")
            time.sleep(settle_seconds)
            return {"process": "jupyterlab server (idle)", **proc_memory(proc.pid)}
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure a course kernel's memory (Linux /proc).")
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--server", action="store_true", help="also measure an idle JupyterLab server")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    results = {"notebooks": [], "server": None}
    print("| notebook | run (s) | RSS after import torch (MiB) | RSS after run | peak | PSS after run | errors |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for path in args.notebooks:
        if not path.is_file():
            print(f"| {path.name} | (missing: skipped) | | | | | |")
            continue
        r = measure_notebook(path)
        results["notebooks"].append(r)
        print(f"| {r['notebook']} | {r['run_seconds']} | {r['after_import']['rss']} | {r['after_run']['rss']} | "
              f"{r['after_run']['peak']} | {r['after_run']['pss']} | {len(r['errors'])} |")
        for e in r["errors"]:
            print(f"    {e}", file=sys.stderr)
    if args.server:
        results["server"] = measure_server()
        s = results["server"]
        print(f"\nIdle JupyterLab server: RSS {s['rss']} MiB, PSS {s['pss']} MiB")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
