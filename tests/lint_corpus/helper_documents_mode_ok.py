# Pattern: library-style helpers in course and research code (e.g. a batch-dependence probe) whose docstring says
# that the model runs in the caller's mode; nobody in the file calls them.
# Label: correct (the mode is the caller's documented choice).
import copy

import torch


def outputs_with_mates(model, sample, mates):
    """The model's output for ``sample`` next to each batch of ``mates``, in the model's current mode (call
    .eval() first to see the running statistics at work)."""
    probe = copy.deepcopy(model)
    with torch.no_grad():
        return [probe(torch.cat([sample[None], m]))[0] for m in mates]
