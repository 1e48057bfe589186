# Pattern: the same notebooks once they switch to model.eval() + torch.inference_mode() for predictions, and a
# one-off manual training step at the top level (forward, loss, backward) that must not count as a prediction.
# Label: correct.
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 1))
loss_fn = nn.BCEWithLogitsLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
X_train, y_train, X_test = torch.randn(64, 2), torch.rand(64, 1).round(), torch.randn(16, 2)
model.train()
y_logits = model(X_train)
loss = loss_fn(y_logits, y_train)
optimizer.zero_grad()
loss.backward()
optimizer.step()

model.eval()
with torch.inference_mode():
    y_preds = torch.round(torch.sigmoid(model(X_test)))
