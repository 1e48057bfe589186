# Pattern: pytorch/examples time_sequence_prediction/train.py (BSD-3-Clause): training through an LBFGS
# closure passed to optimizer.step(closure), then a prediction under no_grad; the model is never put in eval mode
# but has no mode-dependent layer (LSTMCell + Linear).
# Label: latent (eval-missing, severity warning).
import torch
import torch.nn as nn


class Sequence(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm1 = nn.LSTMCell(1, 51)
        self.linear = nn.Linear(51, 1)

    def forward(self, x):
        h, c = self.lstm1(x)
        return self.linear(h)


seq = Sequence()
criterion = nn.MSELoss()
optimizer = torch.optim.LBFGS(seq.parameters(), lr=0.8)
inputs, target = torch.randn(97, 1), torch.randn(97, 1)
for i in range(15):
    def closure():
        optimizer.zero_grad()
        loss = criterion(seq(inputs), target)
        loss.backward()
        return loss
    optimizer.step(closure)
    with torch.no_grad():  # EXPECT eval-missing latent: Sequence has no mode-dependent layer
        pred = seq(torch.randn(3, 1))
