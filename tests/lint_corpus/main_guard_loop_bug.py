# Pattern (blind spot: loops inside `if __name__ == "__main__":`): script-style training in many tutorial
# repositories (e.g. udacity/deep-learning-v2-pytorch project scripts) with train() once before the loop.
# Label: bug (train-outside-loop).
import torch
import torch.nn as nn

if __name__ == "__main__":
    net = nn.Sequential(nn.Linear(10, 32), nn.Dropout(0.3), nn.Linear(32, 2))
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    net.train()
    for epoch in range(20):  # EXPECT train-outside-loop bug: net.train() only before the loop
        for x, y in []:
            opt.zero_grad()
            nn.functional.cross_entropy(net(x), y).backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            acc = [net(x).argmax(1) for x, _ in []]
