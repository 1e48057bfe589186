# Pattern (blind spot: eval() on a different model): an encoder/decoder pair trained together; before sampling
# only the encoder is put in eval mode, the decoder (with dropout) still runs in training mode.
# Label: bug (eval-missing naming the decoder).
import torch
import torch.nn as nn

encoder = nn.Sequential(nn.Linear(10, 4), nn.Dropout(0.1))
decoder = nn.Sequential(nn.Linear(4, 10), nn.Dropout(0.1))
opt = torch.optim.Adam(list(encoder.parameters()) + list(decoder.parameters()))
for step in range(100):
    x = torch.randn(8, 10)
    loss = nn.functional.mse_loss(decoder(encoder(x)), x)
    opt.zero_grad()
    loss.backward()
    opt.step()
encoder.eval()
with torch.no_grad():  # EXPECT eval-missing bug: decoder was never put in eval mode
    recon = decoder(encoder(torch.randn(3, 10)))
