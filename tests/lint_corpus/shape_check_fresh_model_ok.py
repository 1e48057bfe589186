# Pattern: mrdbourke/pytorch-deep-learning and d2l-ai/d2l-en notebooks pass one dummy batch through a freshly
# built model under no_grad to check output shapes, before any training.
# Label: correct (nothing learned yet can be spoiled; later evaluation after training is judged separately).
import torch
import torch.nn as nn

model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Flatten(), nn.LazyLinear(10))
with torch.no_grad():
    print(model(torch.randn(2, 3, 32, 32)).shape)
