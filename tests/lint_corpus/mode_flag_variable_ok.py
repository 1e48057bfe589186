# Pattern: pytorch/examples imagenet/main.py-style run_epoch(loader, model, is_train) with model.train(is_train):
# the mode follows a variable, and the call sites pass the right one.
# Label: correct.
import torch
import torch.nn as nn


def run_epoch(loader, model, optimizer, is_train):
    model.train(is_train)
    with torch.set_grad_enabled(is_train):
        for x, y in loader:
            loss = nn.functional.cross_entropy(model(x), y)
            if is_train:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()


model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5), nn.Linear(4, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(10):
    run_epoch([], model, opt, True)
    run_epoch([], model, opt, False)
