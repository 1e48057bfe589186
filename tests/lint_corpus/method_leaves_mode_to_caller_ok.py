# Pattern (false-alarm family "a method that leaves the mode to its caller by design"): a model class with a
# predict()/generate() method that runs self(...) under no_grad and documents that the caller sets the mode
# (as in rasbt/LLMs-from-scratch's generate helpers and many model classes).
# Label: correct.
import torch
import torch.nn as nn


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 16), nn.Dropout(0.1), nn.Linear(16, 2))

    def forward(self, x):
        return self.net(x)

    def predict(self, x):
        """Class indices for ``x``; call .eval() first (the mode is the caller's choice)."""
        with torch.no_grad():
            return self(x).argmax(1)
