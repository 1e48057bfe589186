# Pattern: pytorch/tutorials beginner_source/transfer_learning_tutorial.py (BSD-3-Clause), "ConvNet as fixed
# feature extractor": every parameter of a pretrained ResNet frozen, a new fc trained by the same train_model(),
# which calls model.train() in the train phase, so the frozen BatchNorm layers keep updating their statistics.
# Label: bug (frozen-bn-train).
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
                    loss = criterion(model(inputs), labels)
                    if phase == 'train':
                        loss.backward()
                        optimizer.step()
    return model


model_conv = torchvision.models.resnet18(weights='IMAGENET1K_V1')
for param in model_conv.parameters():
    param.requires_grad = False  # EXPECT frozen-bn-train bug: BN of the frozen ResNet updates in train phase
model_conv.fc = nn.Linear(model_conv.fc.in_features, 2)
model_conv = model_conv.to('cpu')
optimizer_conv = torch.optim.SGD(model_conv.fc.parameters(), lr=0.001, momentum=0.9)
model_conv = train_model(model_conv, nn.CrossEntropyLoss(), optimizer_conv, {'train': [], 'val': []})
