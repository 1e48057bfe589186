# Pattern: mrdbourke/pytorch-deep-learning going_modular engine.py train_step() and d2l-ai/d2l-en
# train_epoch_ch3: the training accuracy is computed from the training forward's own output (no second forward),
# under no_grad for the metric only.
# Label: correct.
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(10, 32), nn.Dropout(0.2), nn.Linear(32, 3))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(5):
    model.train()
    correct = 0
    for X, y in []:
        y_pred = model(X)
        loss = nn.functional.cross_entropy(y_pred, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            correct += (y_pred.argmax(1) == y).sum().item()
