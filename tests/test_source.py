"""Unit tests for course_utils.source: the installed torch's own source, shown in a cell."""
import pytest
import torch.nn as nn

from course_utils.source import source_of


def test_source_of_strips_docstring_only():
    text = source_of(nn.Module.train)
    assert "def train(self, mode" in text and "isinstance(mode, bool)" in text
    assert "Set the module in training mode" not in text and "docstring omitted" in text
    assert "Set the module in training mode" in source_of(nn.Module.train, docstring=True)
    with pytest.raises(TypeError, match="cannot show the source of"):
        source_of(len)
