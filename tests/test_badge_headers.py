"""What a learner sees at the top of each notebook: no broken Binder image and no link to a placeholder repository
(binder/badges.py: the badge shows once REPO names the public repository; until then it stays in a comment)."""
import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("course_binder_badges_headers", ROOT / "binder" / "badges.py")
badges = importlib.util.module_from_spec(spec)
spec.loader.exec_module(badges)
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def visible(markdown: str) -> str:
    """The markdown a notebook renders: without HTML comments."""
    return re.sub(r"<!--.*?-->", "", markdown, flags=re.S)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_header_shows_no_placeholder_badge(path):
    first = nbformat.read(path, as_version=4).cells[0].source
    shown = visible(first)
    if badges.PUBLISHED:
        assert badges.header_line(path.name) in shown, f"{path.name}: the Binder badge should show"
    else:
        assert "OWNER" not in shown, f"{path.name}: the header links a placeholder repository"
        assert badges.BADGE_IMAGE not in shown, f"{path.name}: the header shows a badge image that leads nowhere"
    assert badges.header_line(path.name) in first, (
        f"{path.name}: run `python binder/badges.py --headers` to write its Binder line from binder/badges.py")


def test_setting_repo_publishes_the_badge(monkeypatch):
    monkeypatch.setattr(badges, "PUBLISHED", True)
    line = badges.header_line("02_dropout.ipynb")
    assert line.startswith("[![") and "<!--" not in line, "once published, the badge shows"
    assert badges.binder_url("02_dropout.ipynb") in line
