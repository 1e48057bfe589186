"""Reference solution to the exercise of notebook 06, "Partial mode control"."""
from __future__ import annotations

from course_utils.models import SmallCNN


class FineTuneCNN(SmallCNN):
    """A SmallCNN whose backbone is frozen and stays in eval mode whatever ``train()`` is called with."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.backbone.requires_grad_(False)
        self.backbone.eval()

    def train(self, mode: bool = True) -> "FineTuneCNN":
        super().train(mode)
        self.backbone.eval()
        return self
