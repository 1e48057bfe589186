import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def forward(self, x):
        x = F.dropout(x, 0.5, training=self.training)
        x = F.dropout(x, 0.5, self.training)
        x = F.dropout(x, p=0.5, training=True)  # deliberate (e.g. Monte Carlo dropout)
        x = F.relu(x)
        x = torch.dropout(x, 0.5, self.training)
        return x


def dropout(x, p):  # a learner's own function with the same name is not torch's
    return x


dropout(1, 0.5)
