# Pattern: udacity/deep-learning-v2-pytorch issue #3 and many tutorial loops: a freshly built model (training
# mode), model.eval() for validation inside the epoch loop, never model.train() again.
# Label: bug (train-outside-loop: no train() at all, a new model starts in training mode).
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 10))
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.003)
for e in range(30):  # EXPECT train-outside-loop bug: from epoch 2 on dropout is off while training
    for images, labels in []:
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        for images, labels in []:
            test_loss = criterion(model(images), labels)
