# Pattern (issue: train-outside-loop named the wrong model): a notebook trains an autoencoder first
# (`autoencoder.train()` in an earlier cell), then builds a classifier and trains it in a loop whose validation
# calls classifier.eval() and never classifier.train(). The finding must name `classifier`.
# Label: bug.
import torch
import torch.nn as nn

autoencoder = nn.Sequential(nn.Linear(784, 32), nn.Linear(32, 784))
autoencoder.train()
classifier = nn.Sequential(nn.Linear(32, 64), nn.BatchNorm1d(64), nn.Linear(64, 10))
opt = torch.optim.SGD(classifier.parameters(), lr=0.1)
for epoch in range(5):  # EXPECT train-outside-loop bug: classifier trains in eval mode from epoch 2
    for x, y in []:
        loss = nn.functional.cross_entropy(classifier(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    classifier.eval()
    with torch.no_grad():
        val = [classifier(x) for x, _ in []]
