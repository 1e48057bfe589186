# Pattern: fine-tuning scripts in detection/segmentation repositories (the `set_bn_eval` idiom of
# mmdetection-style code and many Kaggle kernels): a frozen pretrained backbone whose BatchNorm layers are put back
# in eval mode, layer by layer, after every model.train().
# Label: correct.
import torch
import torch.nn as nn
import torchvision


def set_bn_eval(m):
    if isinstance(m, nn.BatchNorm2d):
        m.eval()


model = torchvision.models.resnet34(weights="IMAGENET1K_V1")
for name, param in model.named_parameters():
    if not name.startswith("fc"):
        param.requires_grad = False
model.fc = nn.Linear(512, 5)
optimizer = torch.optim.SGD(model.fc.parameters(), lr=0.01)
for epoch in range(10):
    model.train()
    model.apply(set_bn_eval)
    for x, y in []:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        [model(x) for x, _ in []]
