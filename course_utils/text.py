"""Long outputs made readable: source listings folded to the lines that matter, messages wrapped at spaces.

JupyterLab breaks a text line wider than the output column anywhere, even inside a word ("Tru/e"); these
helpers keep every line short and show long listings as a few lines with the rest folded away.
"""
from __future__ import annotations

import html
import textwrap
from typing import Any, Iterable, Sequence

from .source import source_of

WIDTH = 96
"""Characters per line: JupyterLab's output column holds about 110 monospace characters at a 1366 px viewport."""


def wrap(text: str, width: int = WIDTH, indent: str = "    ") -> str:
    """``text`` with every line longer than ``width`` broken at spaces; continuation lines get ``indent``."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    out = []
    for line in text.splitlines() or [""]:
        lead = line[: len(line) - len(line.lstrip())]
        out.extend(textwrap.wrap(line, width=width, subsequent_indent=lead + indent, break_long_words=False,
                                 break_on_hyphens=False) or [line])
    return "\n".join(out)


def say(*parts: Any, width: int = WIDTH) -> None:
    """``print(*parts)``, wrapped at spaces to ``width`` characters."""
    print(wrap(" ".join(str(p) for p in parts), width))


def table(rows: Iterable[Sequence[Any]], header: Sequence[str]) -> str:
    """A plain-text table: one column per header, left-aligned, each column as wide as its widest cell."""
    rows = [[str(c) for c in row] for row in rows]
    header = [str(h) for h in header]
    for i, row in enumerate(rows):
        if len(row) != len(header):
            raise ValueError(f"row {i} has {len(row)} cells, the header {len(header)}")
    widths = [max(len(r[k]) for r in rows + [header]) for k in range(len(header))]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


class FoldedSource:
    """A source listing shown as the lines that matter (with line numbers and a little context) and, folded in a
    ``<details>``, the whole listing. As text (``str``), the whole listing."""

    def __init__(self, obj: Any, focus: Sequence[str], context: int = 1, title: str | None = None) -> None:
        if isinstance(focus, str) or not focus:
            raise ValueError("focus must be a non-empty list of strings to look for, e.g. ['self.training']")
        self.source = source_of(obj)
        self.lines = self.source.rstrip("\n").splitlines()
        self.title = title or getattr(obj, "__qualname__", repr(obj))
        hits = [i for i, line in enumerate(self.lines) if any(f in line for f in focus)]
        if not hits:
            raise ValueError(f"none of {list(focus)} occurs in the source of {self.title}")
        self.shown = sorted({j for i in hits for j in range(max(0, i - context), min(len(self.lines), i + context + 1))})
        self.focus = list(focus)

    def excerpt(self) -> str:
        """The lines that matter, numbered, with ``...`` where lines are left out."""
        out, previous = [], -1
        for i in self.shown:
            if i != previous + 1:
                out.append("     ...")
            out.append(f"{i + 1:4d} {self.lines[i]}")
            previous = i
        if previous != len(self.lines) - 1:
            out.append("     ...")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.source

    def _repr_html_(self) -> str:
        pre = 'style="white-space:pre;overflow-x:auto;margin:4px 0"'
        return (f'<div class="course-source"><b>{html.escape(self.title)}</b>: the {len(self.shown)} lines that '
                f"matter of {len(self.lines)} (with {', '.join(html.escape(f) for f in self.focus)})"
                f"<pre {pre}>{html.escape(self.excerpt())}</pre>"
                f"<details><summary>Show all {len(self.lines)} lines</summary><pre {pre}>"
                f"{html.escape(self.source)}</pre></details></div>")


def fold_source(obj: Any, focus: Sequence[str], context: int = 1) -> FoldedSource:
    """Show ``obj``'s installed source as the lines containing any of ``focus`` (± ``context`` lines), the
    whole listing folded below them."""
    return FoldedSource(obj, focus, context)


__all__ = ["WIDTH", "wrap", "say", "table", "FoldedSource", "fold_source"]
