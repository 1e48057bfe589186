"""The README's "Layout" section stays true: every path it names exists, every module is listed, and each
notebook's row names the checker, solution and helpers the notebook really uses. docs/authoring.md exists and is
linked from the README, and the paths it names exist.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
AUTHORING = ROOT / "docs" / "authoring.md"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

CODE_SPAN = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)\s]*)?\)")
# A repository path in a code span: a known top-level folder, then a path (a folder ends with "/").
PATH = re.compile(r"^(?:course_utils|solutions|tests|notebooks|docs|scripts|data|binder|bench|site)/[\w./-]*$")
IMPORT = re.compile(r"^\s*(?:from|import)\s+(course_utils(?:\.\w+)*)", re.M)


def section(text: str, heading: str) -> str:
    """The text under ``## heading`` up to the next level-2 heading."""
    parts = re.split(rf"^## {re.escape(heading)}[ \t]*$", text, maxsplit=1, flags=re.M)
    assert len(parts) == 2, f"README.md has no '## {heading}' section"
    return re.split(r"^## ", parts[1], maxsplit=1, flags=re.M)[0]


def layout() -> str:
    return section(README.read_text(encoding="utf-8"), "Layout")


def named_paths(text: str) -> set[str]:
    """Repository paths named in ``text``: in code spans and as relative link targets."""
    spans = {s.strip() for s in CODE_SPAN.findall(text)}
    links = {t for t in LINK.findall(text) if "://" not in t}
    return {p for p in spans if PATH.match(p)} | links


def table_rows(text: str, first_header: str) -> list[list[str]]:
    """Rows (as cells) of the markdown table whose first header cell is ``first_header``."""
    rows, inside = [], False
    for line in text.splitlines():
        if not line.startswith("|"):
            if inside:
                break
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not inside:
            inside = cells[0] == first_header
            continue
        if not set(cells[0]) <= set("-: "):
            rows.append(cells)
    return rows


def notebook_rows() -> dict[str, list[str]]:
    """The "Notebook by notebook" table: notebook file name -> [helpers, checker, solution, tests]."""
    rows = {}
    for cells in table_rows(layout(), "Notebook"):
        name = re.search(r"notebooks/(\d\d_\w+\.ipynb)", cells[0])
        assert name, f"README Layout: the first cell should link the notebook, got {cells[0]!r}"
        rows[name.group(1)] = cells[1:]
    return rows


def imported_modules(notebook: Path) -> set[str]:
    """The course_utils module files a notebook's code cells import (``from course_utils.x import y``)."""
    nb = nbformat.read(notebook, as_version=4)
    found = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for dotted in IMPORT.findall(cell.source):
            parts = dotted.split(".")
            # the longest prefix that is a module file: course_utils.dropout.dropout_variance -> dropout.py
            for end in range(len(parts), 1, -1):
                candidate = "/".join(parts[:end]) + ".py"
                if (ROOT / candidate).is_file():
                    found.add(candidate)
                    break
    return found - {"course_utils/__init__.py", "course_utils/exercises/__init__.py"}


def test_layout_names_only_existing_paths():
    missing = sorted(p for p in named_paths(layout()) if not (ROOT / p).exists())
    assert not missing, f"README Layout names paths that do not exist (renamed or removed?): {missing}"


def test_layout_lists_every_course_utils_module():
    named = named_paths(layout())
    modules = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "course_utils").rglob("*.py")
                     if "__pycache__" not in p.parts)
    unlisted = [m for m in modules if m not in named]
    assert not unlisted, (f"README Layout does not list {unlisted}: add each to its notebook's row or to "
                          "'Shared modules', as `course_utils/<name>.py`")


def test_layout_lists_every_solution():
    named = named_paths(layout())
    solutions = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "solutions").glob("[!_]*.py"))
    unlisted = [s for s in solutions if s not in named]
    assert not unlisted, f"README Layout does not list {unlisted} in its notebook's row"


def test_layout_has_one_row_per_notebook():
    rows = notebook_rows()
    names = [p.name for p in NOTEBOOKS]
    assert sorted(rows) == names, (f"README Layout 'Notebook by notebook': rows for {sorted(rows)}, notebooks "
                                   f"{names}; add or remove rows")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_row_names_what_the_notebook_uses(notebook):
    row = notebook_rows().get(notebook.name)
    assert row is not None, f"README Layout has no row for {notebook.name}"
    assert len(row) == 4, f"{notebook.name}: the row should have 5 cells (notebook, helpers, checker, solution, tests)"
    helpers, checker, solution, tests = (named_paths(cell) for cell in row)
    used = imported_modules(notebook)
    checkers = {m for m in used if m.startswith("course_utils/exercises/")}
    assert checkers and checkers <= checker, (
        f"{notebook.name} imports the checker module(s) {sorted(checkers)}; its row's checker cell names "
        f"{sorted(checker)}")
    forgotten = sorted(used - checkers - helpers)
    assert not forgotten, f"{notebook.name} imports {forgotten}, missing from its row's helpers in README Layout"
    assert all(s.startswith("solutions/") for s in solution) and solution, (
        f"{notebook.name}: the solution cell should name solutions/<name>.py, got {sorted(solution)}")
    for path in checker:
        stem = Path(path).stem
        assert f"solutions/{stem}.py" in solution, f"{notebook.name}: checker {path} but solution {sorted(solution)}"
    assert tests and all(t.startswith("tests/") for t in tests), (
        f"{notebook.name}: the tests cell should name its tests/test_*.py files, got {sorted(tests)}")


def test_readme_links_the_authoring_guide():
    assert AUTHORING.is_file(), "docs/authoring.md (how to write a notebook for this course) is missing"
    assert "](docs/authoring.md)" in README.read_text(encoding="utf-8"), "README.md should link docs/authoring.md"


def test_authoring_guide_names_only_existing_paths():
    text = AUTHORING.read_text(encoding="utf-8")
    # Placeholders such as notebooks/NN_topic.ipynb or <x> name files a new notebook adds; skip them.
    paths = {p for p in named_paths(text) if not re.search(r"NN|<|\*|\{", p)}
    links = {t for t in LINK.findall(text) if "://" not in t}
    missing = sorted(p for p in paths - links if not (ROOT / p).exists())
    missing += sorted(t for t in links if not (AUTHORING.parent / t).resolve().exists())
    assert not missing, f"docs/authoring.md names paths that do not exist: {missing}"
