"""Reference solution to the exercise of notebook 08, "Shipping a model"."""
from __future__ import annotations

import torch

from course_utils.modes import evaluating


def export_for_inference(model: torch.nn.Module, example: torch.Tensor) -> torch.export.ExportedProgram:
    """Export ``model`` in eval mode and restore every submodule's own mode afterwards."""
    with evaluating(model):
        return torch.export.export(model, (example,))
