# Pattern: yangze0930/NTS-Net#14: an nn.Dropout created inside forward() is always in training mode.
# Label: bug (layer-in-forward).
import torch.nn as nn


class AttentionNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2048, 200)

    def forward(self, x):
        return self.fc(nn.Dropout(p=0.5)(x))  # EXPECT layer-in-forward bug: a new Dropout in train mode every call
