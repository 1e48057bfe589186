"""Every assert in a lesson tells the learner, in a sentence, what it shows, and checks one thing."""
import ast
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def asserts(path: Path):
    for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if cell.cell_type != "code":
            continue
        source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Assert):
                yield index, node, ast.get_source_segment(source, node)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_assert_has_a_message(path):
    bare = [f"cell {i}: {text}" for i, node, text in asserts(path) if node.msg is None]
    assert not bare, f"{path.name}: asserts without a sentence for the learner:\n" + "\n".join(bare)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_and_chained_asserts(path):
    chained = [f"cell {i}: {text}" for i, node, text in asserts(path)
               if isinstance(node.test, ast.BoolOp) and isinstance(node.test.op, ast.And)]
    assert not chained, f"{path.name}: split these into one assert per claim:\n" + "\n".join(chained)
