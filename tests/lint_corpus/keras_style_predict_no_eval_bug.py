# Pattern: Keras-style wrappers in tutorial repositories (a Module with fit()/predict() methods, e.g. the
# "sklearn-like" classifiers of many blog posts): fit() calls self.train(), predict() forgets self.eval().
# Label: bug (eval-missing at the predict() call).
import torch
import torch.nn as nn


class TabularNet(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(n_in, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(0.3),
                                    nn.Linear(64, n_out))

    def forward(self, x):
        return self.layers(x)

    def fit(self, loader, epochs=10, lr=1e-3):
        optimizer = torch.optim.Adam(self.parameters(), lr=lr)
        for epoch in range(epochs):
            self.train()
            for x, y in loader:
                optimizer.zero_grad()
                nn.functional.cross_entropy(self(x), y).backward()
                optimizer.step()
        return self

    def predict(self, x):
        with torch.no_grad():
            return self(x).argmax(1)


clf = TabularNet(12, 3)
clf.fit([])
labels = clf.predict(torch.randn(5, 12))  # EXPECT eval-missing bug: predict() runs in training mode
