# Pattern: Lightning-AI LightningModule examples: training_step/validation_step call self(x); Lightning sets
# the modes itself, so the methods leave the mode to the framework.
# Label: correct.
import torch
import torch.nn as nn
import lightning as L


class LitClassifier(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(28 * 28, 64), nn.Dropout(0.1), nn.Linear(64, 10))

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return nn.functional.cross_entropy(self(x), y)

    @torch.no_grad()
    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", nn.functional.cross_entropy(self(x), y))
