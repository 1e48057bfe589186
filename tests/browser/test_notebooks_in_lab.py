"""The course as a learner sees it: every notebook opened in JupyterLab 4 in headless Chromium, run, and used.

For each notebook: Run All, then no error, every widget rendered, every exercise and quiz showing its feedback,
and a screenshot in test-artifacts/browser/. Then the interactions a learner makes: toggle modes in 01's module
tree, move 02's dropout slider, change the placement in 05's explorer (and check the new plot's pixels), and
answer every quiz question. Each notebook is opened and run once; its tests share that page (see conftest.py).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from course_utils.plots import PLACEMENT_LABELS, RUN_COLORS
from lab_driver import (NotebookRun, changed_fraction, color_fraction, course_notebooks, decode_png,
                        find_notebook, ink_fraction, overlays, problems_in, screenshot_notebook)

pytestmark = pytest.mark.browser

NOTEBOOKS = course_notebooks()


def _run_of(notebook_runs, prefix: str) -> NotebookRun:
    notebook = find_notebook(prefix)
    if notebook is None:
        pytest.skip(f"notebook {prefix}_*.ipynb does not exist yet, so its interaction cannot be tested")
    return notebook_runs.get(notebook.name)


def _mark(run: NotebookRun, script: str, what: str) -> None:
    """Run ``script`` (JS returning true once it has tagged its element with a data-test attribute)."""
    found = run.page.evaluate(script)
    assert found, f"{run.name}: {what} not found on the page"


def _images(run: NotebookRun, container: str) -> list[str]:
    return run.page.eval_on_selector_all(f"{container} .widget-output img", "els => els.map(e => e.src)")


def _wait_for_new_image(run: NotebookRun, container: str, before: list[str], timeout_s: float) -> str:
    run.page.wait_for_function(
        "([sel, before]) => { const imgs = [...document.querySelectorAll(sel + ' .widget-output img')];"
        " return imgs.length > 0 && imgs.some(i => i.src.startsWith('data:image/png') && !before.includes(i.src)); }",
        arg=[container, before], timeout=timeout_s * 1000, polling=200)
    return next(src for src in _images(run, container) if src not in before)


# --- Every notebook -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_lab(notebook: Path, notebook_runs, browser_artifacts: Path) -> None:
    """Run All in JupyterLab: every cell ran, no error, widgets rendered, exercises and quizzes show feedback."""
    run = notebook_runs.get(notebook.name)
    shots = screenshot_notebook(run, browser_artifacts)
    cells = run.cells()
    problems = problems_in(cells)
    problems += [f"left open over the notebook: {o}" for o in overlays(run.page)]
    problems += [f"JavaScript error in the page: {e}" for e in run.page_errors]
    assert not problems, (f"{notebook.name} in JupyterLab ({len(problems)} problems; screenshot "
                          f"{shots[0]}):\n- " + "\n- ".join(problems))
    assert any(c["type"] == "code" and c["source"].strip() for c in cells), f"{notebook.name} has no code cell"


# --- Interactions ---------------------------------------------------------------------------------------------

MODE_TREE = "[data-test='mode-tree']"


@pytest.mark.lab_notebook("01")
def test_mode_tree_toggles_modes(notebook_runs, browser_artifacts: Path) -> None:
    """01: call .eval() on the whole model, then .train() on one child: the tree shows exactly those flags."""
    run = _run_of(notebook_runs, "01")
    _mark(run, """() => {
        for (const row of document.querySelectorAll('.jupyter-widgets .mode-row')) {
          let box = row.closest('.widget-vbox');
          while (box && ![...box.querySelectorAll('button')].some(b => b.textContent.trim() === '.eval()'))
            box = box.parentElement && box.parentElement.closest('.widget-vbox');
          if (box) { box.setAttribute('data-test', 'mode-tree'); return true; }
        }
        return false; }""", "a ModeTree widget (.mode-row rows next to an .eval() button)")
    page = run.page
    tree = page.locator(MODE_TREE)
    tree.scroll_into_view_if_needed()

    def flags() -> dict[str, str]:
        return dict(tree.locator(".mode-row").evaluate_all(
            "rows => rows.map(r => [r.dataset.name, r.dataset.training])"))

    def wait_for(expected: dict[str, str]) -> None:
        page.wait_for_function(
            "([sel, want]) => { const rows = [...document.querySelectorAll(sel + ' .mode-row')];"
            " return rows.length > 0 && rows.every(r => want[r.dataset.name] === r.dataset.training); }",
            arg=[MODE_TREE, expected], timeout=15_000, polling=100)

    names = list(flags())
    assert len(names) >= 2, f"the mode tree shows {len(names)} modules; a tree needs at least the model and a child"
    picker = tree.locator("select").first
    options = picker.locator("option").all_text_contents()
    assert len(options) == len(names), f"the picker lists {options}, the tree shows {names}"

    picker.select_option(index=0)  # the model itself
    tree.locator("button", has_text=".eval()").click()
    wait_for({name: "false" for name in names})
    assert "changed" in tree.text_content(), "the log line does not say what the .eval() call changed"

    child = names[1]  # the first registered child (named_modules order): it and its descendants switch
    picker.select_option(index=1)
    tree.locator("button", has_text=".train()").click()
    expected = {name: str(name == child or name.startswith(child + ".")).lower() for name in names}
    try:
        wait_for(expected)
    finally:
        tree.screenshot(path=str(browser_artifacts / "01_mode_tree_after_train.png"))
    assert flags() == expected
    assert options[1] in tree.text_content(), f"the log line does not name the module called, {options[1]!r}"


DROPOUT = "[data-test='dropout-explorer']"


@pytest.mark.lab_notebook("02")
def test_dropout_slider_redraws_histogram(notebook_runs, browser_artifacts: Path) -> None:
    """02: pressing → on the p slider raises p, and the histogram is redrawn (a real, different plot)."""
    run = _run_of(notebook_runs, "02")
    _mark(run, """() => {
        const sliders = [...document.querySelectorAll('.widget-slider')];
        const label = s => (s.querySelector('.widget-label') || {textContent: ''}).textContent.trim();
        const withPlot = s => { let box = s.closest('.widget-vbox');
          while (box && !box.querySelector('.widget-output img')) box = box.parentElement && box.parentElement.closest('.widget-vbox');
          return box; };
        const slider = sliders.find(s => /^p\\b|dropout/i.test(label(s)) && withPlot(s));
        if (!slider) return false;
        slider.setAttribute('data-test', 'p-slider');
        withPlot(slider).setAttribute('data-test', 'dropout-explorer');
        return true; }""", "a dropout explorer (a slider labelled p above a plot)")
    page = run.page
    slider = page.locator("[data-test='p-slider']")
    slider.scroll_into_view_if_needed()
    readout = slider.locator(".widget-readout")
    p_before = float(readout.text_content())
    before = _images(run, DROPOUT)
    pixels_before = decode_png(before[0])

    old_readout = readout.text_content().strip()
    slider.locator(".noUi-handle").focus()
    page.keyboard.press("ArrowRight" if p_before < 0.9 else "ArrowLeft")
    page.wait_for_function("([sel, old]) => document.querySelector(sel).textContent.trim() !== old",
                           arg=["[data-test='p-slider'] .widget-readout", old_readout], timeout=10_000)
    p_after = float(readout.text_content())
    assert p_after != p_before, f"the readout still shows p = {p_before}"
    new = _wait_for_new_image(run, DROPOUT, before, timeout_s=30)
    page.locator(DROPOUT).screenshot(path=str(browser_artifacts / "02_dropout_after_slider.png"))
    pixels = decode_png(new)
    assert ink_fraction(pixels) > 0.02, "the redrawn histogram is (nearly) blank"
    assert changed_fraction(pixels_before, pixels) > 0.001, "the redrawn histogram looks the same as before"
    assert color_fraction(pixels, RUN_COLORS["train"]) + color_fraction(pixels, RUN_COLORS["eval"]) > 0.001, (
        "the redrawn histogram has no bars in the course's train or eval colour")
    assert not page.locator(f"{DROPOUT} .course-error").count(), "the explorer shows an error after the change"


PLACEMENT = "[data-test='placement-explorer']"


@pytest.mark.lab_notebook("05")
def test_placement_explorer_redraws_loss_curves(notebook_runs, browser_artifacts: Path) -> None:
    """05: choosing another placement of train() redraws the loss curves in that placement's colour."""
    run = _run_of(notebook_runs, "05")
    words = sorted(set(RUN_COLORS) & set(PLACEMENT_LABELS)) + list(PLACEMENT_LABELS.values())
    found = run.page.evaluate("""(words) => {
        const isPlacement = t => words.some(w => t.trim() === w || t.trim() === w.replace('_', ' '));
        const withPlot = el => { let box = el.closest('.widget-vbox');
          while (box && !box.querySelector('.widget-output img')) box = box.parentElement && box.parentElement.closest('.widget-vbox');
          return box; };
        for (const tb of document.querySelectorAll('.widget-toggle-buttons')) {
          const buttons = [...tb.querySelectorAll('button')];
          if (buttons.filter(b => isPlacement(b.textContent)).length >= 2 && withPlot(tb)) {
            tb.setAttribute('data-test', 'placement-control'); withPlot(tb).setAttribute('data-test', 'placement-explorer');
            return {kind: 'toggle', options: buttons.map(b => b.textContent.trim()),
                    active: buttons.findIndex(b => b.classList.contains('mod-active'))};
          }
        }
        for (const dd of document.querySelectorAll('.widget-dropdown')) {
          const select = dd.querySelector('select');
          const opts = select ? [...select.options].map(o => o.textContent.trim()) : [];
          if (opts.filter(isPlacement).length >= 2 && withPlot(dd)) {
            dd.setAttribute('data-test', 'placement-control'); withPlot(dd).setAttribute('data-test', 'placement-explorer');
            return {kind: 'dropdown', options: opts, active: select.selectedIndex};
          }
        }
        return null; }""", words)
    assert found, (f"{run.name}: no placement control (toggle buttons or dropdown with options among {words}) "
                   "above a plot was found")
    page = run.page
    explorer = page.locator(PLACEMENT)
    explorer.scroll_into_view_if_needed()
    options, active = found["options"], found["active"]
    current = options[active] if active >= 0 else None
    label_to_key = {**{k: k for k in PLACEMENT_LABELS}, **{k.replace("_", " "): k for k in PLACEMENT_LABELS},
                    **{v: k for k, v in PLACEMENT_LABELS.items()}}
    choices = [o for o in options if o in label_to_key and o != current]
    target = next((o for o in choices if label_to_key[o] == "outside"), choices[0])
    before = _images(run, PLACEMENT)
    assert before, "the placement explorer shows no plot before the change"
    pixels_before = decode_png(before[0])

    control = page.locator("[data-test='placement-control']")
    if found["kind"] == "toggle":
        control.locator("button", has_text=target).first.click()
    else:
        control.locator("select").select_option(label=target)
    new = _wait_for_new_image(run, PLACEMENT, before, timeout_s=90)  # a new placement may train for seconds
    explorer.screenshot(path=str(browser_artifacts / "05_placement_after_change.png"))
    pixels = decode_png(new)
    key = label_to_key[target]
    assert ink_fraction(pixels) > 0.02, "the redrawn loss curves are (nearly) blank"
    assert changed_fraction(pixels_before, pixels) > 0.001, "the loss-curve image did not change"
    assert color_fraction(pixels, RUN_COLORS[key], tolerance=30) > 0.0005, (
        f"the redrawn plot has no curve in the colour of {key!r} ({RUN_COLORS[key]})")
    assert not page.locator(f"{PLACEMENT} .course-error").count(), "the explorer shows an error after the change"


# --- Quizzes ----------------------------------------------------------------------------------------------------

def answer_key(notebook: Path) -> dict[str, tuple[list[str], int, list[str]]]:
    """``{prompt: (options, answer, explanations)}`` for the quiz bank the notebook imports (``QUESTIONS``), as the
    learner reads them (code spans without their backticks)."""
    import importlib

    import nbformat

    from course_utils.exercises.core import plain

    key = {}
    for cell in nbformat.read(notebook, as_version=4).cells:
        for module in re.findall(r"from (course_utils\.exercises\.\w+) import [^\n]*\bQUESTIONS\b", cell.source):
            for q in importlib.import_module(module).QUESTIONS:
                key[_norm(plain(q.prompt))] = ([plain(o) for o in q.options], q.answer,
                                               [plain(e) for e in q.explanations])
    return key


def _norm(text: str) -> str:
    return " ".join(str(text).split())


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_quiz_answers_show_feedback(notebook: Path, notebook_runs, browser_artifacts: Path) -> None:
    """Click every option of every quiz question: each shows its verdict and explanation, one is correct."""
    run = notebook_runs.get(notebook.name)
    page = run.page
    count = page.evaluate("""() => {
        const boxes = [...document.querySelectorAll('.jupyter-widgets .widget-radio-box')];
        boxes.forEach((box, i) => { const q = box.closest('.widget-radio').closest('.widget-vbox');
                                   q.setAttribute('data-test-question', String(i)); });
        return boxes.length; }""")
    assert count > 0, f"{notebook.name} shows no quiz question (.widget-radio-box)"
    key = answer_key(notebook)
    assert not key or count == len(key), f"the notebook writes {len(key)} questions, the page shows {count}"
    for i in range(count):
        question = page.locator(f"[data-test-question='{i}']")
        question.scroll_into_view_if_needed()
        prompt = _norm(re.sub(r"^\d+\.\s*", "", question.locator(".widget-html").first.text_content()))
        labels = question.locator(".widget-radio-box label")
        option_texts = [_norm(t) for t in labels.all_text_contents()]
        expected = key.get(prompt)
        assert expected is not None or not key, (
            f"question {i + 1} shows the prompt {prompt!r}, which is not among the notebook's questions")
        verdicts = []
        for k in range(len(option_texts)):
            feedback = question.locator(".widget-html").last
            old = feedback.inner_html()
            labels.nth(k).click()
            try:
                page.wait_for_function("([sel, old]) => { const f = [...document.querySelectorAll(sel + ' .widget-html')].pop();"
                                       " return f.innerHTML !== old && !!f.querySelector('.quiz-correct, .quiz-wrong'); }",
                                       arg=[f"[data-test-question='{i}']", old], timeout=5_000, polling=100)
            except Exception:
                pass  # two options may share a verdict and explanation; checked below
            span = feedback.locator(".quiz-correct, .quiz-wrong")
            assert span.count() == 1, f"question {i + 1} ({prompt[:60]!r}), option {k}: no feedback appeared"
            correct = "quiz-correct" in span.get_attribute("class")
            text = _norm(span.text_content())
            verdict = "✔ Correct." if correct else "✘ Not yet."
            assert text.startswith(verdict) and len(text) > len(verdict) + 1, (
                f"question {i + 1}, option {k}: feedback {text!r} lacks its verdict or explanation")
            if expected is not None:
                options, answer, explanations = expected
                # The quiz shows options in a shuffled order: find the written option by its label.
                written = [_norm(o) for o in options]
                assert option_texts[k] in written, f"question {i + 1}: option {option_texts[k]!r} is not in the notebook"
                w = written.index(option_texts[k])
                assert correct == (w == answer), (
                    f"question {i + 1}: option {option_texts[k]!r} is marked {verdict!r}, the answer is {options[answer]!r}")
                assert text == _norm(f"{verdict} {explanations[w]}"), (
                    f"question {i + 1}, option {option_texts[k]!r}: shows {text!r}, the notebook's explanation is "
                    f"{explanations[w]!r}")
            verdicts.append(correct)
        assert verdicts.count(True) == 1, f"question {i + 1} ({prompt[:60]!r}): {verdicts.count(True)} options correct"
    page.locator("[data-test-question='0']").screenshot(
        path=str(browser_artifacts / f"{notebook.stem}_quiz_answered.png"))
