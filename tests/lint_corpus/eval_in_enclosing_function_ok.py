# Pattern (false-alarm family "eval() called by the enclosing function"): a predict() that calls model.eval()
# and defines an inner closure doing the no_grad forward (seen in d2l-ai/d2l-en style prediction helpers).
# Label: correct.
import torch
import torch.nn as nn


def predict(model, batches):
    model.eval()

    def one(batch):
        with torch.no_grad():
            return model(batch).argmax(1)

    return [one(b) for b in batches]


def predict_uncalled_inner(model, batches):
    model.eval()

    def one(batch):  # only passed around, never called here: judged with the enclosing function's modes
        with torch.no_grad():
            return model(batch)

    return list(map(one, batches))


net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
predict(net, [])
