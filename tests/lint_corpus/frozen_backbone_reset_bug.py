# Pattern: Lightning-AI/pytorch-lightning#2551/#18930: backbone.eval() + requires_grad_(False) for fine-tuning,
# then model.train() at each epoch start puts the frozen BatchNorm back in training mode.
# Label: bug (frozen-bn-train).
import torch
import torch.nn as nn


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.bn = nn.BatchNorm2d(8)

    def forward(self, x):
        return self.bn(self.conv(x)).mean((2, 3))


class FineTuner(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = Backbone()
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.backbone(x))


model = FineTuner()
model.backbone.requires_grad_(False)  # EXPECT frozen-bn-train bug: model.train() below resets backbone.eval()
model.backbone.eval()
opt = torch.optim.SGD(model.head.parameters(), lr=0.1)
for epoch in range(5):
    model.train()
    for x, y in []:
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
