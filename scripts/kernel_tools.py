"""Starting a notebook kernel and reading its memory: the one implementation the health tests, the benchmark and
the memory script share.

- :func:`kernel_manager`: a ``jupyter_client`` kernel manager for this environment's Python, optionally started
  under a command prefix (``taskset -c 0`` to pin a core, ``unshare -rn`` to cut the network), talking over unix
  sockets in a private folder (which also reaches a kernel in another network namespace);
- :func:`offline_prefix`: the prefix (``unshare -rn``) that cuts a process off from the network, where there is one;
- :func:`run_cells`: execute a notebook's code cells in the kernel a kernel manager has started (nbclient), as
  ``jupyter nbconvert --execute`` would, optionally keeping the widget state;
- :func:`proc_memory`: resident memory now, its high-water mark and the proportional share, from /proc (Linux);
- :func:`free_port` and :func:`stop_process`: a free port on 127.0.0.1 for a server, and stopping a server
  through its own process handle (terminate, then kill if it does not exit).

Used by the health tests and the site build (one execution serves both), the benchmark, the memory and walk
scripts and the lab tools. Scripts import it as ``kernel_tools`` (they run from this folder); tests as
``scripts.kernel_tools``.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Sequence

MIB = 1024 * 1024


def kernel_manager(prefix: Sequence[str] = (), name: str = "kernel"):
    """``(km, socket_dir)``: a kernel manager whose kernel runs this environment's Python (as nbval's
    ``--nbval-current-env`` does) behind ``prefix``; remove ``socket_dir`` after ``km.shutdown_kernel()``."""
    from jupyter_client.manager import KernelManager

    command_prefix = list(prefix)

    class PrefixedKernelManager(KernelManager):
        def format_kernel_cmd(self, extra_arguments=None):
            cmd = super().format_kernel_cmd(extra_arguments)
            if any("ipykernel" in part for part in cmd):
                cmd[0] = sys.executable
            return command_prefix + cmd

    socket_dir = tempfile.mkdtemp(prefix=f"course-{name}-")
    # ipc (unix sockets) works inside `unshare -rn`, where even 127.0.0.1 is down; Windows has only tcp.
    transport = {"transport": "ipc", "ip": os.path.join(socket_dir, "kernel")} if os.name == "posix" else {}
    km = PrefixedKernelManager(kernel_name="python3", **transport)
    return km, socket_dir


def offline_prefix() -> tuple[list[str], str]:
    """``(prefix, "")`` where ``prefix`` (``unshare -rn`` or ``unshare -n``) runs a command with no network at all
    (a new network namespace), or ``([], reason)`` where that is not possible here."""
    import shutil

    if not sys.platform.startswith("linux"):
        return [], f"network namespaces need Linux (this is {sys.platform})"
    if shutil.which("unshare") is None:
        return [], "the `unshare` command (util-linux) is not installed"
    reason = ""
    for prefix in (["unshare", "-rn"], ["unshare", "-n"]):
        try:
            done = subprocess.run(prefix + ["true"], capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired) as error:
            reason = str(error)
            continue
        if done.returncode == 0:
            return prefix, ""
        reason = done.stderr.strip() or f"exit code {done.returncode}"
    return [], f"`unshare -rn true` failed here ({reason}); user namespaces are probably disabled"


def run_cells(km, nb, timeout: float, skip_tags: Sequence[str] = (), store_widget_state: bool = False,
              startup_timeout: float = 60) -> None:
    """Execute the code cells of ``nb`` (in place, top to bottom) in the kernel ``km`` has started.

    Cells tagged with one of ``skip_tags`` are left alone. Like ``NotebookClient.execute``: the notebook's
    ``language_info`` comes from the kernel, and with ``store_widget_state`` the final state of every widget is
    saved in the notebook's metadata (what a page without a kernel draws widgets from). Raises nbclient's
    ``CellExecutionError`` at the first failing cell (its output holds the error), or whatever stopped the kernel.
    """
    from nbclient import NotebookClient

    client = NotebookClient(nb, km=km, timeout=timeout, startup_timeout=startup_timeout, kernel_name="python3",
                            allow_errors=False, store_widget_state=store_widget_state)
    client.kc = km.client()
    client.kc.start_channels()
    try:
        client.kc.wait_for_ready(timeout=startup_timeout)
        info = client.wait_for_reply(client.kc.kernel_info())
        if info is not None and "language_info" in info["content"]:
            nb.metadata["language_info"] = info["content"]["language_info"]
        skip = set(skip_tags)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and not skip & set(cell.metadata.get("tags", [])):
                client.execute_cell(cell, index)
        if store_widget_state:
            client.set_widgets_metadata()
    finally:
        client.kc.stop_channels()


def proc_memory(pid: int) -> dict[str, float]:
    """Memory of process ``pid`` in MiB: ``rss`` (VmRSS), ``peak`` (VmHWM) and ``pss`` (smaps_rollup; NaN where
    unreadable). Raises ValueError for a pid that is not a live process."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        raise ValueError(f"pid must be a positive int, got {pid!r}")
    status = Path(f"/proc/{pid}/status")
    try:
        text = status.read_text()
    except OSError as error:
        raise ValueError(f"no process with pid {pid} (or no /proc: this needs Linux): {error}") from None
    fields = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) * 1024 / MIB  # values are in kB
    pss = float("nan")
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1]) * 1024 / MIB
    except OSError:
        pass
    return {"rss": round(fields.get("VmRSS", 0.0), 1), "peak": round(fields.get("VmHWM", 0.0), 1),
            "pss": round(pss, 1)}


def peak_mib(pid: int | None) -> float | None:
    """The high-water mark of a process's resident memory in MiB, or None if it cannot be read."""
    try:
        return proc_memory(pid)["peak"] if pid else None
    except ValueError:
        return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(process: subprocess.Popen, timeout: float = 20.0) -> None:
    """Stop ``process`` by its own handle: SIGTERM (a Jupyter server then shuts its kernels down), SIGKILL if it
    has not exited after ``timeout`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
