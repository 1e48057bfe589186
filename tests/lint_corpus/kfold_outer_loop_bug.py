# Pattern (blind spot: an outer k-fold loop): k-fold cross-validation notebooks build a model per fold, call
# model.train() once, then loop over epochs with validation in eval mode.
# Label: bug (train-outside-loop, at the epoch loop).
import torch
import torch.nn as nn
from sklearn.model_selection import KFold


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 2))

    def forward(self, x):
        return self.layers(x)


for fold, (train_ids, val_ids) in enumerate(KFold(n_splits=5).split(range(100))):
    network = Net()
    optimizer = torch.optim.Adam(network.parameters(), lr=1e-4)
    network.train()
    for epoch in range(5):  # EXPECT train-outside-loop bug: network.train() only before the epoch loop
        for inputs, targets in []:
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(network(inputs), targets)
            loss.backward()
            optimizer.step()
        network.eval()
        with torch.no_grad():
            correct = sum((network(x).argmax(1) == y).sum() for x, y in [])
