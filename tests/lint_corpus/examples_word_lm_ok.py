# Pattern: pytorch/examples word_language_model/main.py (BSD-3-Clause): a global model; evaluate() calls
# model.eval() under no_grad, train() calls model.train(); the epoch loop calls both (inside try/except).
# Label: correct.
import torch
import torch.nn as nn

model = nn.LSTM(10, 20, num_layers=2, dropout=0.5)
criterion = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=20)


def evaluate(data_source):
    model.eval()
    total = 0.0
    with torch.no_grad():
        for x, y in data_source:
            out, _ = model(x)
            total += criterion(out, y).item()
    return total


def train():
    model.train()
    for x, y in []:
        model.zero_grad()
        out, _ = model(x)
        criterion(out, y).backward()
        optimizer.step()


try:
    for epoch in range(1, 40):
        train()
        val_loss = evaluate([])
except KeyboardInterrupt:
    print('Exiting from training early')
