# Pattern: pytorch/vision#1350-style inference scripts and many image-classification notebooks: a pretrained
# torchvision ResNet used for predictions under no_grad without model.eval(); its BatchNorm normalizes each
# batch with the batch's own statistics and overwrites the pretrained running statistics.
# Label: bug (eval-missing).
import torch
from torchvision import models

model = models.resnet50(weights=models.ResNet50_Weights.IMAGENET1K_V2)
batch = torch.randn(4, 3, 224, 224)
with torch.no_grad():  # EXPECT eval-missing bug: pretrained model still in training mode
    probabilities = model(batch).softmax(dim=1)
