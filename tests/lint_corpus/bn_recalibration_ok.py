# Pattern: pytorch/pytorch torch/optim/swa_utils.py update_bn() (BSD-3-Clause) and SWA notebooks: reset the
# BatchNorm statistics, switch to training mode and run the data through under no_grad to recompute them.
# Label: correct (training mode under no_grad is the point here).
import torch
import torch.nn as nn


@torch.no_grad()
def recompute_bn(loader, model):
    momenta = {}
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    for x in loader:
        model(x)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)
