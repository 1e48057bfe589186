import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
x, y = torch.randn(16, 4), torch.randint(0, 2, (16,))
model.eval()
with torch.no_grad():
    print(model(x).argmax(1))
loss = nn.functional.cross_entropy(model(x), y)  # LINT train-in-eval
opt.zero_grad()
loss.backward()
opt.step()
