# Pattern: pytorch/tutorials intermediate_source/seq2seq_translation_tutorial.py (BSD-3-Clause, older versions):
# train() never sets a mode, evaluate() runs the encoder and the attention decoder (with nn.Dropout) under
# torch.no_grad() without eval(), called from evaluateRandomly() after training.
# Label: bug (eval-missing at the evaluateRandomly call: the decoder's dropout is on while translating).
import random

import torch
import torch.nn as nn


class EncoderRNN(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size)

    def forward(self, x, hidden):
        return self.gru(self.embedding(x).view(1, 1, -1), hidden)


class AttnDecoderRNN(nn.Module):
    def __init__(self, hidden_size, output_size, dropout_p=0.1):
        super().__init__()
        self.embedding = nn.Embedding(output_size, hidden_size)
        self.dropout = nn.Dropout(dropout_p)
        self.gru = nn.GRU(hidden_size, hidden_size)
        self.out = nn.Linear(hidden_size, output_size)

    def forward(self, x, hidden):
        output, hidden = self.gru(self.dropout(self.embedding(x).view(1, 1, -1)), hidden)
        return self.out(output[0]).log_softmax(1), hidden


def train(input_tensor, target_tensor, encoder, decoder, encoder_optimizer, decoder_optimizer, criterion):
    encoder_optimizer.zero_grad()
    decoder_optimizer.zero_grad()
    _, hidden = encoder(input_tensor, torch.zeros(1, 1, 256))
    output, _ = decoder(target_tensor, hidden)
    loss = criterion(output, target_tensor)
    loss.backward()
    encoder_optimizer.step()
    decoder_optimizer.step()
    return loss.item()


def trainIters(encoder, decoder, n_iters):
    encoder_optimizer = torch.optim.SGD(encoder.parameters(), lr=0.01)
    decoder_optimizer = torch.optim.SGD(decoder.parameters(), lr=0.01)
    for it in range(1, n_iters + 1):
        train(torch.tensor([1]), torch.tensor([2]), encoder, decoder, encoder_optimizer, decoder_optimizer,
              nn.NLLLoss())


def evaluate(encoder, decoder, sentence):
    with torch.no_grad():
        _, hidden = encoder(sentence, torch.zeros(1, 1, 256))
        output, _ = decoder(torch.tensor([0]), hidden)
        return output.topk(1)


def evaluateRandomly(encoder, decoder, n=10):
    for i in range(n):
        evaluate(encoder, decoder, torch.tensor([random.randrange(10)]))


encoder1 = EncoderRNN(10, 256)
attn_decoder1 = AttnDecoderRNN(256, 10, dropout_p=0.1)
trainIters(encoder1, attn_decoder1, 75000)
evaluateRandomly(encoder1, attn_decoder1)  # EXPECT eval-missing bug: both models still in training mode
