"""course_utils.lint: every rule with true positives and true negatives, notebooks, and the command line."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils.lint import CODES, Finding, check_path, check_source, main, notebook_source

CASES = Path(__file__).parent / "lint_cases"
PY_CASES = sorted(CASES.glob("*.py"))


def _expected(path):
    """``(line, code)`` for every ``# LINT code`` marker in a fixture file."""
    found = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        m = re.search(r"# LINT ([a-z-]+)", line)
        if m:
            found.append((number, m.group(1)))
    return found


@pytest.mark.parametrize("path", PY_CASES, ids=[p.name for p in PY_CASES])
def test_fixture_findings_match_markers(path):
    got = [(f.line, f.code) for f in check_path(path)]
    assert got == _expected(path)
    if path.stem.endswith("_good"):
        assert got == []
    else:
        assert got


def test_every_code_has_positive_and_negative_fixture():
    codes = {code for p in PY_CASES for _, code in _expected(p)}
    assert codes == set(CODES)


def test_notebook_across_cells():
    findings = check_path(CASES / "cross_cell_bad.ipynb")
    assert [f.code for f in findings] == ["train-outside-loop"]
    assert "cell 3, line 1" in findings[0].message and "(cell 5, line 1)" in findings[0].message
    assert check_path(CASES / "cross_cell_good.ipynb") == []


def test_notebook_source_blanks_magics_and_broken_cells():
    source, where = notebook_source(CASES / "cross_cell_bad.ipynb")
    assert "%matplotlib" not in source and "not python" not in source
    assert len(source.split("\n")) == len(where)
    assert where[0] == (2, 1)


def test_explicit_training_true_is_not_flagged():
    assert check_source("import torch.nn.functional as F\nF.dropout(x, 0.5, training=True)\n") == []


def test_alias_of_torch_nn():
    src = "from torch import nn\ny = nn.functional.dropout(x)\n"
    assert [f.code for f in check_source(src)] == ["functional-dropout-training"]


def test_finding_format():
    f = Finding("a.py", 3, "eval-missing", "msg")
    assert str(f) == "a.py:3: eval-missing msg"


def test_cli_exit_codes_and_output():
    bad = subprocess.run([sys.executable, "-m", "course_utils.lint", str(CASES / "dropout_bad.py")],
                         capture_output=True, text=True)
    assert bad.returncode == 1
    assert re.match(r".*dropout_bad\.py:10: functional-dropout-training ", bad.stdout.splitlines()[0])
    good = subprocess.run([sys.executable, "-m", "course_utils.lint", str(CASES / "dropout_good.py"),
                           str(CASES / "layer_good.py")], capture_output=True, text=True)
    assert good.returncode == 0 and good.stdout == ""


def test_main_bad_paths(tmp_path, capsys):
    assert main([str(tmp_path / "missing.py")]) == 2
    assert "missing.py" in capsys.readouterr().err
    other = tmp_path / "notes.txt"
    other.write_text("hi")
    assert main([str(other)]) == 2
    assert main([]) == 2


def test_bad_arguments():
    with pytest.raises(TypeError, match="42"):
        check_path(42)
    with pytest.raises(TypeError, match="source"):
        check_source(b"x = 1")
    with pytest.raises(FileNotFoundError, match="nope.py"):
        check_path("nope.py")


def test_star_import_of_functional():
    src = "from torch.nn.functional import *\ny = dropout(x, 0.5)\nz = dropout(x, 0.5, training=False)\n"
    assert [(f.line, f.code) for f in check_source(src)] == [(2, "functional-dropout-training")]


def test_set_grad_enabled_false_counts_as_no_grad():
    src = ("import torch\n\ndef val(model, x):\n    with torch.set_grad_enabled(False):\n        return model(x)\n\n"
           "def step(model, x):\n    with torch.set_grad_enabled(True):\n        return model(x)\n")
    assert [(f.line, f.code) for f in check_source(src)] == [(4, "eval-missing")]
