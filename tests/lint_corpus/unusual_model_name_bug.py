# Pattern (blind spot: unusual model names): a model called `clf` (not model/net), train() once before the loop.
# Label: bug (train-outside-loop).
import torch
import torch.nn as nn


class TextCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(1000, 32)
        self.drop = nn.Dropout(0.5)
        self.out = nn.Linear(32, 2)

    def forward(self, x):
        return self.out(self.drop(self.emb(x).mean(1)))


clf = TextCNN()
sgd = torch.optim.SGD(clf.parameters(), lr=0.1)
clf.train()
for epoch in range(10):  # EXPECT train-outside-loop bug: clf.train() only before the loop
    for x, y in []:
        sgd.zero_grad()
        nn.functional.cross_entropy(clf(x), y).backward()
        sgd.step()
    clf.eval()
    with torch.no_grad():
        preds = [clf(x).argmax(1) for x, _ in []]
