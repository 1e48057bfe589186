# Pattern (blind spot: evaluation without no_grad): a test() function with neither no_grad nor eval(), called
# right after training in training mode (d2l-ai/d2l-en's evaluate_accuracy calls net.eval(); this is the
# variant without it).
# Label: bug (eval-missing, reported at the call).
import torch
import torch.nn as nn

net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 10))
trainer = torch.optim.SGD(net.parameters(), lr=0.1)


def test_accuracy(net, data_iter):
    correct = 0
    for X, y in data_iter:
        correct += (net(X).argmax(1) == y).sum().item()
    return correct


for epoch in range(10):
    net.train()
    for X, y in []:
        trainer.zero_grad()
        nn.functional.cross_entropy(net(X), y).backward()
        trainer.step()
    acc = test_accuracy(net, [])  # EXPECT eval-missing bug: dropout still on while testing
