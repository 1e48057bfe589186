"""Build the reader's edition: a static HTML site of the whole course, from freshly executed notebooks, offline.

    python scripts/build_site.py              # execute the notebooks (cached, see below), then build
    python scripts/build_site.py --fresh      # execute every notebook again, whatever the cache holds
    make site                                  # = setup + requirements-site.txt + --fresh

Steps:

1. **Execute** every ``notebooks/NN_*.ipynb`` (a glob: new notebooks join by themselves) with nbclient in the
   course's own environment, two at a time. A hidden first cell makes every matplotlib figure's plain-text form its
   description (``course_utils.static.describe_figure``), which becomes the image's alt text; the cell is removed
   afterwards. Executed copies are cached under ``build/site-cache/`` by a key that covers the notebook, every file
   of ``course_utils/``, ``data/``, the requirements, the hidden cell and the installed torch/matplotlib/ipywidgets
   versions: a change to the machinery re-executes, a rebuild with nothing changed does not. ``make test``'s
   health runs execute each notebook exactly this way (same hidden cell, widget state kept, offline) and put
   their first run into this cache, so the site tests build from those runs instead of executing again.
2. **Make widgets static**: a page has no kernel, so every widget view is dropped. Course widgets carry their own
   static HTML (``course_utils.static``: explorer figure + caption, quiz with answers in ``<details>``, module
   tree); any other widget (e.g. a tqdm bar, a ``VBox`` of buttons) is drawn from the widget state nbclient saved
   (its final value), or removed when the kernel had closed it. Each "not answered yet" exercise gets a link to
   its reference solution; each notebook page gets a banner with the ways to run it live.
3. **Assemble** the Sphinx source in ``build/site-src/``: README as the landing page, the notebooks, ``docs/``,
   the solutions, the data card and the benchmark page; remote badge images become plain links (nothing is loaded
   from another host).
4. **Build** with Sphinx + MyST-NB + sphinx-book-theme (``site/conf.py``) into ``build/site/html/``; any Sphinx
   warning (a broken internal link, an image without alt text) fails the build.

Exit status 0 on success; on failure a message that names the notebook and cell, or the Sphinx warnings.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
if str(Path(__file__).resolve().parent) not in sys.path:  # kernel_tools, when imported as scripts.build_site
    sys.path.insert(0, str(Path(__file__).resolve().parent))
SITE_CONF = ROOT / "site"
NOTEBOOKS = ROOT / "notebooks"
DEFAULT_OUT = ROOT / "build" / "site"
DEFAULT_CACHE = ROOT / "build" / "site-cache"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
RICH = ("text/html", "image/png", "image/svg+xml", "image/jpeg", "text/markdown", "text/latex")
CELL_TIMEOUT = 300
SETUP_TAG = "course-site-setup"

KERNEL_SETUP = '''\
def _course_site_setup():
    """Site build only: a figure's plain-text form is its description (the image's alt text on the page)."""
    from IPython import get_ipython
    from matplotlib.figure import Figure
    from course_utils.static import describe_figure
    get_ipython().display_formatter.formatters["text/plain"].for_type(
        Figure, lambda fig, p, cycle: p.text("<" + describe_figure(fig) + ">"))
_course_site_setup()
del _course_site_setup
'''


class SiteBuildError(RuntimeError):
    """The site could not be built; the message says which notebook, cell or page and why."""


def course_notebooks(folder: Path = NOTEBOOKS) -> list[Path]:
    """Every course notebook (``NN_name.ipynb``), in course order."""
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


# --- 1. Executing (with a cache that a course_utils change invalidates) --------------------------------------

def _files_for_key() -> list[Path]:
    files = sorted(p for p in (ROOT / "course_utils").rglob("*") if p.is_file() and "__pycache__" not in p.parts
                   and p.suffix != ".pyc")
    files += sorted(p for p in (ROOT / "data").rglob("*") if p.is_file())
    files += [ROOT / "requirements.txt", ROOT / "pyproject.toml"]
    return [p for p in files if p.exists()]


def _versions() -> str:
    found = []
    for name in ("torch", "torchvision", "matplotlib", "ipywidgets", "ipykernel", "tqdm"):
        try:
            found.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name}==none")
    return ";".join(found)


def machinery_digest() -> str:
    """SHA-256 of everything an executed notebook depends on besides itself (course_utils, data, versions...)."""
    digest = hashlib.sha256(_versions().encode() + KERNEL_SETUP.encode())  # what the build adds to a run
    for path in _files_for_key():
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def cache_key(notebook: Path, machinery: str | None = None) -> str:
    """The cache key of one executed notebook: its own bytes plus :func:`machinery_digest`."""
    machinery = machinery or machinery_digest()
    return hashlib.sha256(notebook.read_bytes() + machinery.encode()).hexdigest()[:20]


def with_site_setup(nb: Any) -> Any:
    """``nb`` with the site's hidden first cell (a figure's plain-text form is its description) inserted."""
    import nbformat

    nb.cells.insert(0, nbformat.v4.new_code_cell(KERNEL_SETUP, metadata={"tags": [SETUP_TAG]}))
    return nb


def write_executed(nb: Any, target: Path) -> None:
    """Write an executed notebook (from :func:`with_site_setup`) to the cache, without the hidden cell."""
    import nbformat

    nb.cells = [c for c in nb.cells if SETUP_TAG not in c.get("metadata", {}).get("tags", [])]
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.stem}.{os.getpid()}.tmp")
    nbformat.write(nb, tmp)
    tmp.replace(target)


def execute_notebook(source: Path, target: Path) -> float:
    """Run ``source`` top to bottom in a fresh kernel (cwd = its folder) and write the result to ``target``.

    Returns the seconds it took. Raises :class:`SiteBuildError` naming the cell if any cell fails.
    The kernel is started as the health tests start theirs (``kernel_tools``); a health run writes its executed
    copy to this cache too (``tests/notebook_executions.py``), so that ``make test`` executes each notebook once
    for both.
    """
    import nbformat
    from nbclient.exceptions import CellExecutionError

    from kernel_tools import kernel_manager, run_cells

    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # the kernel uses the inline backend, as a learner's does
    nb = with_site_setup(nbformat.read(source, as_version=4))
    started = time.monotonic()
    km, sockets = kernel_manager((), "site")
    try:
        km.start_kernel(cwd=str(source.parent), env=env)
        run_cells(km, nb, timeout=CELL_TIMEOUT, store_widget_state=True)
    except CellExecutionError as error:
        index = next((i for i, c in enumerate(nb.cells) if any(o.get("output_type") == "error"
                                                                 for o in c.get("outputs", []))), None)
        where = f"cell {index - 1}" if index is not None else "a cell"
        raise SiteBuildError(f"{source.name}: {where} failed while executing for the site:\n{error}") from None
    except Exception as error:  # the kernel died, a timeout, ...
        raise SiteBuildError(f"{source.name}: could not be executed ({type(error).__name__}: {error})") from None
    finally:
        try:
            km.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001 - it never started, or is gone already
            pass
        shutil.rmtree(sockets, ignore_errors=True)
    write_executed(nb, target)
    return time.monotonic() - started


def executed_notebooks(notebooks: list[Path], cache: Path, fresh: bool, jobs: int,
                       log: Callable[[str], None] = print) -> dict[Path, Path]:
    """Executed copies of ``notebooks`` (from the cache when its key matches and ``fresh`` is false)."""
    machinery = machinery_digest()
    cache.mkdir(parents=True, exist_ok=True)
    targets = {nb: cache / f"{nb.stem}-{cache_key(nb, machinery)}.ipynb" for nb in notebooks}
    todo = [nb for nb, target in targets.items() if fresh or not target.exists()]
    for nb in notebooks:
        if nb not in todo:
            log(f"  {nb.name}: executed copy from the cache ({targets[nb].name})")
    if todo:
        with ProcessPoolExecutor(max_workers=max(1, min(jobs, len(todo)))) as pool:
            futures = {nb: pool.submit(execute_notebook, nb, targets[nb]) for nb in todo}
            errors = []
            for nb, future in futures.items():
                try:
                    log(f"  {nb.name}: executed in {future.result():.1f} s")
                except SiteBuildError as error:
                    errors.append(str(error))
            if errors:
                raise SiteBuildError("\n\n".join(errors))
    for old in cache.glob("*.ipynb"):  # keep one executed copy per notebook
        if old not in targets.values():
            old.unlink()
    return targets


# --- 2. Static widgets, alt text, solution links, the live banner ------------------------------------------

def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def render_widget(model_id: str, state: dict[str, dict], depth: int = 0) -> str | None:
    """Static HTML for a widget from its saved state (its final value), or None if the model is gone."""
    entry = state.get(model_id)
    if entry is None or depth > 20:
        return None
    model, s = entry.get("model_name", ""), entry.get("state", {})
    description = s.get("description") or ""
    label = f"<b>{_esc(description)}</b> " if description else ""

    def children() -> list[str]:
        out = []
        for ref in s.get("children", []):
            child = render_widget(str(ref).removeprefix("IPY_MODEL_"), state, depth + 1)
            if child:
                out.append(child)
        return out

    if model in ("VBoxModel", "BoxModel", "GridBoxModel"):
        return '<div class="course-widget-box">' + "".join(f"<div>{c}</div>" for c in children()) + "</div>"
    if model == "HBoxModel":
        return ('<div class="course-widget-box" style="display:flex;flex-wrap:wrap;gap:0.5em;align-items:center">'
                + "".join(children()) + "</div>")
    if model in ("HTMLModel", "HTMLMathModel"):
        return f"<span>{label}{s.get('value', '')}</span>"
    if model in ("LabelModel", "TextModel", "TextareaModel"):
        return f"<span>{label}{_esc(s.get('value', ''))}</span>"
    if model in ("FloatProgressModel", "IntProgressModel"):
        value, top = float(s.get("value", 0) or 0), float(s.get("max", 100) or 100)
        percent = 100 * value / top if top else 0
        return (f'{label}<progress value="{value:g}" max="{top:g}" aria-label="progress {percent:.0f}%">'
                f"</progress>")  # a tqdm bar's own text (beside it) says the percentage
    if model in ("ToggleButtonsModel", "RadioButtonsModel", "DropdownModel", "SelectModel"):
        labels = s.get("_options_labels", [])
        index = s.get("index")
        chosen = labels[index] if isinstance(index, int) and 0 <= index < len(labels) else "none"
        options = " / ".join(f"<b>{_esc(x)}</b>" if x == chosen else _esc(x) for x in labels)
        return f"<span>{label}{options} (chosen: {_esc(chosen)})</span>"
    if model in ("FloatSliderModel", "IntSliderModel", "FloatTextModel", "IntTextModel", "BoundedFloatTextModel",
                 "BoundedIntTextModel", "CheckboxModel", "ToggleButtonModel"):
        return f"<span>{label or 'value '}= {_esc(s.get('value'))}</span>"
    if model == "ButtonModel":
        return f"<span class=\"course-widget-button\">[{_esc(description or 'button')}]</span>"
    if model == "OutputModel":
        parts = []
        for output in s.get("outputs", []):
            data = output.get("data", {})
            if "text/html" in data:
                parts.append(str(data["text/html"]))
            elif "image/png" in data:
                alt = output.get("metadata", {}).get("image/png", {}).get("alt") or \
                    str(data.get("text/plain", "Figure")).strip("<>")
                parts.append(f'<img src="data:image/png;base64,{data["image/png"]}" alt="{_esc(alt)}">')
            elif output.get("output_type") == "stream":
                parts.append(f"<pre>{_esc(output.get('text', ''))}</pre>")
            elif "text/plain" in data:
                parts.append(f"<pre>{_esc(data['text/plain'])}</pre>")
        return "".join(parts)
    return f"<span>{label}({_esc(model.removesuffix('Model') or 'widget')})</span>"


def _alt_from_plain(text: str, where: str) -> str:
    text = text.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    if text and not re.fullmatch(r"(Figure|matplotlib\.figure\.Figure) size \d.*", text):
        return text
    return f"Figure from {where}"


def solution_page(notebook: Path) -> str | None:
    """The site path (from the site root, no suffix) of a notebook's reference solution, if it has one."""
    matches = sorted((ROOT / "solutions").glob(f"*_{notebook.name[:2]}.py"))
    return f"solutions/{matches[0].stem}" if matches else None


def live_banner(notebook: Path) -> str:
    """The banner at the top of each notebook page: this is a static copy, here is how to run it live."""
    binder = _binder_url(notebook.name)
    links = [f'<a href="{_esc(binder)}">launch it on Binder</a>'] if binder else []
    links += ["open it in JupyterLab on your machine (<code>make lab</code>, see "
              '<a href="../docs/learner-setup.html">learner setup</a>)',
              f'<a href="{_esc(notebook.name)}" download>download the notebook</a>']
    built = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    return (f'<div class="course-live-banner" id="run-this-notebook-live" role="note"><b>Reader\'s edition.</b> '
            f"This page shows <code>notebooks/{_esc(notebook.name)}</code> as it ran when the site was built "
            f"({built}, torch {_esc(_version('torch'))}). Its widgets are static copies. To change a setting, "
            f"answer a quiz or do an exercise: {', '.join(links[:-1])}, or {links[-1]}.</div>")


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def _binder_url(notebook: str) -> str | None:
    try:
        sys.path.insert(0, str(ROOT / "binder"))
        import badges  # binder/badges.py: the one place that knows the repository's public home
        return badges.binder_url(notebook)
    except Exception:  # noqa: BLE001 - no Binder link is better than no site
        return None
    finally:
        sys.path.remove(str(ROOT / "binder"))


LIVE_LINKS = re.compile(r'<span class="course-live-links">.*?</span>', re.S)


def staticize(nb: Any, notebook: Path, alt_text: dict[str, str]) -> dict[str, int]:
    """Make an executed notebook fit for a page without a kernel (in place); return counts of what changed.

    Adds each output image's alt text to ``alt_text`` ({sha256 of the image: text}).
    """
    import nbformat

    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    counts = {"widgets_course": 0, "widgets_from_state": 0, "widgets_removed": 0, "images": 0,
              "solution_links": 0}
    solution = solution_page(notebook)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                raise SiteBuildError(f"{notebook.name}: cell {index} has an error output")
            data = output.get("data")
            if data is not None and WIDGET_VIEW in data:
                view = data.pop(WIDGET_VIEW)
                if any(k in data for k in RICH):
                    counts["widgets_course"] += 1
                    if "text/html" in data:  # the page shows the course's static HTML, not the bare image
                        data.pop("image/png", None)
                else:
                    markup = render_widget(str(view.get("model_id", "")), state)
                    if markup is None:  # closed by the kernel (e.g. a finished tqdm bar with leave=False)
                        counts["widgets_removed"] += 1
                        continue
                    data["text/html"] = f'<div class="course-widget-static">{markup}</div>'
                    counts["widgets_from_state"] += 1
            if data is not None and "text/html" in data:
                markup = data["text/html"]
                markup = "".join(markup) if isinstance(markup, list) else markup
                markup = LIVE_LINKS.sub('<a href="#run-this-notebook-live">the launch links at the top of this '
                                        "page</a>", markup)
                if "course-feedback-not_started" in markup and solution:
                    markup += (f'<p class="course-solution-link">Stuck, or reading without a kernel? '
                               f'<a href="../{solution}.html">See the reference solution</a>.</p>')
                    counts["solution_links"] += 1
                data["text/html"] = markup
            if data is not None and "image/png" in data:
                png = data["image/png"]
                png = "".join(png) if isinstance(png, list) else png
                digest = hashlib.sha256(base64.b64decode(png)).hexdigest()
                alt = output.get("metadata", {}).get("image/png", {}).get("alt") or \
                    _alt_from_plain(str(data.get("text/plain", "")), f"cell {index} of {notebook.stem}")
                alt_text[digest] = alt
                counts["images"] += 1
            kept.append(output)
        cell["outputs"] = kept
    nb.metadata.pop("widgets", None)
    first = 1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0
    nb.cells.insert(first, nbformat.v4.new_markdown_cell(
        "```{raw} html\n" + live_banner(notebook) + "\n```"))
    return counts


# --- 3. The Sphinx source folder ------------------------------------------------------------------------------

REMOTE_IMAGE = re.compile(r"!\[([^\]]*)\]\((https?://[^)\s]+)\)")


def localize_markdown(text: str) -> str:
    """Remote images (e.g. Binder badges) become their alt text, so a page loads nothing from another host."""
    return REMOTE_IMAGE.sub(lambda m: m.group(1) or "image", text)


SITE_NAMES = {"README.md": "index.md", "solutions": "solutions/index.md"}
"""Repository paths whose site page has another name."""

MD_LINK = re.compile(r"(?<!!)\[([^\]]*)\]\(([^)\s]+)\)")


def repository_url() -> str:
    """Where the repository's files can be browsed: ``COURSE_REPO_URL``, else GitHub from ``binder/badges.py``."""
    if os.environ.get("COURSE_REPO_URL"):
        return os.environ["COURSE_REPO_URL"].rstrip("/")
    repo = "OWNER/train-eval-course"
    try:
        sys.path.insert(0, str(ROOT / "binder"))
        import badges

        repo = badges.REPO
    except Exception:  # noqa: BLE001 - keep the default
        pass
    finally:
        sys.path.remove(str(ROOT / "binder"))
    return f"https://github.com/{repo}"


def rewrite_repo_links(text: str, source: str, pages: set[str]) -> str:
    """Links from ``source`` (a path in the repository) to repository files that are not site pages (e.g. a
    test folder, a script) become links to the repository's own view of them; links to pages stay relative.

    ``pages`` holds the repository paths that have a page on the site (``docs/x.md``, ``notebooks/y.ipynb``...).
    A link to a path that exists nowhere is left alone, so Sphinx reports it as broken.
    """
    base = (ROOT / source).parent

    def fix(match: re.Match) -> str:
        label, target = match.group(1), match.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
            return match.group(0)
        path, _, fragment = target.partition("#")
        try:
            relative = (base / path).resolve().relative_to(ROOT.resolve()).as_posix()
        except ValueError:
            return match.group(0)
        page = SITE_NAMES.get(relative) or (f"solutions/{Path(relative).stem}.md"
                                            if re.fullmatch(r"solutions/\w+_\d\d\.py", relative) else None)
        if page is not None:  # a repository path whose page has another name on the site (README -> index)
            link = os.path.relpath(ROOT / page, base).replace(os.sep, "/")
            return f"[{label}]({link}{'#' + fragment if fragment else ''})"
        if relative in pages or not (ROOT / relative).exists():
            return match.group(0)
        kind = "tree" if (ROOT / relative).is_dir() else "blob"
        url = f"{repository_url()}/{kind}/main/{relative}" + (f"#{fragment}" if fragment else "")
        return f"[{label}]({url})"

    return MD_LINK.sub(fix, text)


def _page(title: str, body: str) -> str:
    return f"# {title}\n\n{body}\n"


def assemble_source(src: Path, executed: dict[Path, Path]) -> dict[str, Any]:
    """Write the Sphinx source folder; return a summary (pages, widget counts, images)."""
    import nbformat

    shutil.rmtree(src, ignore_errors=True)
    (src / "notebooks").mkdir(parents=True)
    docs = sorted((ROOT / "docs").glob("*.md"))
    solutions = sorted((ROOT / "solutions").glob("*_[0-9][0-9].py"))
    extras_md = [r for r in ("data/README.md", "bench/notebooks.md") if (ROOT / r).exists()]
    pages = ({f"notebooks/{n.name}" for n in executed} | {f"docs/{d.name}" for d in docs} | {"README.md", "solutions"}
             | set(extras_md))

    def localize(text: str, source: str) -> str:
        return rewrite_repo_links(localize_markdown(text), source, pages)

    alt_text: dict[str, str] = {}
    summary: dict[str, Any] = {"notebooks": {}}
    for notebook, path in executed.items():
        nb = nbformat.read(path, as_version=4)
        summary["notebooks"][notebook.name] = staticize(nb, notebook, alt_text)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = localize(cell.source, f"notebooks/{notebook.name}")
        nbformat.write(nb, src / "notebooks" / notebook.name)

    (src / "docs").mkdir()
    for doc in docs:
        (src / "docs" / doc.name).write_text(localize(doc.read_text(encoding="utf-8"), f"docs/{doc.name}"),
                                             encoding="utf-8")

    (src / "solutions").mkdir()
    rows = []
    for solution in solutions:
        number = solution.stem[-2:]
        notebook = next((n for n in executed if n.name.startswith(number + "_")), None)
        title = f"Solution to notebook {number}" + (f" ({notebook.stem[3:].replace('_', ' ')})" if notebook else "")
        back = f"[Back to the notebook](../notebooks/{notebook.name})\n\n" if notebook else ""
        code = solution.read_text(encoding="utf-8")
        (src / "solutions" / f"{solution.stem}.md").write_text(
            _page(title, f"{back}`solutions/{solution.name}`, the reference solution the tests check the "
                         f"exercise against. Try the exercise first.\n\n```python\n{code}\n```"), encoding="utf-8")
        rows.append(f"- [{title}]({solution.stem}.md)")
    (src / "solutions" / "index.md").write_text(
        _page("Reference solutions", "One per notebook exercise; the test suite checks each against its checker."
              "\n\n" + "\n".join(rows) + "\n\n```{toctree}\n:hidden:\n\n"
              + "\n".join(s.stem for s in solutions) + "\n```"), encoding="utf-8")

    extras = []
    for relative in extras_md:
        (src / relative).parent.mkdir(parents=True, exist_ok=True)
        (src / relative).write_text(localize((ROOT / relative).read_text(encoding="utf-8"), relative),
                                    encoding="utf-8")
        extras.append(relative.removesuffix(".md"))

    readme = localize((ROOT / "README.md").read_text(encoding="utf-8"), "README.md")
    toc = ("\n\n```{toctree}\n:hidden:\n:caption: Notebooks\n\n"
           + "\n".join(f"notebooks/{n.stem}" for n in executed)
           + "\n```\n\n```{toctree}\n:hidden:\n:caption: Guides\n\n"
           + "\n".join(f"docs/{d.stem}" for d in docs)
           + "\nsolutions/index\n" + "\n".join(extras) + "\n```\n")
    (src / "index.md").write_text(readme + toc, encoding="utf-8")
    (src / "_alt_text.json").write_text(json.dumps(alt_text, indent=1), encoding="utf-8")
    summary["images"] = len(alt_text)
    return summary


# --- 4. Sphinx ---------------------------------------------------------------------------------------------------

def run_sphinx(src: Path, html_dir: Path) -> None:
    """Build the HTML; any warning (broken link, missing alt text, bad markup) fails with the warnings listed."""
    shutil.rmtree(html_dir, ignore_errors=True)
    warnings = html_dir.parent / "sphinx-warnings.txt"
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-E", "-c", str(SITE_CONF),
               "-d", str(html_dir.parent / "doctrees"), "-w", str(warnings), str(src), str(html_dir)]
    done = subprocess.run(command, capture_output=True, text=True)
    text = warnings.read_text(encoding="utf-8") if warnings.exists() else ""
    if done.returncode != 0 or text.strip():
        raise SiteBuildError(f"Sphinx failed (exit {done.returncode}); fix these warnings:\n{text.strip()}\n"
                             f"{done.stderr.strip()[-3000:]}")


def build(out: Path = DEFAULT_OUT, cache: Path = DEFAULT_CACHE, fresh: bool = False, jobs: int = 2,
          log: Callable[[str], None] = print) -> dict[str, Any]:
    """The whole build; returns what it did (also written to ``<out>/build-info.json``)."""
    started = time.monotonic()
    notebooks = course_notebooks()
    if not notebooks:
        raise SiteBuildError(f"no notebooks matching NN_*.ipynb in {NOTEBOOKS}")
    log(f"Executing {len(notebooks)} notebooks ({'fresh' if fresh else 'cached by content'}):")
    executed = executed_notebooks(notebooks, cache, fresh, jobs, log)
    executed_s = time.monotonic() - started
    log("Assembling the source folder and building with Sphinx...")
    summary = assemble_source(out / "src", executed)
    run_sphinx(out / "src", out / "html")
    (out / "html" / ".nojekyll").touch()
    for notebook in notebooks:  # the banner's download link: the notebook as committed, ready to run
        shutil.copy2(notebook, out / "html" / "notebooks" / notebook.name)
    summary.update({"seconds_total": round(time.monotonic() - started, 1), "seconds_executing": round(executed_s, 1),
                    "fresh": fresh, "machinery_digest": machinery_digest()})
    (out / "build-info.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    log(f"Built {out / 'html' / 'index.html'} in {summary['seconds_total']:.0f} s "
        f"(executing {summary['seconds_executing']:.0f} s).")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (html/ inside it)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="executed-notebook cache folder")
    parser.add_argument("--fresh", action="store_true", help="execute every notebook, ignoring the cache")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks executed at a time (default 2)")
    args = parser.parse_args(argv)
    try:
        build(args.out.resolve(), args.cache.resolve(), args.fresh, args.jobs)
    except SiteBuildError as error:
        print(f"make site failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
