# Pattern: wolny/pytorch-3dunet#53 and ipolharvard/ethos-ares#20 (inference without eval()): a prediction
# script builds the model, loads trained weights with load_state_dict() and predicts under inference_mode,
# never calling model.eval(): BatchNorm normalizes with each batch and dropout drops.
# Label: bug (eval-missing).
import torch
import torch.nn as nn


class UNetBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv3d(1, 8, 3, padding=1)
        self.norm = nn.BatchNorm3d(8)

    def forward(self, x):
        return torch.relu(self.norm(self.conv(x)))


def main():
    model = UNetBlock()
    model.load_state_dict(torch.load("best_checkpoint.pytorch", map_location="cpu"))
    with torch.inference_mode():  # EXPECT eval-missing bug: loaded weights, still in training mode
        prediction = model(torch.randn(1, 1, 16, 16, 16))
    return prediction


if __name__ == "__main__":
    main()
