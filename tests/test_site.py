"""The reader's edition (``make site``), checked on the built HTML: no browser needed here.

The site is built once per session, inside ``unshare -rn`` where possible (see ``site_check.py``). Then: one page
per notebook (a glob, so new notebooks are checked too), every figure present with alt text, no error output and
no raw widget left over, the static widget fallbacks in place, no broken internal link, nothing that a page would
load from another host. The checkers themselves are tested on deliberately broken pages, so they can fail.
The same pages in headless Chromium (blocked network, axe-core, screenshots): ``tests/browser/test_site_in_browser.py``.
"""
from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from site_check import REPO, built_site, unavailable

try:  # beautifulsoup4 comes with the site tools (requirements-site.txt; make test installs them)
    import bs4  # noqa: F401
except ImportError:
    unavailable("beautifulsoup4 is not installed")

sys.path.insert(0, str(REPO / "scripts"))
import build_site  # noqa: E402

NOTEBOOKS = build_site.course_notebooks()
WIDGET_LEFTOVERS = ("Error displaying widget", "VBox(children=", "HBox(children=", "application/vnd.jupyter.widget",
                    "Traceback (most recent call last)", "NotImplementedError Traceback")


@pytest.fixture(scope="module")
def site():
    return built_site()


def soup_of(path: Path):
    from bs4 import BeautifulSoup

    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def article(path: Path):
    soup = soup_of(path)
    return soup.find("article") or soup.find("main") or soup


# --- Checkers (each is tested on a broken page below) ---------------------------------------------------------

def remote_resources(markup: str) -> list[str]:
    """Every resource a page would fetch from another host: scripts, stylesheets, images, frames, fonts."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    found = []
    for tag, attr in (("script", "src"), ("img", "src"), ("iframe", "src"), ("source", "src"), ("video", "src"),
                      ("audio", "src"), ("embed", "src"), ("object", "data")):
        for element in soup.find_all(tag):
            value = element.get(attr) or ""
            if re.match(r"^(https?:)?//", value):
                found.append(f"<{tag} {attr}={value}>")
    for link in soup.find_all("link"):
        rel = set(link.get("rel") or [])
        href = link.get("href") or ""
        if rel & {"stylesheet", "preload", "modulepreload", "icon", "manifest", "prefetch"} and \
                re.match(r"^(https?:)?//", href):
            found.append(f"<link rel={' '.join(sorted(rel))} href={href}>")
    for style in soup.find_all("style"):
        found += [f"css url({u})" for u in re.findall(r"url\(['\"]?((?:https?:)?//[^)'\"]+)", style.get_text())]
    return found


def remote_urls_in_css(css: str) -> list[str]:
    """``url(...)`` and ``@import`` targets on another host in a stylesheet."""
    return re.findall(r"(?:url\(|@import\s+)['\"]?((?:https?:)?//[^)'\"\s]+)", css)


def broken_links(html_root: Path) -> list[str]:
    """Internal links and resources (href/src) of every page that point to a missing file or a missing anchor."""
    from bs4 import BeautifulSoup

    ids: dict[Path, set[str]] = {}

    def anchors(page: Path) -> set[str]:
        if page not in ids:
            soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
            ids[page] = {e.get("id") for e in soup.find_all(id=True)} | {e.get("name") for e in soup.find_all("a")
                                                                        if e.get("name")}
        return ids[page]

    problems = []
    for page in sorted(html_root.rglob("*.html")):
        if "_static" in page.relative_to(html_root).parts:
            continue  # the theme's own template fragments, not pages
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for element in soup.find_all(["a", "link", "script", "img"]):
            target = element.get("href") if element.name in ("a", "link") else element.get("src")
            if not target or re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("//"):
                continue  # external (checked elsewhere), mailto:, data:, javascript:
            parsed = urlparse(target)
            path = (page.parent / unquote(parsed.path)).resolve() if parsed.path else page
            if path.is_dir():
                path = path / "index.html"
            where = f"{page.relative_to(html_root)}: {element.name} -> {target}"
            if not path.exists():
                problems.append(f"{where} (no such file)")
            elif parsed.fragment and path.suffix == ".html" and unquote(parsed.fragment) not in anchors(path):
                problems.append(f"{where} (no element with id {parsed.fragment!r})")
    return problems


def images_without_alt(markup: str) -> list[str]:
    """``<img>`` elements whose alt text is missing, empty or just a file name."""
    from bs4 import BeautifulSoup

    bad = []
    for img in BeautifulSoup(markup, "html.parser").find_all("img"):
        alt = (img.get("alt") or "").strip()
        if not alt or re.search(r"\.(png|jpe?g|svg|gif)$", alt, re.I) or alt == img.get("src"):
            bad.append(str(img)[:160])
    return bad


def test_checkers_catch_a_deliberately_broken_page(tmp_path: Path):
    page = ('<html><head><link rel="stylesheet" href="https://cdn.example.org/x.css">'
            '<script src="//cdn.example.org/mathjax.js"></script><style>@font-face{src:url(https://f.example/a.woff)}'
            '</style></head><body><a href="https://example.org/">fine: a link, not a load</a>'
            '<img src="missing.png" alt="missing.png"><img src="data:image/png;base64,AA==">'
            '<a href="other.html#nowhere">x</a><a href="gone.html">y</a></body></html>')
    assert remote_resources(page) == ["<script src=//cdn.example.org/mathjax.js>",
                                      "<link rel=stylesheet href=https://cdn.example.org/x.css>",
                                      "css url(https://f.example/a.woff)"]
    assert remote_urls_in_css("@import 'https://fonts.example/css'; a{b:url(img.png)}") == \
        ["https://fonts.example/css"]
    assert len(images_without_alt(page)) == 2
    (tmp_path / "index.html").write_text(page)
    (tmp_path / "other.html").write_text('<p id="here">x</p>')
    problems = broken_links(tmp_path)
    assert any("missing.png (no such file)" in p for p in problems)
    assert any("other.html#nowhere (no element with id 'nowhere')" in p for p in problems)
    assert any("gone.html (no such file)" in p for p in problems)
    assert len(problems) == 3, problems


# --- The cache cannot hide a change in course_utils ---------------------------------------------------------

def test_execution_cache_key_covers_course_utils_and_data(tmp_path: Path, monkeypatch):
    for folder in ("course_utils", "data"):
        shutil.copytree(REPO / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("requirements.txt", "pyproject.toml"):
        shutil.copy(REPO / name, tmp_path / name)
    monkeypatch.setattr(build_site, "ROOT", tmp_path)
    notebook = NOTEBOOKS[0]
    key = build_site.cache_key(notebook)
    assert build_site.cache_key(notebook) == key, "nothing changed: same key (the cache is used)"
    widgets = tmp_path / "course_utils" / "widgets.py"
    widgets.write_text(widgets.read_text() + "\n# a change\n")
    assert build_site.cache_key(notebook) != key, "a course_utils change must re-execute the notebooks"
    key2 = build_site.cache_key(notebook)
    (tmp_path / "data" / "new-file.bin").write_bytes(b"x")
    assert build_site.cache_key(notebook) != key2, "a data change must re-execute the notebooks"


# --- The built site ------------------------------------------------------------------------------------------

def test_built_offline(site):
    if not site.offline:
        pytest.skip("`unshare -rn` is not available here, so the build could not be cut off from the network")
    assert (site.html / "index.html").exists()


def test_landing_page_is_the_readme_and_links_every_page(site):
    index = soup_of(site.html / "index.html")
    readme_title = (REPO / "README.md").read_text(encoding="utf-8").splitlines()[0].lstrip("# ").strip()
    assert readme_title in index.get_text(), "the README is the landing page"
    nav = {a.get("href") for a in index.find_all("a")}
    for notebook in NOTEBOOKS:
        assert f"notebooks/{notebook.stem}.html" in nav, f"the landing page links {notebook.name}"
    for doc in sorted((REPO / "docs").glob("*.md")):
        assert (site.html / "docs" / f"{doc.stem}.html").exists(), f"docs/{doc.name} has a page"
        assert f"docs/{doc.stem}.html" in nav, f"the landing page links docs/{doc.name}"
    assert (site.html / "search.html").exists() and (site.html / "searchindex.js").exists(), "local search"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_one_page_per_notebook_with_its_figures(site, notebook: Path):
    page = site.html / "notebooks" / f"{notebook.stem}.html"
    assert page.exists(), f"no page for {notebook.name}"
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    title = re.sub(r"[`*]", "", "".join(nb["cells"][0]["source"]).splitlines()[0].lstrip("# ").strip())
    body = article(page)
    assert title in body.get_text(), f"{page.name} does not show the notebook's title {title!r}"
    executed = json.loads((site.src / "notebooks" / notebook.name).read_text(encoding="utf-8"))
    figures = sum(1 for cell in executed["cells"] for o in cell.get("outputs", [])
                  if "image/png" in o.get("data", {}))
    images = body.find_all("img")
    assert len(images) >= figures, f"{page.name}: {figures} figures in the notebook, {len(images)} on the page"
    for img in images:
        src = img.get("src", "")
        if not src.startswith("data:"):
            assert (page.parent / unquote(src)).stat().st_size > 100, f"{page.name}: empty image {src}"
    missing = images_without_alt(str(body))
    assert not missing, f"{page.name}: images without alt text:\n" + "\n".join(missing)
    text = str(body)
    leftovers = [w for w in WIDGET_LEFTOVERS if w in text]
    assert not leftovers, f"{page.name} shows {leftovers}"
    assert not body.select(".output.traceback, .output.error"), f"{page.name} has error output"
    # stderr may carry a warning a lesson shows on purpose; never a traceback or an exception
    for stderr in body.select(".output.stderr"):
        text = stderr.get_text()
        assert "Traceback (most recent call last)" not in text and not re.search(r"^\w*(Error|Exception):", text,
                                                                                 re.M), \
            f"{page.name} shows an error on stderr:\n{text[:500]}"
    frozen = [str(p) for p in body.find_all("progress") if p.get("value") in ("0", "0.0") and p.get("max") != "0"]
    assert not frozen, f"{page.name} shows a progress bar frozen at 0%: {frozen}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_widgets_have_static_fallbacks(site, notebook: Path):
    body = article(site.html / "notebooks" / f"{notebook.stem}.html")
    source = notebook.read_text(encoding="utf-8")
    assert body.select_one("#run-this-notebook-live"), "the banner with the ways to run the notebook live"
    assert "Binder" in body.select_one("#run-this-notebook-live").get_text()
    if "Quiz(" in source:
        quizzes = body.select(".course-static-quiz")
        assert quizzes, "the quiz is shown as static questions"
        for quiz in quizzes:
            details = quiz.select("details.course-quiz-answer")
            assert details and all("Answer:" in d.get_text() for d in details), "answers folded in <details>"
    if re.search(r"_explorer\(|Explorer\(", source):
        explorers = body.select(".course-static-explorer")
        assert explorers, "the explorer is shown as a static figure"
        for explorer in explorers:
            caption = explorer.select_one(".course-static-note").get_text(" ", strip=True)
            assert "default setting:" in caption and "Binder" in caption and "JupyterLab" in caption, caption
            assert explorer.find("img") or explorer.find("table"), "the explorer's default view (figure or table)"
    if "ModeTree(" in source:
        assert body.select(".course-static-modetree .mode-row"), "the module tree as its table"
    stubs = body.select(".course-feedback-not_started")
    if "raise NotImplementedError" in source:
        assert stubs, "the untouched exercise stub shows its 'not answered yet' feedback"
    for stub in stubs:
        link = stub.find_next("p", class_="course-solution-link")
        assert link is not None and link.find("a"), "a link to the reference solution follows the feedback"


def test_tqdm_bars_show_their_final_state(site):
    pages = [site.html / "notebooks" / f"{n.stem}.html" for n in NOTEBOOKS if "tqdm" in n.read_text()]
    for page in pages:
        for bar in article(page).find_all("progress"):
            assert bar.get("value") == bar.get("max"), f"{page.name}: {bar} is not finished"


def test_no_broken_internal_links(site):
    problems = broken_links(site.html)
    assert not problems, f"{len(problems)} broken internal links:\n" + "\n".join(problems[:40])


def test_nothing_is_loaded_from_another_host(site):
    problems = []
    for page in sorted(site.html.rglob("*.html")):
        problems += [f"{page.relative_to(site.html)}: {r}" for r in remote_resources(page.read_text("utf-8"))]
    for css in sorted(site.html.rglob("*.css")):
        problems += [f"{css.relative_to(site.html)}: url({u})" for u in remote_urls_in_css(css.read_text("utf-8"))]
    assert not problems, "loaded from another host:\n" + "\n".join(problems[:40])
    mathjax = site.html / "_static" / "mathjax" / "tex-svg-full.js"
    assert mathjax.stat().st_size > 1_000_000, "MathJax is served from the site itself"


def test_links_to_repository_files_that_are_not_pages_go_to_the_repository(monkeypatch):
    monkeypatch.setenv("COURSE_REPO_URL", "https://example.org/course")
    pages = {"docs/binder.md", "notebooks/02_dropout.ipynb"}
    text = ("[corpus](../tests/lint_cases/) [page](binder.md#x) [nb](../notebooks/02_dropout.ipynb) "
            "[web](https://a.b/c) [gone](../nowhere/file.txt) ![img](pic.png) [script](../scripts/build_site.py#L3) "
            "[home](../README.md#layout) [sol](../solutions/) [one](../solutions/modes_01.py)")
    out = build_site.rewrite_repo_links(text, "docs/lint.md", pages)
    assert "[home](../index.md#layout)" in out, "README is the landing page, index.md"
    assert "[sol](../solutions/index.md)" in out and "[one](../solutions/modes_01.md)" in out
    assert "[corpus](https://example.org/course/tree/main/tests/lint_cases)" in out
    assert "[script](https://example.org/course/blob/main/scripts/build_site.py#L3)" in out
    for kept in ("[page](binder.md#x)", "[nb](../notebooks/02_dropout.ipynb)", "[web](https://a.b/c)",
                 "[gone](../nowhere/file.txt)", "![img](pic.png)"):
        assert kept in out, f"{kept} must stay as it is"
