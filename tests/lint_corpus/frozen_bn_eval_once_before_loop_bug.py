# Pattern: the same idiom done once, before the loop (seen in fine-tuning notebooks): the BatchNorm layers of the
# frozen backbone are put in eval mode, then model.train() at each epoch start switches them back.
# Label: bug (frozen-bn-train).
import torch
import torch.nn as nn
import torchvision

model = torchvision.models.resnet34(weights="IMAGENET1K_V1")
for name, param in model.named_parameters():
    if not name.startswith("fc"):
        param.requires_grad = False  # EXPECT frozen-bn-train bug: BatchNorm back in training mode every epoch
model.fc = nn.Linear(512, 5)
for m in model.modules():
    if isinstance(m, nn.BatchNorm2d):
        m.eval()
optimizer = torch.optim.SGD(model.fc.parameters(), lr=0.01)
for epoch in range(10):
    model.train()
    for x, y in []:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
