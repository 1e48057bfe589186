"""Binder badges and launch links for the course, all built from ONE constant: ``REPO``.

Before publishing, replace ``OWNER`` in ``REPO`` with the GitHub user or organisation that hosts the course,
then regenerate the pages that carry links and copy the printed lines where they go:

    python binder/badges.py --write      # rewrites docs/binder.md from this file
    python binder/badges.py              # prints the README snippet and each notebook's header badge line
    python binder/badges.py --headers    # rewrites each notebook's header badge line (commented out until
                                         # REPO is set, so a learner never sees a broken badge)

``tests/test_binder.py`` checks that every Binder link in README.md, docs/*.md and the notebooks' first cells
uses this ``REPO`` and ``BRANCH`` and opens a notebook that exists.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import quote

REPO = "OWNER/train-eval-course"  # <- replace OWNER (the only place to change)
BRANCH = "main"
PUBLISHED = not REPO.startswith("OWNER/")
"""Whether ``REPO`` names a real repository. Until it does, a notebook's header keeps its badge inside an HTML
comment: a learner sees no broken image and no link to a placeholder repository."""
BINDER = "https://mybinder.org/v2/gh"
BADGE_IMAGE = "https://mybinder.org/badge_logo.svg"
START = "00_start_here.ipynb"

#: The course notebooks, in teaching order, with the titles used in link tables.
NOTEBOOKS: dict[str, str] = {
    "00_start_here.ipynb": "Start here",
    "01_train_is_a_switch.ipynb": "train() is a switch",
    "02_dropout.ipynb": "Dropout",
    "03_batchnorm.ipynb": "BatchNorm",
    "04_training_loop.ipynb": "The correct training loop",
    "05_misplaced_train.ipynb": "The misplaced train() pitfall",
    "06_partial_modes.ipynb": "Partial mode control and transfer learning",
    "07_mode_aware_layers.ipynb": "Mode-aware layers and debugging",
    "08_shipping_a_model.ipynb": "Shipping a model: the mode is captured",
    "09_advanced_training.ipynb": "Advanced training: recipes that touch the mode",
}

DOCS = {
    "Learner setup (Linux, macOS, Windows)": "docs/learner-setup.md",
    "Instructor guide (3-hour and 90-minute schedules)": "docs/instructor-guide.md",
    "Running the course on a JupyterHub": "docs/jupyterhub.md",
    "Binder launch links": "docs/binder.md",
}

ROOT = Path(__file__).resolve().parents[1]


def _check_notebook(name: str) -> str:
    if name not in NOTEBOOKS:
        raise ValueError(f"unknown notebook {name!r}; expected one of {sorted(NOTEBOOKS)}")
    return name


def binder_url(notebook: str = START, repo: str = REPO, branch: str = BRANCH) -> str:
    """The mybinder.org URL that builds the course and opens ``notebooks/<notebook>`` in JupyterLab."""
    _check_notebook(notebook)
    return f"{BINDER}/{repo}/{branch}?labpath={quote('notebooks/' + notebook, safe='')}"


def badge(notebook: str = START, label: str = "Launch on Binder") -> str:
    """Markdown for a "launch binder" badge that opens ``notebook``."""
    return f"[![{label}]({BADGE_IMAGE})]({binder_url(notebook)})"


def header_line(notebook: str) -> str:
    """The line to put in a notebook's first cell (under the title): the Binder badge once the course has a public
    home (:data:`PUBLISHED`), else the same badge inside an HTML comment, which a notebook renders as nothing."""
    line = badge(notebook, label="Open this notebook on Binder")
    if PUBLISHED:
        return line
    return f"<!-- Binder badge, shown once REPO in binder/badges.py names the public repository: {line} -->"


def nbgitpuller_url(hub: str, repo: str = REPO, branch: str = BRANCH, notebook: str = START) -> str:
    """An nbgitpuller link: clones/updates the course in each learner's home on ``hub`` and opens ``notebook``.

    ``hub`` is the hub's base URL, e.g. ``https://hub.example.org``.
    """
    _check_notebook(notebook)
    if not hub.startswith(("https://", "http://")):
        raise ValueError(f"hub must be a URL starting with https:// or http://, got {hub!r}")
    folder = repo.split("/")[-1]
    return (f"{hub.rstrip('/')}/hub/user-redirect/git-pull"
            f"?repo={quote('https://github.com/' + repo, safe='')}"
            f"&branch={branch}"
            f"&urlpath={quote(f'lab/tree/{folder}/notebooks/{notebook}', safe='')}")


def badge_table() -> str:
    """A markdown table: one row per notebook with its Binder badge."""
    rows = ["| Notebook | Launch |", "| --- | --- |"]
    for name, title in NOTEBOOKS.items():
        rows.append(f"| [{name[:2]} {title}](../notebooks/{name}) | {badge(name, label='Binder')} |")
    return "\n".join(rows)


def readme_snippet() -> str:
    """The README block: a course badge, a per-notebook badge table and links to the docs."""
    lines = [
        badge(START, label="Launch the course on Binder"),
        "",
        "| Notebook | Launch |",
        "| --- | --- |",
    ]
    for name, title in NOTEBOOKS.items():
        lines.append(f"| [{name[:2]} {title}](notebooks/{name}) | {badge(name, label='Binder')} |")
    lines += ["", "Guides:"]
    lines += [f"- [{title}]({path})" for title, path in DOCS.items()]
    return "\n".join(lines)


WALK_START, WALK_END = "<!-- measure_walk:start -->", "<!-- measure_walk:end -->"


def walk_figures() -> str:
    """The figures ``scripts/measure_walk.py --write-docs`` wrote into docs/binder.md, kept when it is regenerated."""
    path = ROOT / "docs" / "binder.md"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    start, end = text.find(WALK_START), text.find(WALK_END)
    if start == -1 or end < start:
        return f"{WALK_START}\nNot measured yet: run `python scripts/measure_walk.py --write-docs`.\n{WALK_END}"
    return text[start:end + len(WALK_END)]


def binder_md() -> str:
    """The full text of docs/binder.md."""
    return f"""# Launching the course on Binder

<!-- Generated by binder/badges.py: edit REPO there and run `python binder/badges.py --write`. -->

Click a badge to open the course in JupyterLab on [mybinder.org](https://mybinder.org), with nothing to install.
The first launch after a change to the repository builds the image (several minutes); later launches start
from the cached image in well under a minute.

Course (opens notebook 00, the environment check):

{badge(START, label="Launch the course on Binder")}

{badge_table()}

## What Binder gives a learner
- 1 CPU and 1-2 GB of memory (mybinder.org's limits; the course's kernels stay well under that, see
  [jupyterhub.md](jupyterhub.md) for measured figures), and no GPU: every demo runs in seconds on one CPU core.
- Nothing is saved: a session ends after about 10 minutes without activity, and its files are gone. Download a
  notebook you changed (File > Download) before leaving.
- The environment is `binder/requirements.txt` (CPU-only torch and torchvision from PyTorch's CPU wheel index,
  the same versions and packages as `requirements.txt`, less the browser-test tools playwright and
  pytest-playwright), `binder/runtime.txt` (Python 3.11) and `binder/postBuild` (installs `course_utils` and
  `solutions`, and the two settings files below). The CPU build keeps the Python packages near 1.3 GiB instead of
  5.7 GiB with the default CUDA torch (see [jupyterhub.md](jupyterhub.md#4-image-size-on-paper-the-cpu-image-was-not-built-here)).

## Kernels: one per open notebook, and how to get one back
Every open notebook has its own kernel (0.3-0.9 GB each), and mybinder.org stops a session that goes over 2 GB.
So that a walk through the course does not pile up kernels, Binder runs JupyterLab with two settings:
- **Closing a notebook's tab shuts its kernel down** (`binder/overrides.json`: JupyterLab's *Shut down kernel*
  setting of the notebook tracker, `kernelShutdown`, which postBuild installs as the default of the image). If
  JupyterLab asks whether to save the notebook first, *Save* or *Discard* closes the tab and shuts the kernel
  down (*Cancel* keeps both). Reopen the notebook
  and a new kernel starts; run its cells again (*Run > Run All Cells*), as every notebook runs top to bottom in
  seconds. A learner can turn the setting off in *Settings > Settings Editor > Notebook > Shut down kernel*.
- **A kernel that has run nothing for 20 minutes is shut down**, even if its notebook is still open
  (`binder/jupyter_server_config.py`: Jupyter Server's `MappingKernelManager.cull_idle_timeout = 1200`,
  `cull_connected = True`; a kernel running a cell is never culled). The notebook then shows *No Kernel* in its
  toolbar and *Disconnected* in the status bar; *Kernel > Restart Kernel and Run All Cells* starts a new kernel
  and runs the notebook again (the old kernel's variables are gone).

## Memory of a walk through the course
`tests/browser/test_walk_memory.py` walks through the course as a learner does, with these settings, and fails if
the server and its kernels ever take more than 2 GB together.

{walk_figures()}

## Publishing the links
The links above use the placeholder repository `{REPO}` on branch `{BRANCH}`. Replace `OWNER` in
`binder/badges.py` (`REPO = ...`, the only place it is defined), then run `python binder/badges.py --write` to
regenerate this page and `python binder/badges.py` to print the README snippet and the header line of each
notebook. `tests/test_binder.py` fails while any link disagrees with `REPO` or opens a notebook that does not
exist.

## Not tested here
The Binder image itself could not be built on the development machine: it reaches PyPI but not PyTorch's CPU
wheel index (download.pytorch.org) nor mybinder.org (`pip install --dry-run -r binder/requirements.txt` there
finds no `torch==2.14.1+cpu`, only PyPI's versions). What is tested: the configuration names the same packages
and the same torch/torchvision pair as `requirements.txt` (`tests/test_binder.py`), every launch link opens a
notebook that exists, and `binder/postBuild`, run in a sandbox, installs the two settings files above, which a
JupyterLab started with them applies: 00 opens at the course root, *Shut down kernel* is on by default, and the
kernel culler starts (`tests/test_lab_settings.py`). Check the first real launch by hand: the build log should
show `torch-2.14.1+cpu` (about 0.2 GB) and no `nvidia-*` packages; close a notebook's tab and its kernel should
leave the *Running* panel.
"""


def write_header(notebook: str) -> str:
    """Replace the Binder line (badge or commented badge) in ``notebooks/<notebook>``'s first cell with
    :func:`header_line`; return what was done."""
    import re

    import nbformat

    path = ROOT / "notebooks" / _check_notebook(notebook)
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    pattern = re.compile(r"^(<!-- Binder badge.*-->|\[!\[[^\]]*\]\(" + re.escape(BADGE_IMAGE) + r"\)\]\([^)]*\))$", re.M)
    new, count = pattern.subn(header_line(notebook), first.source)
    if count != 1:
        raise ValueError(f"{path.name}: expected one Binder line in the first cell, found {count}")
    if new == first.source:
        return f"{notebook}: unchanged"
    first.source = new
    nbformat.write(nb, path)
    return f"{notebook}: rewritten"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite docs/binder.md")
    parser.add_argument("--headers", action="store_true", help="rewrite the badge line of each notebook's first cell")
    args = parser.parse_args(argv)
    if args.headers:
        for name in NOTEBOOKS:
            print(write_header(name))
        return 0
    if args.write:
        (ROOT / "docs" / "binder.md").write_text(binder_md(), encoding="utf-8")
        print("wrote docs/binder.md")
        return 0
    print("## README snippet\n")
    print(readme_snippet())
    print("\n## Notebook header lines (first cell, under the title)\n")
    for name in NOTEBOOKS:
        print(f"{name}:\n{header_line(name)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
