# Pattern: pytorch/pytorch torch/nn/attention/bias.py (BSD-3-Clause) and attention helpers in model code: a plain
# function forwards its caller's dropout_p to scaled_dot_product_attention; the module that calls it ties the
# value to self.training.
# Label: correct.
import torch.nn as nn
import torch.nn.functional as F


def attend(q, k, v, dropout_p=0.0):
    return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)


class SelfAttention(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, q, k, v):
        return attend(q, k, v, dropout_p=self.p if self.training else 0.0)
