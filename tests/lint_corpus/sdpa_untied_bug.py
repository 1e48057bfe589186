# Pattern: pytorch/pytorch#124464 and karpathy/nanoGPT#240: scaled_dot_product_attention(dropout_p=self.p) has
# no training flag, so attention dropout stays on in eval mode.
# Label: bug (sdpa-dropout-training).
import torch.nn as nn
import torch.nn.functional as F


class Attention(nn.Module):
    def __init__(self, attn_pdrop=0.1):
        super().__init__()
        self.attn_pdrop = attn_pdrop

    def forward(self, q, k, v):
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.attn_pdrop)  # EXPECT sdpa-dropout-training bug: no training flag
        return y
