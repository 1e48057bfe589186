import torch
from course_utils.modes import evaluating


def fit(model, opt, train_loader, val_loader, epochs):
    for epoch in range(epochs):
        model.train()
        for x, y in train_loader:
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            for x, _ in val_loader:
                model(x)


def fit_with_evaluating(model, opt, train_loader, val_loader, epochs):
    model.train()
    for epoch in range(epochs):
        for x, y in train_loader:
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        with evaluating(model), torch.no_grad():
            for x, _ in val_loader:
                model(x)


def score_checkpoints(model, checkpoints, x):
    model.train()
    for state in checkpoints:  # no training in this loop: evaluating several checkpoints is fine
        model.load_state_dict(state)
        model.eval()
        with torch.no_grad():
            model(x)
