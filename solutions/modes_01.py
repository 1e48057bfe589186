"""Reference solution for notebook 01's exercise: a recursive set_mode that matches nn.Module.train."""
import torch.nn as nn


def set_mode(module: nn.Module, mode: bool = True) -> nn.Module:
    if not isinstance(mode, bool):
        raise ValueError("mode must be True or False")
    module.training = mode
    for child in module.children():
        set_mode(child, mode)
    return module
