"""Reference solution to the exercise of notebook 05, "The misplaced train() pitfall"."""
from __future__ import annotations

import torch.nn as nn


def require_train_mode(model: nn.Module) -> None:
    """Raise ``RuntimeError`` naming every submodule of ``model`` that is in eval mode; return None otherwise.

    Call it at the start of each training epoch (or step): a misplaced ``model.train()`` then fails loudly.
    """
    in_eval = [name or "(model)" for name, module in model.named_modules() if not module.training]
    if in_eval:
        raise RuntimeError(f"training step in eval mode: {', '.join(in_eval)} "
                           "(call model.train() at the top of every epoch)")
