# Pattern: this course's own `with evaluating(model):` (course_utils.modes), which restores the modes after the
# block; train() once before the loop is then correct.
# Label: correct.
import torch
import torch.nn as nn
from course_utils.modes import evaluating

model = nn.Sequential(nn.Linear(8, 16), nn.Dropout(0.2), nn.Linear(16, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
model.train()
for epoch in range(5):
    for x, y in []:
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    with evaluating(model), torch.no_grad():
        val = [model(x) for x, _ in []]
