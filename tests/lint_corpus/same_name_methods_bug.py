# Pattern (functions with the same name overwrote each other in the old lint's table): two trainer classes in
# one file, each with its own validate(); only the second forgets model.eval().
# Label: one bug (eval-missing in SecondTrainer.run's call of its own validate), one correct class.
import torch
import torch.nn as nn


class FirstTrainer:
    def __init__(self, model):
        self.model = model

    def validate(self, x):
        self.model.eval()
        with torch.no_grad():
            return self.model(x)

    def run(self, x):
        self.model.train()
        return self.validate(x)


class SecondTrainer:
    def __init__(self, model):
        self.model = model

    def validate(self, x):
        with torch.no_grad():
            return self.model(x)

    def run(self, x):
        self.model.train()
        return self.validate(x)  # EXPECT eval-missing bug: SecondTrainer.validate has no eval()
