# Pattern: pytorch/examples vae/main.py (BSD-3-Clause): train(epoch) with model.train(), test(epoch) with
# model.eval() under no_grad, and sampling under no_grad after test() in the epoch loop.
# Label: correct.
import torch
from torch import nn
from torch.nn import functional as F


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 784)

    def decode(self, z):
        return torch.sigmoid(self.fc3(z))

    def forward(self, x):
        mu = self.fc21(F.relu(self.fc1(x.view(-1, 784))))
        return self.decode(mu), mu


model = VAE()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)


def train(epoch):
    model.train()
    for batch_idx, (data, _) in enumerate([]):
        optimizer.zero_grad()
        recon_batch, mu = model(data)
        loss = F.binary_cross_entropy(recon_batch, data.view(-1, 784))
        loss.backward()
        optimizer.step()


def test(epoch):
    model.eval()
    with torch.no_grad():
        for i, (data, _) in enumerate([]):
            recon_batch, mu = model(data)


if __name__ == "__main__":
    for epoch in range(1, 11):
        train(epoch)
        test(epoch)
        with torch.no_grad():
            sample = model.decode(torch.randn(64, 20))
