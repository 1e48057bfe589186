# Pattern (issue: 20 findings on code in the wrong mode whose model has no mode-dependent layer today): a plain
# MLP (Linear + ReLU only) with train() once before a loop that evaluates in eval mode.
# Label: latent (train-outside-loop, severity warning: results do not change until Dropout/BatchNorm is added).
import torch
import torch.nn as nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 16)
        self.fc2 = nn.Linear(16, 2)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


model = MLP()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
model.train()
for epoch in range(100):  # EXPECT train-outside-loop latent: MLP has no mode-dependent layer
    opt.zero_grad()
    nn.functional.cross_entropy(model(torch.randn(8, 2)), torch.zeros(8, dtype=torch.long)).backward()
    opt.step()
    model.eval()
    with torch.no_grad():
        model(torch.randn(8, 2))
