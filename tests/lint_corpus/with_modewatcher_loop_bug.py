# Pattern (blind spot: loops inside `with`, including the watcher's own recommended usage
# `with ModeWatcher(model):`): the course's notebook 05 misplaced-train() loop wrapped in the watcher.
# Label: bug (train-outside-loop).
import torch
import torch.nn as nn
from course_utils.watcher import ModeWatcher

model = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.Linear(16, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
with ModeWatcher(model):
    model.train()
    for epoch in range(5):  # EXPECT train-outside-loop bug: model.train() only before the loop
        for x, y in []:
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            model(torch.randn(4, 8))
