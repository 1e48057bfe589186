# Pattern (blind spot: eval() in a method): trainer classes in tutorial repositories with fit() calling
# self.train_epoch() and self.validate(); validate() calls self.model.eval(), train_epoch() never calls
# self.model.train() (it is called once in fit(), before the loop).
# Label: bug (train-outside-loop).
import torch
import torch.nn as nn


class Trainer:
    def __init__(self, model, optimizer):
        self.model = model
        self.optimizer = optimizer

    def train_epoch(self, loader):
        for x, y in loader:
            self.optimizer.zero_grad()
            nn.functional.cross_entropy(self.model(x), y).backward()
            self.optimizer.step()

    def validate(self, loader):
        self.model.eval()
        with torch.no_grad():
            return [self.model(x) for x, _ in loader]

    def fit(self, train_loader, val_loader, epochs):
        self.model.train()
        for epoch in range(epochs):  # EXPECT train-outside-loop bug: validate() leaves the model in eval mode
            self.train_epoch(train_loader)
            self.validate(val_loader)
