import torch
from course_utils.modes import evaluating


def validate(model, loader):
    model.eval()
    with torch.no_grad():
        return [model(x) for x, _ in loader]


def validate2(model, loader):
    with evaluating(model), torch.no_grad():
        return [model(x) for x, _ in loader]


def sgd_update(params, lr):
    with torch.no_grad():  # no model is called here: a manual optimizer step
        for p in params:
            p -= lr * p.grad


def validate3(model, x):
    model.train(False)
    with torch.inference_mode():
        return model(x)
