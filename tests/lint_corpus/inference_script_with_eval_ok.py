# Pattern: pytorch/examples fast_neural_style/neural_style/neural_style.py stylize() (BSD-3-Clause): build the
# network, load_state_dict(), model.eval() (or .eval() chained), then predict under no_grad.
# Label: correct.
import torch
import torch.nn as nn


class TransformerNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)
        self.norm = nn.InstanceNorm2d(3, affine=True)

    def forward(self, x):
        return self.norm(self.conv(x))


def stylize(content_image):
    with torch.no_grad():
        style_model = TransformerNet()
        style_model.load_state_dict(torch.load("model.pth"))
        style_model.eval()
        return style_model(content_image)


stylize(torch.randn(1, 3, 8, 8))
