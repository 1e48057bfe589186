import torch.nn as nn
import torch.nn.functional as F


class Attention(nn.Module):
    def __init__(self, p=0.1):
        super().__init__()
        self.p = p

    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v, dropout_p=self.p if self.training else 0.0)


def attend(q, k, v):
    return F.scaled_dot_product_attention(q, k, v, is_causal=True)
