"""Write a notebook from a "percent" script (cells start with `# %%` or `# %% [markdown]`), with no outputs.

Authors may draft a notebook as plain text and convert it:  python scripts/percent_to_ipynb.py draft.py notebooks/NN_name.ipynb
Markdown cells are written as comment lines (`# text`); the leading `# ` is stripped.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat


def convert(text: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    kind, lines = None, []

    def flush() -> None:
        if kind is None:
            return
        body = "\n".join(lines).strip("\n")
        if kind == "markdown":
            body = "\n".join(l[2:] if l.startswith("# ") else l.lstrip("#") for l in body.splitlines())
            nb.cells.append(nbformat.v4.new_markdown_cell(body))
        elif body:
            nb.cells.append(nbformat.v4.new_code_cell(body))

    for line in text.splitlines():
        if line.startswith("# %%"):
            flush()
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        else:
            lines.append(line)
    flush()
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"
    return nb


def main(src: str, dst: str) -> None:
    nb = convert(Path(src).read_text(encoding="utf-8"))
    nbformat.validate(nb)
    Path(dst).write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    print(f"wrote {dst}: {len(nb.cells)} cells")


if __name__ == "__main__":
    main(*sys.argv[1:3])
