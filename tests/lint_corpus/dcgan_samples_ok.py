# Pattern: pytorch/examples dcgan/main.py @ 13caa078 (BSD-3-Clause): generator and discriminator trained in
# training mode; fake = netG(noise) inside the training step feeds the discriminator loss.
# Label: correct.
import torch
import torch.nn as nn

netG = nn.Sequential(nn.ConvTranspose2d(100, 64, 4), nn.BatchNorm2d(64), nn.ReLU(), nn.ConvTranspose2d(64, 3, 4))
netD = nn.Sequential(nn.Conv2d(3, 64, 4), nn.LeakyReLU(0.2), nn.Flatten(), nn.LazyLinear(1))
optimizerD = torch.optim.Adam(netD.parameters(), lr=0.0002)
optimizerG = torch.optim.Adam(netG.parameters(), lr=0.0002)
criterion = nn.BCEWithLogitsLoss()
for epoch in range(25):
    for i, (real, _) in enumerate([]):
        netD.zero_grad()
        noise = torch.randn(real.size(0), 100, 1, 1)
        fake = netG(noise)
        errD = criterion(netD(real), torch.ones(real.size(0), 1)) + criterion(netD(fake.detach()),
                                                                              torch.zeros(real.size(0), 1))
        errD.backward()
        optimizerD.step()
        netG.zero_grad()
        errG = criterion(netD(fake), torch.ones(real.size(0), 1))
        errG.backward()
        optimizerG.step()
