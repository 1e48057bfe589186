"""Reference solution to the exercise of notebook 04, "The correct training loop"."""
from __future__ import annotations

import torch
import torch.nn as nn


def train_model(model: nn.Module, train_loader, val_loader, optimizer: torch.optim.Optimizer,
                epochs: int) -> list[float]:
    """Train ``model`` for ``epochs`` epochs and return the mean validation loss of each epoch."""
    loss_fn = nn.CrossEntropyLoss()
    val_losses = []
    for _epoch in range(epochs):
        model.train()                          # at the top of EVERY epoch: undo the previous model.eval()
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
        model.eval()                           # dropout off, BatchNorm uses its running statistics
        total, batches = 0.0, 0
        with torch.no_grad():                  # no graph: eval() does not switch autograd off
            for x, y in val_loader:
                total += loss_fn(model(x), y).item()
                batches += 1
        val_losses.append(total / batches)
    return val_losses
