# Pattern (blind spot: eval() in an imported helper): detection reference scripts (pytorch/vision
# references/detection/train.py, BSD-3-Clause) import `evaluate` from engine.py, which calls model.eval();
# this variant calls model.train() once before the epoch loop and trains with its own loop.
# Label: bug (train-outside-loop).
import torch
import torchvision
from engine import evaluate

model = torchvision.models.resnet50(weights=None)
optimizer = torch.optim.SGD(model.parameters(), lr=0.02)
model.train()
for epoch in range(26):  # EXPECT train-outside-loop bug: evaluate() puts the model in eval mode
    for images, targets in []:
        loss = torch.nn.functional.cross_entropy(model(images), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    evaluate(model, [], device='cpu')
