# Pattern (blind spot: an eval() later undone by train()): a notebook cell sequence: model.eval() for a quick
# check, model.train() to continue training, then a no_grad test-set evaluation without a new eval().
# Label: bug (eval-missing).
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
model.eval()
print(model(torch.randn(2, 4)))
model.train()
for step in range(100):
    opt.zero_grad()
    model(torch.randn(16, 4)).sum().backward()
    opt.step()
with torch.no_grad():  # EXPECT eval-missing bug: the eval() above was undone by model.train()
    test_out = model(torch.randn(16, 4))
