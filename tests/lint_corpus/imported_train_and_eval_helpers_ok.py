# Pattern: pytorch/vision references/detection/train.py (BSD-3-Clause) imports train_one_epoch and evaluate
# from engine.py, which call model.train() and model.eval() themselves; the epoch loop alternates them.
# Label: correct.
import torch
import torchvision
from engine import evaluate, train_one_epoch

model = torchvision.models.detection.fasterrcnn_resnet50_fpn(weights=None)
optimizer = torch.optim.SGD(model.parameters(), lr=0.02)
for epoch in range(26):
    train_one_epoch(model, optimizer, [], 'cpu', epoch, print_freq=20)
    evaluate(model, [], device='cpu')
