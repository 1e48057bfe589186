# Pattern: pytorch/tutorials beginner_source/transfer_learning_tutorial.py (BSD-3-Clause), train_model():
# per phase `model.train()` or `model.eval()`, then `with torch.set_grad_enabled(phase == 'train')`.
# Label: correct (the model being fine-tuned is not frozen).
import torch
import torch.nn as nn
import torchvision


def train_model(model, criterion, optimizer, dataloaders, num_epochs=25):
    for epoch in range(num_epochs):
        for phase in ['train', 'val']:
            if phase == 'train':
                model.train()
            else:
                model.eval()
            for inputs, labels in dataloaders[phase]:
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == 'train'):
                    outputs = model(inputs)
                    loss = criterion(outputs, labels)
                    if phase == 'train':
                        loss.backward()
                        optimizer.step()
    return model


model_ft = torchvision.models.resnet18(weights=None)
model_ft.fc = nn.Linear(model_ft.fc.in_features, 2)
optimizer_ft = torch.optim.SGD(model_ft.parameters(), lr=0.001, momentum=0.9)
model_ft = train_model(model_ft, nn.CrossEntropyLoss(), optimizer_ft, {'train': [], 'val': []})
