# Pattern: udacity/deep-learning-v2-pytorch intro-to-pytorch/Part 5 - Inference and Validation (Solution).ipynb
# @ f89bd178 (MIT): validation in the `else:` clause of the batch loop, model.eval() inside no_grad, then
# model.train() again at the end of the epoch.
# Label: correct.
import torch
from torch import nn, optim


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 10)
        self.dropout = nn.Dropout(p=0.2)

    def forward(self, x):
        return torch.log_softmax(self.fc2(self.dropout(torch.relu(self.fc1(x.view(x.shape[0], -1))))), dim=1)


model = Classifier()
criterion = nn.NLLLoss()
optimizer = optim.Adam(model.parameters(), lr=0.003)
for e in range(30):
    running_loss = 0
    for images, labels in []:
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    else:
        test_loss = 0
        with torch.no_grad():
            model.eval()
            for images, labels in []:
                log_ps = model(images)
                test_loss += criterion(log_ps, labels)
        model.train()

model.eval()
with torch.no_grad():
    output = model.forward(torch.randn(1, 784))
