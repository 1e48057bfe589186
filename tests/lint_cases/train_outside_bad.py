import torch


def validate(model, loader):
    model.eval()
    with torch.no_grad():
        return sum(float(model(x).sum()) for x, _ in loader)


def fit(model, opt, train_loader, val_loader, epochs):
    model.train()
    for epoch in range(epochs):  # LINT train-outside-loop
        for x, y in train_loader:
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        validate(model, val_loader)
