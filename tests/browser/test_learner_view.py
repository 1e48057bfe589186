"""What a learner sees at a laptop viewport (1366×768): figures at the size they are drawn, text with enough
contrast in JupyterLab's light and dark themes, a busy sign while an explorer computes, and dropdowns that show
their choice. Screenshots at 1366×768 go to test-artifacts/browser/learner_view/ for review.

Each notebook is opened and run once; these tests share its page with test_notebooks_in_lab.py (conftest.py).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from course_utils.plots import DPI, MIN_FONT
from lab_driver import course_notebooks, find_notebook
from lab_driver import _FIND_PANEL  # noqa: PLC2701 - the panel lookup every page script here shares

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
NOTEBOOKS = course_notebooks()
AA = 4.5  # WCAG AA, normal text

# Every course figure, scrolled into view one by one (JupyterLab skips laying out cells off screen).
JS_FIGURES = _FIND_PANEL + """
async (path) => {
  const panel = findPanel(path);
  if (!panel) return null;
  const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const found = [];
  const imgs = [...panel.node.querySelectorAll('.jp-OutputArea-output img')];
  for (const [i, img] of imgs.entries()) {
    img.scrollIntoView({block: 'center'});
    await frame();
    if (!img.complete) await new Promise(r => { img.onload = r; setTimeout(r, 2000); });
    const box = img.getBoundingClientRect();
    const cell = img.closest('.jp-Cell');
    const column = img.closest('.jp-OutputArea-output') || cell;
    found.push({index: i, natural: img.naturalWidth, shown: box.width, column: column.getBoundingClientRect().width,
                cell: cell ? [...panel.content.widgets].findIndex(w => w.node === cell) : -1});
  }
  return found;
}
"""

# Contrast of the course's own text (feedback, quiz verdicts, module tree, errors, busy line, 06's table).
JS_CONTRAST = """
() => {
  const rgb = s => { const m = s.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
                     const p = m[1].split(',').map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
                     return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const background = el => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0.5) return c;
    }
    return rgb(getComputedStyle(document.body).backgroundColor) || {r: 255, g: 255, b: 255, a: 1};
  };
  const selectors = ['.course-feedback', '.course-feedback b', '.quiz-correct', '.quiz-wrong', '.course-error',
                     '.course-muted', '.course-depends', '.mode-row', '.mode-row.mode-changed', '.course-busy',
                     '.course-changed', '.course-unchanged', '.course-verdict-correct', '.course-verdict-wrong',
                     '.course-verdict-not_started'];
  const out = [];
  for (const sel of selectors) {
    for (const el of document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) ' + sel)) {
      if (!el.textContent.trim() || !el.getClientRects().length) continue;
      const fg = rgb(getComputedStyle(el).color), bg = background(el);
      const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
      out.push({selector: sel, text: el.textContent.trim().slice(0, 50), ratio: (a + 0.05) / (b + 0.05),
                color: getComputedStyle(el).color, background: `rgb(${bg.r}, ${bg.g}, ${bg.b})`});
      break;  // one element per selector and notebook is enough
    }
  }
  return out;
}
"""


def _laptop(run) -> None:
    if run.page.viewport_size != LAPTOP:
        run.page.set_viewport_size(LAPTOP)
        run.page.wait_for_timeout(400)


def _theme(run, name: str) -> None:
    light = "true" if "Light" in name else "false"
    run.page.evaluate("(t) => window.jupyterapp.commands.execute('apputils:change-theme', {theme: t})", name)
    run.page.wait_for_function("(l) => document.body.dataset.jpThemeLight === l", arg=light, timeout=20_000)
    run.page.wait_for_timeout(500)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_figures_are_shown_at_the_size_they_are_drawn(notebook: Path, notebook_runs, browser_artifacts: Path):
    """At 1366×768 no figure is scaled down: rendered width ≥ 97 % of the PNG's width, so 9 pt text stays ≥ 12 px."""
    run = notebook_runs.get(notebook.name)
    _laptop(run)
    figures = run.page.evaluate(JS_FIGURES, run.path)
    assert figures is not None, f"{notebook.name}: the notebook panel is gone"
    folder = browser_artifacts / "learner_view"
    folder.mkdir(parents=True, exist_ok=True)
    run.page.screenshot(path=str(folder / f"{notebook.stem}_1366x768.png"))
    shrunk = []
    for f in figures:
        if not f["natural"]:
            continue
        ratio = f["shown"] / f["natural"]
        smallest_px = MIN_FONT * DPI / 72 * ratio
        if ratio < 0.97:
            shrunk.append(f"figure {f['index']} (cell {f['cell']}): drawn {f['natural']} px wide, shown at "
                          f"{f['shown']:.0f} px in a {f['column']:.0f} px column ({ratio:.0%}); its {MIN_FONT:g} pt "
                          f"text is {smallest_px:.1f} px on screen")
    assert not shrunk, f"{notebook.name} at 1366×768:\n" + "\n".join(shrunk)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_course_text_has_contrast_in_light_and_dark_themes(notebook: Path, notebook_runs, browser_artifacts: Path):
    """Feedback, quiz verdicts, the module tree, errors and tables: ≥ 4.5:1 (WCAG AA) in both themes."""
    run = notebook_runs.get(notebook.name)
    _laptop(run)
    page = run.page
    # Answer the first quiz question wrongly and rightly, so that both verdicts are on the page.
    radios = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .widget-radio-box").first
    if radios.count():
        radios.scroll_into_view_if_needed()
        labels = radios.locator("label")
        for k in range(labels.count()):
            labels.nth(k).click()
            page.wait_for_timeout(150)
    low, seen = [], set()
    folder = browser_artifacts / "learner_view"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        for theme in ("JupyterLab Light", "JupyterLab Dark"):
            _theme(run, theme)
            for item in page.evaluate(JS_CONTRAST):
                seen.add(item["selector"])
                if item["ratio"] < AA:
                    low.append(f"{theme}: {item['selector']} {item['text']!r}: {item['ratio']:.1f}:1 "
                               f"({item['color']} on {item['background']})")
            feedback = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .course-feedback").first
            if feedback.count():
                feedback.scroll_into_view_if_needed()
                page.wait_for_timeout(200)
            page.screenshot(path=str(folder / f"{notebook.stem}_{theme.split()[-1].lower()}.png"))
    finally:
        _theme(run, "JupyterLab Light")
    assert {".quiz-correct", ".quiz-wrong"} & seen, f"{notebook.name}: no quiz verdict was measured (selectors changed?)"
    assert not low, f"{notebook.name}: text below {AA}:1:\n" + "\n".join(low)


def _explorer_with(run, control_js: str, what: str) -> None:
    found = run.page.evaluate(control_js)
    if not found:
        pytest.fail(f"{run.name}: {what} not found on the page")


@pytest.mark.lab_notebook("03")
def test_momentum_dropdown_shows_its_choice(notebook_runs, browser_artifacts: Path):
    """03: choosing momentum "None (cumulative average)" leaves that label in the dropdown, and the plot redraws."""
    notebook = find_notebook("03")
    run = notebook_runs.get(notebook.name)
    _laptop(run)
    page = run.page
    _explorer_with(run, """() => {
        for (const dd of document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .widget-dropdown')) {
          const label = dd.querySelector('.widget-label');
          if (label && /momentum/.test(label.textContent)) { dd.setAttribute('data-test', 'momentum'); return true; }
        }
        return false; }""", "the momentum dropdown")
    select = page.locator("[data-test='momentum'] select")
    select.scroll_into_view_if_needed()
    select.select_option(label="None (cumulative average)")
    page.wait_for_timeout(1500)
    shown = page.evaluate("() => { const s = document.querySelector(\"[data-test='momentum'] select\");"
                          " return s.selectedIndex >= 0 ? s.options[s.selectedIndex].textContent.replace(/\\u00a0/g, ' ') : ''; }")
    page.locator("[data-test='momentum']").screenshot(path=str(browser_artifacts / "03_momentum_none.png"))
    assert shown == "None (cumulative average)", f"the dropdown shows {shown!r} after choosing None"
    title = page.evaluate("() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .course-error')]"
                          ".map(e => e.textContent).join(' ')")
    assert not title, f"the explorer shows an error for momentum None: {title}"


@pytest.mark.lab_notebook("05")
def test_explorer_shows_it_is_busy_while_training(notebook_runs, browser_artifacts: Path):
    """05: a change that trains shows 'computing…' and dims the old plot until the new one is drawn."""
    notebook = find_notebook("05")
    run = notebook_runs.get(notebook.name)
    _laptop(run)
    page = run.page
    _explorer_with(run, """() => {
        for (const ex of document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .course-explorer')) {
          const sliders = [...ex.querySelectorAll('.widget-slider')].filter(s => /epochs/.test(s.textContent));
          if (sliders.length) { ex.setAttribute('data-test', 'busy-explorer');
                                sliders[0].setAttribute('data-test', 'epochs'); return true; }
        }
        return false; }""", "05's explorer with an epochs slider")
    page.evaluate("""() => {
        const ex = document.querySelector("[data-test='busy-explorer']");
        window.__courseBusy = [];
        const observer = new MutationObserver(() => {
          const busy = ex.querySelector('.course-busy');
          const stale = ex.querySelector('.widget-output.course-stale');
          if (busy || stale) window.__courseBusy.push({text: busy ? busy.textContent : '', dimmed: !!stale,
            opacity: stale ? getComputedStyle(stale).opacity : '1'});
        });
        observer.observe(ex, {subtree: true, childList: true, attributes: true, characterData: true});
        window.__courseObserver = observer; }""")
    slider = page.locator("[data-test='epochs']")
    slider.scroll_into_view_if_needed()
    slider.locator(".noUi-handle").focus()
    page.keyboard.press("ArrowLeft")
    page.wait_for_timeout(300)
    page.locator("[data-test='busy-explorer']").screenshot(path=str(browser_artifacts / "05_busy.png"))
    page.wait_for_function("() => !document.querySelector(\"[data-test='busy-explorer'] .course-busy\")",
                           timeout=120_000, polling=200)
    states = page.evaluate("() => { window.__courseObserver.disconnect(); return window.__courseBusy; }")
    assert any("computing" in s["text"] for s in states), f"no 'computing' line appeared while training: {states[:3]}"
    assert any(s["dimmed"] and float(s["opacity"]) < 0.6 for s in states), "the old plot was not dimmed"
    assert not page.locator("[data-test='busy-explorer'] .widget-output.course-stale").count(), "still dimmed"
