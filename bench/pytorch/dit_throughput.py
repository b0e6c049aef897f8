#!/usr/bin/env python3
"""The DiT training step and one denoising pass in PyTorch, for side-by-side figures with
`./learngene bench throughput --models dit-cpu`. Same network as the project's `dit` family (written
here after facebookresearch/DiT's models.py: patch embedding, sinusoidal timestep MLP, label table with a
null class, adaLN-Zero blocks with tanh-GELU MLPs, adaLN final layer), same batch, loss (MSE to the
v-target at uniformly drawn steps with 10% label dropout), optimizer (AdamW) and thread count.

    python3 bench/pytorch/dit_throughput.py [--steps 20] [--threads 2]

Needs PyTorch (Debian: python3-torch with libopenblas0-pthread)."""
import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from throughput import timed  # the same timing loop as the ViT peer (this script's folder is on sys.path)


def modulate(x, shift, scale):
    return x * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1)


class TimestepEmbedder(nn.Module):
    def __init__(self, width, frequencies=256):
        super().__init__()
        self.frequencies = frequencies
        self.mlp = nn.Sequential(nn.Linear(frequencies, width), nn.SiLU(), nn.Linear(width, width))

    def forward(self, t):
        half = self.frequencies // 2
        freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / half)
        args = t[:, None].float() * freqs[None]
        return self.mlp(torch.cat([torch.cos(args), torch.sin(args)], -1))


class Block(nn.Module):
    def __init__(self, width, heads, mlp_ratio):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.fc1 = nn.Linear(width, int(width * mlp_ratio))
        self.fc2 = nn.Linear(int(width * mlp_ratio), width)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(width, 6 * width))

    def attn(self, x):
        b, n, d = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = ((q @ k.transpose(-2, -1)) * (d // self.heads) ** -0.5).softmax(-1)
        return self.proj((a @ v).transpose(1, 2).reshape(b, n, d))

    def forward(self, x, c):
        s1, sc1, g1, s2, sc2, g2 = self.adaLN_modulation(c).chunk(6, dim=1)
        x = x + g1.unsqueeze(1) * self.attn(modulate(self.norm1(x), s1, sc1))
        h = modulate(self.norm2(x), s2, sc2)
        return x + g2.unsqueeze(1) * self.fc2(F.gelu(self.fc1(h), approximate="tanh"))


class DiT(nn.Module):
    def __init__(self, image=28, patch=4, channels=1, width=128, depth=6, heads=4, classes=10, mlp_ratio=4.0):
        super().__init__()
        self.patch, self.channels, self.grid = patch, channels, image // patch
        self.x_embedder = nn.Conv2d(channels, width, patch, stride=patch)
        self.register_buffer("pos_embed", torch.zeros(1, self.grid ** 2, width))
        self.t_embedder = TimestepEmbedder(width)
        self.y_embedder = nn.Embedding(classes + 1, width)
        self.blocks = nn.ModuleList([Block(width, heads, mlp_ratio) for _ in range(depth)])
        self.final_norm = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.final_linear = nn.Linear(width, patch * patch * channels)
        self.final_modulation = nn.Sequential(nn.SiLU(), nn.Linear(width, 2 * width))

    def forward(self, x, t, y):
        h = self.x_embedder(x).flatten(2).transpose(1, 2) + self.pos_embed
        c = self.t_embedder(t) + self.y_embedder(y)
        for block in self.blocks:
            h = block(h, c)
        shift, scale = self.final_modulation(c).chunk(2, dim=1)
        h = self.final_linear(modulate(self.final_norm(h), shift, scale))
        g, p, ch = self.grid, self.patch, self.channels
        return h.reshape(-1, g, g, p, p, ch).permute(0, 5, 1, 3, 2, 4).reshape(-1, ch, g * p, g * p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    batch, classes = args.batch, 10
    model = DiT(classes=classes)
    betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
    alpha_bar = torch.cumprod(1 - betas, 0)
    x0 = torch.randn(batch, 1, 28, 28)
    y = torch.randint(0, classes, (batch,))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0)

    def train_step():
        t = torch.randint(0, 1000, (batch,))
        noise = torch.randn_like(x0)
        a = alpha_bar[t].float().view(-1, 1, 1, 1)
        xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
        labels = torch.where(torch.rand(batch) < 0.1, torch.full_like(y, classes), y)
        target = a.sqrt() * noise - (1 - a).sqrt() * x0
        opt.zero_grad()
        F.mse_loss(model(xt, t, labels), target).backward()
        opt.step()

    model.train()
    train = timed(args.steps, 2, train_step) * batch
    model.eval()
    t = torch.full((batch,), 500)
    with torch.no_grad():
        infer = timed(args.steps, 2, lambda: model(x0, t, y)) * batch
    print(f"| dit-cpu | {batch} | PyTorch {torch.__version__} | train {train:.1f} img/s | one denoising pass {infer:.1f} img/s |", flush=True)
    print(json.dumps([dict(model="dit-cpu", batch=batch, torch=torch.__version__, train_images_per_sec=train, inference_images_per_sec=infer)]))


if __name__ == "__main__":
    main()
