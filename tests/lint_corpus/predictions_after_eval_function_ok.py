# Pattern: mrdbourke/pytorch-deep-learning going_modular/going_modular/engine.py @ 30d70fba (MIT): train_step()
# sets model.train(), test_step() sets model.eval() under inference_mode, train() alternates them, so after
# train() returns the model is in eval mode and predictions are right.
# Label: correct.
import torch
import torch.nn as nn


def train_step(model, dataloader, loss_fn, optimizer):
    model.train()
    for X, y in dataloader:
        loss = loss_fn(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def test_step(model, dataloader, loss_fn):
    model.eval()
    with torch.inference_mode():
        for X, y in dataloader:
            test_loss = loss_fn(model(X), y)


def train(model, train_dataloader, test_dataloader, optimizer, loss_fn, epochs):
    for epoch in range(epochs):
        train_step(model, train_dataloader, loss_fn, optimizer)
        test_step(model, test_dataloader, loss_fn)


model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Flatten(), nn.LazyLinear(3))
train(model, [], [], torch.optim.Adam(model.parameters()), nn.CrossEntropyLoss(), 5)
with torch.inference_mode():
    pred = model(torch.randn(1, 3, 64, 64))
