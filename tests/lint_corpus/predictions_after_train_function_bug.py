# Pattern: mrdbourke/pytorch-deep-learning-style notebooks: a train() helper whose last mode call is
# model.train() (it validates first, then trains, each epoch), followed by a prediction cell under
# inference_mode with no model.eval().
# Label: bug (eval-missing).
import torch
import torch.nn as nn


class TinyVGG(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(3, 10, 3), nn.BatchNorm2d(10), nn.ReLU(), nn.Flatten(),
                                   nn.LazyLinear(3))

    def forward(self, x):
        return self.block(x)


def fit(model, train_dl, val_dl, optimizer, epochs):
    for epoch in range(epochs):
        model.eval()
        with torch.inference_mode():
            val_loss = sum(nn.functional.cross_entropy(model(x), y) for x, y in val_dl)
        model.train()
        for x, y in train_dl:
            loss = nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


model_0 = TinyVGG()
fit(model_0, [], [], torch.optim.Adam(model_0.parameters()), 5)
with torch.inference_mode():  # EXPECT eval-missing bug: last mode call in fit() is model.train()
    custom_pred = model_0(torch.randn(1, 3, 64, 64)).argmax(1)
