# Pattern: Kaggle-style notebooks that validate every few epochs: model.train() once before the loop, and an
# `if epoch % 5 == 0:` block with model.eval() that never switches back.
# Label: bug (train-outside-loop).
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(20, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Linear(64, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.BCEWithLogitsLoss()
model.train()
for epoch in range(50):  # EXPECT train-outside-loop bug: after the first validation it trains in eval mode
    for xb, yb in []:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
    if epoch % 5 == 0:
        model.eval()
        with torch.no_grad():
            val_loss = sum(criterion(model(xb), yb).item() for xb, yb in [])
        print(epoch, val_loss)
