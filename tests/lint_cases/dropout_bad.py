import torch.nn as nn
import torch.nn.functional as F
from torch.nn import functional as nnf
from torch.nn.functional import dropout as drop
import torch


class Net(nn.Module):
    def forward(self, x):
        x = F.dropout(x, 0.5)  # LINT functional-dropout-training
        x = nnf.dropout2d(x, p=0.2)  # LINT functional-dropout-training
        x = drop(x)  # LINT functional-dropout-training
        x = torch.nn.functional.dropout(x, 0.1)  # LINT functional-dropout-training
        return F.alpha_dropout(x, 0.1)  # LINT functional-dropout-training
