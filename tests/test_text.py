"""course_utils.text: long outputs kept readable (no line wider than the output column, listings folded)."""
import pytest
import torch.nn as nn

from course_utils.text import WIDTH, fold_source, table, wrap


def test_wrap_breaks_at_spaces_only():
    text = "frozen_module_reset -> " + " ".join(["True"] * 60)
    lines = wrap(text).splitlines()
    assert all(len(line) <= WIDTH for line in lines), "no line wider than the column"
    assert all(word in ("frozen_module_reset", "->", "True") for line in lines for word in line.split()), (
        "words are never cut: no 'Tru' + 'e'")
    assert wrap("short") == "short"


def test_table_aligns_columns():
    text = table([["eval()", True, False], ["momentum=0", False, True]], ["change", "weights", "stats"])
    lines = text.splitlines()
    assert lines[0].startswith("change") and set(lines[1]) <= {"-", " "}
    assert lines[2].index("True") == lines[3].index("False"), "each column starts at the same place"
    with pytest.raises(ValueError, match="row 0 has 1 cells"):
        table([["x"]], ["a", "b"])


def test_fold_source_shows_the_lines_that_matter_and_folds_the_rest():
    folded = fold_source(nn.modules.batchnorm._BatchNorm.forward, ["self.training", "bn_training"])
    excerpt = folded.excerpt()
    assert "bn_training" in excerpt and "self.training" in excerpt
    assert len(excerpt.splitlines()) < len(folded.lines) / 2, "the excerpt is much shorter than the listing"
    page = folded._repr_html_()
    assert "<details>" in page and f"Show all {len(folded.lines)} lines" in page, "the whole listing is one click away"
    assert "white-space:pre" in page, "lines are not wrapped mid-word"
    assert str(folded) == folded.source
    with pytest.raises(ValueError, match="none of"):
        fold_source(nn.Linear.forward, ["bn_training"])
