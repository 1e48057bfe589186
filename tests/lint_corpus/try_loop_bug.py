# Pattern (blind spot: loops inside `try`): pytorch/examples word_language_model/main.py wraps its epoch loop in
# try/except KeyboardInterrupt; this variant calls model.train() once before the loop.
# Label: bug (train-outside-loop).
import torch
import torch.nn as nn

model = nn.GRU(10, 20, num_layers=2, dropout=0.2)
optimizer = torch.optim.SGD(model.parameters(), lr=20)
model.train()
try:
    for epoch in range(1, 40):  # EXPECT train-outside-loop bug: eval() in the loop, train() only before it
        for x, y in []:
            model.zero_grad()
            out, _ = model(x)
            nn.functional.mse_loss(out, y).backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            val = [model(x) for x, _ in []]
except KeyboardInterrupt:
    print('Exiting from training early')
