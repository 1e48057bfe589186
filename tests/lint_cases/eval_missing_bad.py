import torch


def validate(model, loader):
    with torch.no_grad():  # LINT eval-missing
        return [model(x) for x, _ in loader]


@torch.inference_mode()
def predict(net, x):  # LINT eval-missing
    return net(x)
