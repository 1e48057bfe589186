"""The reader's edition in headless Chromium: every page loads with the network blocked, figures show, axe passes.

The site (built once per session by ``site_check.built_site``) is served on 127.0.0.1. Each page is opened with
every non-local request aborted: a blocked request, a failed request, a console error or a JavaScript error fails
the test. Every ``<img>`` in the page must have loaded (``naturalWidth > 0``). axe-core (vendored in
``site/vendor/axe.min.js``, injected from disk) must report no serious or critical violation. Screenshots go to
``test-artifacts/site/``. The blocking itself is tested first on a deliberately broken page.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from site_check import ARTIFACTS, axe_violations, built_site, describe_violations, open_offline, serve

pytestmark = pytest.mark.browser

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOK_PAGES = [f"notebooks/{p.stem}.html" for p in sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))]
OTHER_PAGES = ["index.html", *[f"docs/{p.stem}.html" for p in sorted((NOTEBOOK_DIR.parent / "docs").glob("*.md"))],
               "solutions/index.html", "search.html?q=dropout"]


@pytest.fixture(scope="module")
def site_url(chromium_executable):
    site = built_site()
    shutil.rmtree(ARTIFACTS, ignore_errors=True)  # this run's screenshots only
    ARTIFACTS.mkdir(parents=True)
    with serve(site.html) as url:
        yield url


@pytest.fixture()
def page(lab_browser):
    context = lab_browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    yield page
    context.close()


def test_blocking_catches_a_page_that_loads_from_a_cdn(page, tmp_path: Path):
    """The check can fail: a page with a CDN script, a remote font and a missing local image is reported."""
    (tmp_path / "broken.html").write_text(
        '<html lang="en"><head><title>broken</title><script src="https://cdn.jsdelivr.net/npm/x/x.js"></script>'
        '<style>@font-face{font-family:f;src:url(https://fonts.gstatic.com/f.woff2)} body{font-family:f}</style>'
        '</head><body><p>text</p><img src="missing.png" alt="a missing figure"></body></html>')
    with serve(tmp_path) as url:
        report = open_offline(page, f"{url}/broken.html")
    problems = report.problems()
    assert any("cdn.jsdelivr.net" in p and "non-local" in p for p in problems), problems
    assert any("missing.png" in p and "failed" in p for p in problems), problems


def _shot_name(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", path.removesuffix(".html")) + ".png"


@pytest.mark.parametrize("path", NOTEBOOK_PAGES + OTHER_PAGES)
def test_page_loads_offline_with_figures_and_no_serious_a11y_violation(site_url: str, page, path: str):
    report = open_offline(page, f"{site_url}/{path}")
    page.screenshot(path=str(ARTIFACTS / _shot_name(path)), full_page=True)
    assert not report.problems(), f"{path} with the network blocked:\n- " + "\n- ".join(report.problems())
    broken = page.evaluate("""() => [...document.querySelectorAll('article img, main img')]
        .filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src').slice(0, 80))""")
    assert not broken, f"{path}: images that did not load: {broken}"
    if path.startswith("search.html"):
        page.wait_for_selector("#search-results li, #search-results p", timeout=15000)
        hits = page.locator("#search-results li").count()
        assert hits > 0, "the site's own search finds 'dropout' with no network"
    # The course's own content (the article); the theme's chrome is checked by its authors.
    violations = axe_violations(page, "article, main")
    assert not violations, f"{path}: axe-core found serious/critical violations:\n{describe_violations(violations)}"


@pytest.mark.parametrize("path", NOTEBOOK_PAGES)
def test_notebook_page_shows_every_figure_and_opens_a_quiz_answer(site_url: str, page, path: str):
    open_offline(page, f"{site_url}/{path}")
    images = page.evaluate("""() => [...document.querySelectorAll('article img')].map(i => ({
        w: i.getBoundingClientRect().width, alt: i.alt, natural: i.naturalWidth}))""")
    hidden = [i for i in images if not (i["w"] > 50 and i["natural"] > 0)]
    assert not hidden, f"{path}: figures not shown: {hidden}"
    answers = page.locator("details.course-quiz-answer")
    if answers.count():
        answers.first.locator("summary").click()
        assert answers.first.locator("text=Answer:").is_visible(), "a quiz answer opens"
        answers.first.screenshot(path=str(ARTIFACTS / _shot_name(path + "-quiz-answer")))


@pytest.mark.parametrize("path", NOTEBOOK_PAGES)
def test_notebook_page_in_the_dark_theme_has_no_serious_a11y_violation(site_url: str, page, path: str):
    """A reader who prefers the dark theme: outputs stay on white paper, so their colours keep their contrast."""
    page.add_init_script("localStorage.setItem('mode', 'dark')")
    report = open_offline(page, f"{site_url}/{path}")
    assert not report.problems(), report.problems()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark", "the theme switched to dark"
    page.screenshot(path=str(ARTIFACTS / _shot_name(path + "-dark")))
    violations = axe_violations(page, "article, main")
    assert not violations, f"{path} (dark): serious/critical violations:\n{describe_violations(violations)}"
