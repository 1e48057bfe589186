# Pattern: karpathy/nanoGPT model.py (MIT), CausalSelfAttention.forward: dropout_p tied to self.training.
# Label: correct.
import torch.nn as nn
import torch.nn.functional as F


class CausalSelfAttention(nn.Module):
    def __init__(self, dropout):
        super().__init__()
        self.dropout = dropout

    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=None,
                                              dropout_p=self.dropout if self.training else 0, is_causal=True)
