#!/usr/bin/env python3
"""The throughput benchmark's models and training step in PyTorch, for side-by-side figures with
`./learngene bench throughput`. Same architecture (DeiT-style pre-norm ViT, qkv with bias, CLS token),
same batch, same loss and optimizer (cross-entropy, AdamW), same thread count.

    python3 bench/pytorch/throughput.py [--steps 20] [--threads 2]

Needs PyTorch (Debian: python3-torch; install libopenblas0-pthread too, or it is ~15x slower).
PyTorch 1.13 has no fused scaled_dot_product_attention, so attention is written out."""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, width, heads, mlp_ratio):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(width, eps=1e-6)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width, eps=1e-6)
        self.fc1 = nn.Linear(width, int(width * mlp_ratio))
        self.fc2 = nn.Linear(int(width * mlp_ratio), width)

    def forward(self, x):
        b, n, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        attn = (q @ k.transpose(-2, -1)) * (d // self.heads) ** -0.5
        y = (attn.softmax(-1) @ v).transpose(1, 2).reshape(b, n, d)
        x = x + self.proj(y)
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class ViT(nn.Module):
    def __init__(self, image, patch, channels, width, depth, heads, classes, mlp_ratio=4.0):
        super().__init__()
        self.patch = nn.Conv2d(channels, width, patch, stride=patch)
        tokens = (image // patch) ** 2 + 1
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        self.pos = nn.Parameter(torch.zeros(1, tokens, width))
        self.blocks = nn.ModuleList([Block(width, heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(width, eps=1e-6)
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1) + self.pos
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x)[:, 0])


MODELS = {
    "deit-ti-32": dict(image=32, patch=4, channels=3, width=192, depth=6, heads=3, classes=10, batch=64),
    "vit-cpu": dict(image=28, patch=7, channels=1, width=64, depth=12, heads=2, classes=10, batch=128),
}


def timed(steps, warmup, fn):
    for _ in range(warmup):
        fn()
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    return steps / (time.perf_counter() - start)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    results = []
    for name, cfg in MODELS.items():
        cfg = dict(cfg)
        batch = cfg.pop("batch")
        model = ViT(**cfg)
        x = torch.randn(batch, cfg["channels"], cfg["image"], cfg["image"])
        y = torch.randint(0, cfg["classes"], (batch,))
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)

        def train_step():
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()

        train = timed(args.steps, 2, train_step) * batch
        model.eval()
        with torch.no_grad():
            infer = timed(args.steps, 2, lambda: model(x)) * batch
        results.append(dict(model=name, batch=batch, torch=torch.__version__, train_images_per_sec=train, inference_images_per_sec=infer))
        print(f"| {name} | {batch} | PyTorch {torch.__version__} | train {train:.1f} img/s | inference {infer:.1f} img/s |", flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
