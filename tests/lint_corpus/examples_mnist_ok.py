# Pattern: pytorch/examples mnist/main.py @ f15fac72 (BSD-3-Clause): train() sets model.train(), test() sets
# model.eval() + no_grad, main() alternates them per epoch under `if __name__ == '__main__'`.
# Label: correct.
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 128)
        self.dropout = nn.Dropout(0.25)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        return self.fc2(self.dropout(F.relu(self.fc1(x))))


def train(model, train_loader, optimizer):
    model.train()
    for data, target in train_loader:
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()


def test(model, test_loader):
    model.eval()
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            correct += model(data).argmax(1).eq(target).sum().item()
    return correct


def main():
    model = Net()
    optimizer = torch.optim.Adadelta(model.parameters())
    for epoch in range(1, 15):
        train(model, [], optimizer)
        test(model, [])


if __name__ == '__main__':
    main()
