# Pattern: fartashf/vsepp#4 and MILVLG/mcan-vqa#26 ("never switching back to train"): evaluation calls
# model.eval(), and training resumes later (a second training stage, here a fine-tuning phase) without
# model.train().
# Label: bug (train-in-eval).
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(16, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 4))
opt = torch.optim.Adam(model.parameters())


def evaluate(model, data):
    model.eval()
    with torch.no_grad():
        return sum((model(x).argmax(1) == y).sum().item() for x, y in data)


model.train()
for x, y in []:
    opt.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
print("stage 1 accuracy", evaluate(model, []))

finetune_opt = torch.optim.SGD(model.parameters(), lr=1e-3)
for x, y in []:
    finetune_opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)  # EXPECT train-in-eval bug: evaluate() left eval mode on
    loss.backward()
    finetune_opt.step()
