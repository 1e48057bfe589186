# Pattern: rasbt deeplearning-models style notebooks (MIT): compute_accuracy(model, loader) called inside
# `torch.set_grad_enabled(False)` at the end of each epoch, in a variant where the epoch loop starts with
# model.train() and no model.eval() precedes the accuracy: BatchNorm uses batch statistics and its running
# statistics are updated with evaluation data.
# Label: bug (eval-missing at the helper's call site).
import torch
import torch.nn as nn
import torch.nn.functional as F

model = nn.Sequential(nn.Linear(784, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Linear(128, 10))
optimizer = torch.optim.Adam(model.parameters())


def compute_accuracy(model, data_loader):
    correct, n = 0, 0
    for features, targets in data_loader:
        correct += (model(features).argmax(1) == targets).sum()
        n += targets.size(0)
    return correct.float() / n * 100


for epoch in range(10):
    model.train()
    for features, targets in []:
        cost = F.cross_entropy(model(features), targets)
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()
    with torch.set_grad_enabled(False):
        acc = compute_accuracy(model, [])  # EXPECT eval-missing bug: accuracy in training mode
