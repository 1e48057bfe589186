# Pattern: phase loops copied from the transfer-learning tutorial with the per-phase model.eval() dropped:
# `with torch.set_grad_enabled(phase == 'train')` evaluates the 'val' phase in training mode.
# Label: bug (eval-missing under set_grad_enabled(<flag>)).
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(10, 10), nn.Dropout(0.5), nn.Linear(10, 2))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
for epoch in range(10):
    model.train()
    for phase in ['train', 'val']:
        for inputs, labels in []:
            optimizer.zero_grad()
            with torch.set_grad_enabled(phase == 'train'):  # EXPECT eval-missing bug: 'val' runs in train mode
                loss = nn.functional.cross_entropy(model(inputs), labels)
                if phase == 'train':
                    loss.backward()
                    optimizer.step()
