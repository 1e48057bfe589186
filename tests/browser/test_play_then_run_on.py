"""A learner plays with every explorer, then runs the rest of the notebook: nothing after an explorer may depend on
what the learner did with it (issue: "playing with an explorer breaks the next cell").

For each notebook with an explorer (a widget cell with controls above a plot or table), after its Run All: every
control of every explorer is changed the way a learner would change it (another toggle, another dropdown choice,
the checkbox, the slider moved, another number typed), then "Run All Below" runs every cell after the first
explorer in the same kernel. No cell may fail, and the explorers must show a drawing or a plain message, never a
traceback.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from lab_driver import _FIND_PANEL, JS_RUN_DONE, KERNEL_IDLE, course_notebooks, problems_in

pytestmark = pytest.mark.browser

NOTEBOOKS = course_notebooks()

JS_TAG_EXPLORERS = _FIND_PANEL + """
(path) => {
  const panel = findPanel(path);
  if (!panel) return null;
  const found = [];
  panel.content.widgets.forEach((cell, index) => {
    if (cell.model.type !== 'code') return;
    const controls = cell.node.querySelectorAll(
      '.widget-toggle-buttons, .widget-dropdown, .widget-checkbox, .widget-slider, .widget-inline-hbox input[type=number]');
    if (controls.length && cell.node.querySelector('.widget-output')) {
      cell.node.setAttribute('data-test', 'explorer-cell-' + index);
      found.push(index);
    }
  });
  return found;
}
"""

JS_RUN_BELOW = _FIND_PANEL + """
([path, index]) => {
  const panel = findPanel(path);
  panel.content.activeCellIndex = index;
  window.jupyterapp.commands.execute('notebook:run-all-below');
  return true;
}
"""

JS_IDLE = "(idle) => { const bar = document.querySelector('#jp-main-statusbar'); return !!bar && bar.textContent.includes(idle); }"


def _wait_idle(page, timeout_s: float = 120) -> None:
    """Wait until the kernel has been idle for a moment (a control change computes in the kernel)."""
    page.wait_for_timeout(300)
    page.wait_for_function(JS_IDLE, arg=KERNEL_IDLE, timeout=timeout_s * 1000, polling=200)
    page.wait_for_timeout(300)
    page.wait_for_function(JS_IDLE, arg=KERNEL_IDLE, timeout=timeout_s * 1000, polling=200)


def _play(page, cell) -> list[str]:
    """Change every control in ``cell`` once, as a learner would; return what was done."""
    done = []
    for toggle in cell.locator(".widget-toggle-buttons").all():
        idle = toggle.locator("button:not(.mod-active)")
        if idle.count():
            idle.first.click()
            done.append("toggle")
            _wait_idle(page)
    for select in cell.locator(".widget-dropdown select").all():
        options = select.locator("option").all_text_contents()
        if len(options) > 1:
            current = select.evaluate("s => s.selectedIndex")
            select.select_option(index=len(options) - 1 if current != len(options) - 1 else 0)
            done.append("dropdown")
            _wait_idle(page)
    for box in cell.locator(".widget-checkbox input[type=checkbox]").all():
        box.click()
        done.append("checkbox")
        _wait_idle(page)
    for handle in cell.locator(".widget-slider .noUi-handle").all():
        handle.focus()
        handle.press("ArrowRight")
        done.append("slider")
        _wait_idle(page)
    for number in cell.locator(".widget-inline-hbox input[type=number]").all():
        value = number.input_value()
        number.fill(str(int(float(value or 0)) + 1))
        number.press("Enter")
        done.append("number")
        _wait_idle(page)
    return done


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_play_with_every_explorer_then_run_on(notebook: Path, notebook_runs, browser_artifacts: Path) -> None:
    run = notebook_runs.get(notebook.name)
    page = run.page
    explorers = page.evaluate(JS_TAG_EXPLORERS, run.path)
    if not explorers:
        pytest.skip(f"{notebook.name} has no explorer")
    played = {}
    for index in explorers:
        cell = page.locator(f"[data-test='explorer-cell-{index}']")
        cell.scroll_into_view_if_needed()
        played[index] = _play(page, cell)
    assert any(played.values()), f"{notebook.name}: no control could be changed in explorers {explorers}"
    page.screenshot(path=str(browser_artifacts / f"{notebook.stem}_after_play.png"))
    first = min(explorers)
    page.evaluate(JS_RUN_BELOW, [run.path, first])
    page.wait_for_function(JS_RUN_DONE, arg=[run.path, KERNEL_IDLE], timeout=240_000, polling=250)
    cells = [c for c in run.cells() if c["index"] >= first]
    problems = problems_in(cells)
    tracebacks = [c["index"] for c in cells if c.get("error_outputs")]
    assert not problems and not tracebacks, (
        f"{notebook.name}: after playing with the explorers ({played}) and running on from cell {first}: "
        + "; ".join(problems))
