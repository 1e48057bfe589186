# Pattern: udacity/deep-learning-v2-pytorch convolutional-neural-networks/cifar-cnn/cifar10_cnn_solution.ipynb
# (MIT): model.train() at the top of each epoch, model.eval() for validation; the final test loop runs after
# model.eval() without no_grad (wasteful, not a mode bug).
# Label: correct.
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.pool = nn.MaxPool2d(2, 2)
        self.fc1 = nn.Linear(16 * 16 * 16, 10)
        self.dropout = nn.Dropout(0.25)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        return self.fc1(self.dropout(x.view(-1, 16 * 16 * 16)))


model = Net()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
for epoch in range(1, 31):
    model.train()
    for data, target in []:
        optimizer.zero_grad()
        loss = criterion(model(data), target)
        loss.backward()
        optimizer.step()
    model.eval()
    for data, target in []:
        valid_loss = criterion(model(data), target).item()

model.load_state_dict(torch.load('model_cifar.pt'))
test_loss = 0.0
model.eval()
for data, target in []:
    output = model(data)
    test_loss += criterion(output, target).item()
