# Pattern: d2l-ai/d2l-en d2l/torch.py (train_epoch_ch3 / evaluate_accuracy, MIT-0 code): the mode calls sit
# under `if isinstance(net, torch.nn.Module):`; train_ch3 alternates training and evaluation per epoch.
# Label: correct.
import torch
from torch import nn


def evaluate_accuracy(net, data_iter):
    if isinstance(net, torch.nn.Module):
        net.eval()
    correct = 0
    with torch.no_grad():
        for X, y in data_iter:
            correct += (net(X).argmax(1) == y).sum()
    return correct


def train_epoch_ch3(net, train_iter, loss, updater):
    if isinstance(net, torch.nn.Module):
        net.train()
    for X, y in train_iter:
        l = loss(net(X), y)
        updater.zero_grad()
        l.mean().backward()
        updater.step()


def train_ch3(net, train_iter, test_iter, loss, num_epochs, updater):
    for epoch in range(num_epochs):
        train_epoch_ch3(net, train_iter, loss, updater)
        test_acc = evaluate_accuracy(net, test_iter)


net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 10))
train_ch3(net, [], [], nn.CrossEntropyLoss(reduction='none'), 10, torch.optim.SGD(net.parameters(), lr=0.1))
