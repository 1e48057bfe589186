# Pattern: delip/PyTorchNLPBook#28 and facebookresearch/DME#3: F.dropout(x, p) inside forward without
# training=self.training keeps dropping after model.eval().
# Label: bug (functional-dropout-training).
import torch.nn as nn
import torch.nn.functional as F


class SurnameClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(50, 100)
        self.fc2 = nn.Linear(100, 18)

    def forward(self, x, apply_softmax=False):
        intermediate = F.relu(self.fc1(x))
        output = self.fc2(F.dropout(intermediate, p=0.5))  # EXPECT functional-dropout-training bug: always drops
        return F.softmax(output, dim=1) if apply_softmax else output
