# Pattern: beginner notebooks (e.g. the classification chapters of mrdbourke/pytorch-deep-learning before they
# introduce inference_mode, and many Kaggle kernels): after the training loop, `y_preds = model(X_test)` with
# neither model.eval() nor no_grad, while the model has Dropout.
# Label: bug (eval-missing).
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 1))
loss_fn = nn.BCEWithLogitsLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
X_train, y_train, X_test = torch.randn(64, 2), torch.rand(64, 1).round(), torch.randn(16, 2)
for epoch in range(100):
    model.train()
    loss = loss_fn(model(X_train), y_train)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

y_preds = torch.round(torch.sigmoid(model(X_test)))  # EXPECT eval-missing bug: dropout on for the predictions
