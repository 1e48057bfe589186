from torch import nn
import torch.nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        x = nn.Dropout(0.5)(self.fc(x))  # LINT layer-in-forward
        x = torch.nn.BatchNorm1d(4)(x)  # LINT layer-in-forward
        x = nn.InstanceNorm1d(4, track_running_stats=True)(x)  # LINT layer-in-forward
        return nn.LSTM(4, 4, num_layers=2, dropout=0.3)(x)  # LINT layer-in-forward
