# Pattern: pytorch/tutorials#1624 ("never switching back to train"): a local evaluate() helper calls
# model.eval() and does not restore the mode; the loop calls model.train() only once, before it.
# Label: bug (train-outside-loop).
import torch
import torch.nn as nn


def evaluate(model, loader):
    model.eval()
    with torch.no_grad():
        return sum(nn.functional.cross_entropy(model(x), y).item() for x, y in loader)


def fit(model, optimizer, train_loader, val_loader, epochs):
    model.train()
    for epoch in range(epochs):  # EXPECT train-outside-loop bug: evaluate() leaves the model in eval mode
        for x, y in train_loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        evaluate(model, val_loader)


net = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 2))
fit(net, torch.optim.SGD(net.parameters(), lr=0.1), [], [], 10)
