# Pattern (false-alarm family "evaluation helper whose every caller calls eval() first"): rasbt
# deeplearning-models notebooks define compute_accuracy(model, loader) without eval() and call it after
# `model.eval()` under `torch.set_grad_enabled(False)` (e.g. the CNN notebooks' epoch loop).
# Label: correct: the helper is judged at its call sites.
import torch
import torch.nn as nn
import torch.nn.functional as F

model = nn.Sequential(nn.Linear(784, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Linear(128, 10))
optimizer = torch.optim.Adam(model.parameters())


def compute_accuracy(model, data_loader):
    correct, n = 0, 0
    for features, targets in data_loader:
        logits = model(features)
        correct += (logits.argmax(1) == targets).sum()
        n += targets.size(0)
    return correct.float() / n * 100


for epoch in range(10):
    model.train()
    for features, targets in []:
        cost = F.cross_entropy(model(features), targets)
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()
    model.eval()
    with torch.set_grad_enabled(False):
        print(compute_accuracy(model, []))

with torch.set_grad_enabled(False):
    print('Test accuracy: %.2f%%' % compute_accuracy(model, []))
