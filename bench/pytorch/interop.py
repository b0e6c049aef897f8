#!/usr/bin/env python3
"""A real peer for Learngene's exports: timm's VisionTransformer and facebookresearch/DiT's DiT, written out
here in PyTorch with the same tensor names (timm/models/vision_transformer.py, DiT's models.py), so that

    python3 bench/pytorch/interop.py check EXPORTED.safetensors IO.safetensors

loads a file written by `learngene export --format timm|dit`, runs it on the input stored in IO (written by
the C# side with its own output) and fails when the largest absolute difference exceeds 1e-4, and

    python3 bench/pytorch/interop.py fixtures OUT_DIR

writes state dicts from PyTorch (random weights, a fixed seed) with an input and PyTorch's output, which
`learngene import` must reproduce (the tests keep these files as fixtures, so they run without Python).

Needs only PyTorch (Debian: python3-torch with libopenblas0-pthread); safetensors is read and written here.
PyTorch 1.13 has no fused scaled_dot_product_attention, so attention is written out as timm's fallback does."""
import json
import math
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16,
          "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8}
NAMES = {v: k for k, v in DTYPES.items()}
TOLERANCE = 1e-4


def load(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        raw = bytearray(data[8 + n + begin:8 + n + end])
        dtype = DTYPES[entry["dtype"]]
        flat = torch.frombuffer(raw, dtype=dtype) if raw else torch.zeros(0, dtype=dtype)
        tensors[name] = flat.reshape(entry["shape"]).clone()
    return tensors, meta


def save(path, tensors, meta):
    header, blobs, offset = {}, [], 0
    if meta:
        header["__metadata__"] = meta
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        blob = t.numpy().tobytes()
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


# ---- timm's VisionTransformer (plain: no LayerScale, registers, qk-norm, pre-norm) ----

class Attention(nn.Module):
    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        attn = (q * (c // self.num_heads) ** -0.5) @ k.transpose(-2, -1)
        return self.proj((attn.softmax(-1) @ v).transpose(1, 2).reshape(b, n, c))


class Mlp(nn.Module):
    def __init__(self, dim, hidden, approximate="none"):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)
        self.approximate = approximate

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x), approximate=self.approximate))


class Block(nn.Module):
    def __init__(self, dim, num_heads, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, patch_size, in_chans, dim):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, dim, patch_size, stride=patch_size)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class VisionTransformer(nn.Module):
    def __init__(self, img_size, patch_size, in_chans, num_classes, embed_dim, depth, num_heads, mlp_ratio=4.0,
                 qkv_bias=True, class_token=True, global_pool="token", fc_norm=None):
        super().__init__()
        assert qkv_bias
        self.global_pool = global_pool
        use_fc_norm = global_pool == "avg" if fc_norm is None else fc_norm  # timm's rule
        self.patch_embed = PatchEmbed(patch_size, in_chans, embed_dim)
        tokens = (img_size // patch_size) ** 2 + (1 if class_token else 0)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim)) if class_token else None
        self.pos_embed = nn.Parameter(torch.randn(1, tokens, embed_dim) * .02)
        self.blocks = nn.Sequential(*[Block(embed_dim, num_heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6) if not use_fc_norm else nn.Identity()
        self.fc_norm = nn.LayerNorm(embed_dim, eps=1e-6) if use_fc_norm else nn.Identity()
        self.head = nn.Linear(embed_dim, num_classes)

    def forward(self, x):
        x = self.patch_embed(x)
        if self.cls_token is not None:
            x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1)
        x = self.norm(self.blocks(x + self.pos_embed))
        x = x[:, 0] if self.global_pool == "token" else x.mean(1)
        return self.head(self.fc_norm(x))


# ---- facebookresearch/DiT's DiT ----

def modulate(x, shift, scale):
    return x * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1)


def sincos_2d(dim, grid):
    """MAE's table as DiT builds it: half the width for each grid axis, [sin, cos] of position / 10000^(2i/d)."""
    def one(d, pos):
        omega = 1.0 / 10000 ** (torch.arange(d // 2, dtype=torch.float64) / (d / 2.0))
        out = pos.reshape(-1)[:, None].double() * omega[None]
        return torch.cat([torch.sin(out), torch.cos(out)], 1)
    h, w = torch.meshgrid(torch.arange(grid), torch.arange(grid), indexing="ij")
    return torch.cat([one(dim // 2, w), one(dim // 2, h)], 1).float()


class TimestepEmbedder(nn.Module):
    def __init__(self, hidden, freq=256):
        super().__init__()
        self.freq = freq
        self.mlp = nn.Sequential(nn.Linear(freq, hidden), nn.SiLU(), nn.Linear(hidden, hidden))

    def forward(self, t):
        half = self.freq // 2
        freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / half)
        args = t[:, None].float() * freqs[None]
        return self.mlp(torch.cat([torch.cos(args), torch.sin(args)], -1))


class LabelEmbedder(nn.Module):
    def __init__(self, num_classes, hidden, dropout):
        super().__init__()
        self.embedding_table = nn.Embedding(num_classes + (1 if dropout > 0 else 0), hidden)

    def forward(self, y):
        return self.embedding_table(y)


class DiTBlock(nn.Module):
    def __init__(self, hidden, heads, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(hidden, elementwise_affine=False, eps=1e-6)
        self.attn = Attention(hidden, heads)
        self.norm2 = nn.LayerNorm(hidden, elementwise_affine=False, eps=1e-6)
        self.mlp = Mlp(hidden, int(hidden * mlp_ratio), approximate="tanh")
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(hidden, 6 * hidden))

    def forward(self, x, c):
        s1, sc1, g1, s2, sc2, g2 = self.adaLN_modulation(c).chunk(6, 1)
        x = x + g1.unsqueeze(1) * self.attn(modulate(self.norm1(x), s1, sc1))
        return x + g2.unsqueeze(1) * self.mlp(modulate(self.norm2(x), s2, sc2))


class FinalLayer(nn.Module):
    def __init__(self, hidden, patch, out_channels):
        super().__init__()
        self.norm_final = nn.LayerNorm(hidden, elementwise_affine=False, eps=1e-6)
        self.linear = nn.Linear(hidden, patch * patch * out_channels)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(hidden, 2 * hidden))

    def forward(self, x, c):
        shift, scale = self.adaLN_modulation(c).chunk(2, 1)
        return self.linear(modulate(self.norm_final(x), shift, scale))


class DiT(nn.Module):
    def __init__(self, input_size, patch_size, in_channels, hidden_size, depth, num_heads, mlp_ratio=4.0,
                 class_dropout_prob=0.1, num_classes=1000, learn_sigma=True):
        super().__init__()
        self.out_channels = in_channels * 2 if learn_sigma else in_channels
        self.patch = patch_size
        self.x_embedder = PatchEmbed(patch_size, in_channels, hidden_size)
        self.t_embedder = TimestepEmbedder(hidden_size)
        self.y_embedder = LabelEmbedder(num_classes, hidden_size, class_dropout_prob)
        grid = input_size // patch_size
        self.pos_embed = nn.Parameter(sincos_2d(hidden_size, grid).unsqueeze(0), requires_grad=False)
        self.blocks = nn.ModuleList([DiTBlock(hidden_size, num_heads, mlp_ratio) for _ in range(depth)])
        self.final_layer = FinalLayer(hidden_size, patch_size, self.out_channels)

    def forward(self, x, t, y):
        h = self.x_embedder(x) + self.pos_embed
        c = self.t_embedder(t) + self.y_embedder(y)
        for block in self.blocks:
            h = block(h, c)
        h = self.final_layer(h, c)
        g, p, ch = int(h.shape[1] ** 0.5), self.patch, self.out_channels
        h = h.reshape(h.shape[0], g, g, p, p, ch)
        return torch.einsum("nhwpqc->nchpwq", h).reshape(h.shape[0], ch, g * p, g * p)


def build(meta):
    if "timm_args" in meta:
        return VisionTransformer(**json.loads(meta["timm_args"])), "timm"
    if "dit_args" in meta:
        return DiT(**json.loads(meta["dit_args"])), "dit"
    raise SystemExit("error: the file has neither timm_args nor dit_args metadata (not a Learngene export)")


def run(model, kind, io):
    with torch.no_grad():
        return model(io["input"]) if kind == "timm" else model(io["input"], io["t"], io["y"])


def check(exported, io_path):
    state, meta = load(exported)
    model, kind = build(meta)
    model.load_state_dict(state, strict=True)
    model.eval()
    io, _ = load(io_path)
    diff = (run(model, kind, io) - io["output"]).abs().max().item()
    ok = diff <= TOLERANCE
    print(f"{exported}: {kind}, {sum(t.numel() for t in state.values()):,} values; max |PyTorch - Learngene| = {diff:.2e} "
          f"({'ok' if ok else 'FAILED'}, tolerance {TOLERANCE:g})")
    return 0 if ok else 1


def fixtures(out):
    """State dicts written by PyTorch, with an input and PyTorch's output, for the C# tests."""
    torch.manual_seed(2024)
    cases = {
        "timm-vit-token": (VisionTransformer, dict(img_size=28, patch_size=7, in_chans=1, num_classes=10, embed_dim=32,
                                                   depth=2, num_heads=2, mlp_ratio=4.0, class_token=True, global_pool="token")),
        # timm's default with average pooling: no class token, the final norm after pooling (fc_norm).
        "timm-vit-avg": (VisionTransformer, dict(img_size=28, patch_size=7, in_chans=1, num_classes=10, embed_dim=32,
                                                 depth=2, num_heads=4, mlp_ratio=2.0, class_token=False, global_pool="avg")),
        "dit": (DiT, dict(input_size=16, patch_size=4, in_channels=1, hidden_size=32, depth=2, num_heads=2,
                          mlp_ratio=4.0, class_dropout_prob=0.1, num_classes=3, learn_sigma=True)),
    }
    for name, (cls, args) in cases.items():
        model = cls(**args).eval()
        # Non-trivial values everywhere (timm and DiT zero some tensors at init; a test on zeros proves little).
        with torch.no_grad():
            for p in model.parameters():
                if p.requires_grad:
                    p.copy_(torch.randn_like(p) * 0.2)
        key = "dit_args" if cls is DiT else "timm_args"
        # A peer's file has the constructor's arguments apart; heads are what the shapes cannot tell.
        save(f"{out}/{name}.safetensors", model.state_dict(), {"format": "pt", key: json.dumps(args)})
        io = {"input": torch.rand(3, 1, args.get("img_size", args.get("input_size")), args.get("img_size", args.get("input_size")))}
        if cls is DiT:
            io["input"] = io["input"] * 2 - 1
            io["t"] = torch.tensor([0.0, 417.0, 999.0])
            io["y"] = torch.tensor([0, 2, 3])  # 3 is the null class
        io["output"] = run(model, "dit" if cls is DiT else "timm", io)
        save(f"{out}/{name}.io.safetensors", io, {"torch": torch.__version__})
        print(f"wrote {out}/{name}.safetensors and {name}.io.safetensors")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3]))
    if len(sys.argv) == 3 and sys.argv[1] == "fixtures":
        sys.exit(fixtures(sys.argv[2]))
    print(__doc__)
    sys.exit(2)
