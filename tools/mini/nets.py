"""Text encoder (small transformer) + conv UNet denoiser for zimage-mini."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

NEG = -1e4  # additive mask value (finite: no NaN even if a row were fully masked)


# ----------------------------------------------------------------------------- text encoder
class TBlock(nn.Module):
    def __init__(self, d, heads, ff=4):
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, ff * d), nn.GELU(), nn.Linear(ff * d, d))
        self.h = heads

    def forward(self, x, bias):
        B, S, D = x.shape
        q, k, v = self.qkv(self.ln1(x)).reshape(B, S, 3, self.h, D // self.h).permute(2, 0, 3, 1, 4)
        a = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(D // self.h)) + bias
        a = a.softmax(-1)
        x = x + self.proj((a @ v).transpose(1, 2).reshape(B, S, D))
        return x + self.ff(self.ln2(x))


class TextEncoder(nn.Module):
    def __init__(self, vocab, d=128, layers=3, heads=4, max_len=128):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(max_len, d)
        nn.init.normal_(self.emb.weight, std=0.02)
        nn.init.normal_(self.pos.weight, std=0.02)
        self.blocks = nn.ModuleList([TBlock(d, heads) for _ in range(layers)])
        self.ln = nn.LayerNorm(d)

    def forward(self, ids, mask):
        S = ids.shape[1]
        pos = torch.arange(S, device=ids.device)
        x = self.emb(ids) + self.pos(pos)[None]
        bias = (1.0 - mask[:, None, None, :].to(x.dtype)) * NEG
        for b in self.blocks:
            x = b(x, bias)
        return self.ln(x)


class AuxHeads(nn.Module):
    """training-only attribute probes on the text features (attention pooling with learned queries)."""

    def __init__(self, d=128, nq=4):
        super().__init__()
        self.q = nn.Parameter(torch.randn(nq, d) * 0.02)
        self.k = nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(nq * d, 512), nn.GELU())
        self.bg = nn.Linear(512, 13)
        self.cell_color = nn.Linear(512, 9 * 13)
        self.cell_shape = nn.Linear(512, 9 * 6)
        self.obj_color = nn.Linear(512, 12)
        self.obj_shape = nn.Linear(512, 5)

    def forward(self, h, mask):
        B = h.shape[0]
        a = torch.einsum('qd,bsd->bqs', self.q, self.k(h)) / math.sqrt(h.shape[-1])
        a = a + (1.0 - mask[:, None, :].float()) * NEG
        p = torch.einsum('bqs,bsd->bqd', a.softmax(-1), h).reshape(B, -1)
        z = self.mlp(p)
        return {'bg': self.bg(z), 'cell_color': self.cell_color(z).reshape(B, 9, 13),
                'cell_shape': self.cell_shape(z).reshape(B, 9, 6), 'obj_color': self.obj_color(z),
                'obj_shape': self.obj_shape(z)}


# ----------------------------------------------------------------------------- denoiser
def gn(c):
    return nn.GroupNorm(min(16, c // 4), c)


class ResBlock(nn.Module):
    def __init__(self, ci, co, tdim):
        super().__init__()
        self.n1 = gn(ci)
        self.c1 = nn.Conv2d(ci, co, 3, padding=1)
        self.t = nn.Linear(tdim, 2 * co)
        self.n2 = gn(co)
        self.c2 = nn.Conv2d(co, co, 3, padding=1)
        nn.init.zeros_(self.c2.weight); nn.init.zeros_(self.c2.bias)
        self.skip = nn.Conv2d(ci, co, 1) if ci != co else nn.Identity()

    def forward(self, x, temb):
        h = self.c1(F.silu(self.n1(x)))
        s, b = self.t(temb)[:, :, None, None].chunk(2, 1)
        h = self.n2(h) * (1 + s) + b
        h = self.c2(F.silu(h))
        return self.skip(x) + h


class Attn(nn.Module):
    """cross-attention to text tokens (ctx given) or self-attention (ctx None) over the h*w grid."""

    def __init__(self, c, cdim=None, heads=4):
        super().__init__()
        self.n = gn(c)
        self.h = heads
        self.q = nn.Linear(c, c)
        kd = cdim if cdim is not None else c
        self.kv = nn.Linear(kd, 2 * c)
        self.o = nn.Linear(c, c)
        nn.init.zeros_(self.o.weight); nn.init.zeros_(self.o.bias)
        self.cross = cdim is not None

    def forward(self, x, ctx=None, bias=None):
        B, C, H, W = x.shape
        t = self.n(x).flatten(2).transpose(1, 2)  # B, HW, C
        src = ctx if self.cross else t
        q = self.q(t).reshape(B, -1, self.h, C // self.h).transpose(1, 2)
        k, v = self.kv(src).reshape(B, -1, 2, self.h, C // self.h).permute(2, 0, 3, 1, 4)
        a = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(C // self.h))
        if self.cross and bias is not None:
            a = a + bias
        o = (a.softmax(-1) @ v).transpose(1, 2).reshape(B, H * W, C)
        return x + self.o(o).transpose(1, 2).reshape(B, C, H, W)


def timestep_embedding(t, dim=128):
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    a = (t[:, None].float() * 1000.0) * freqs[None]
    return torch.cat([torch.cos(a), torch.sin(a)], 1)


class UNet(nn.Module):
    """hi_blocks / hi_attn: extra ResBlocks and a self-attention at the 16x16 (object-scale) level of the up path,
    after u0b. Both start as the identity (zero-initialised last layers), so they can be added to a trained UNet."""

    def __init__(self, zc=16, ch=(64, 128, 192), tdim=256, cdim=128, hi_blocks=0, hi_attn=False):
        super().__init__()
        c0, c1, c2 = ch
        self.tmlp = nn.Sequential(nn.Linear(128, tdim), nn.SiLU(), nn.Linear(tdim, tdim))
        self.pool = nn.Sequential(nn.Linear(cdim, tdim), nn.SiLU(), nn.Linear(tdim, tdim))
        self.ctx = nn.Sequential(nn.LayerNorm(cdim), nn.Linear(cdim, cdim))
        self.inp = nn.Conv2d(zc + 2, c0, 3, padding=1)
        self.d0 = ResBlock(c0, c0, tdim)
        self.down0 = nn.Conv2d(c0, c0, 3, stride=2, padding=1)
        self.d1a = ResBlock(c0, c1, tdim); self.x1a = Attn(c1, cdim)
        self.d1b = ResBlock(c1, c1, tdim); self.x1b = Attn(c1, cdim)
        self.down1 = nn.Conv2d(c1, c1, 3, stride=2, padding=1)
        self.d2a = ResBlock(c1, c2, tdim); self.s2a = Attn(c2); self.x2a = Attn(c2, cdim)
        self.m1 = ResBlock(c2, c2, tdim); self.ms = Attn(c2); self.mx = Attn(c2, cdim)
        self.m2 = ResBlock(c2, c2, tdim)
        self.u2a = ResBlock(c2 + c2, c2, tdim); self.ux2a = Attn(c2, cdim)
        self.up1 = nn.Conv2d(c2, c1, 3, padding=1)
        self.u1a = ResBlock(c1 + c1, c1, tdim); self.ux1a = Attn(c1, cdim)
        self.u1b = ResBlock(c1 + c1, c1, tdim); self.ux1b = Attn(c1, cdim)
        self.up0 = nn.Conv2d(c1, c0, 3, padding=1)
        self.u0a = ResBlock(c0 + c0, c0, tdim); self.ux0a = Attn(c0, cdim)
        self.u0b = ResBlock(c0, c0, tdim)
        self.hi_attn = Attn(c0) if hi_attn else None
        self.hi = nn.ModuleList([ResBlock(c0, c0, tdim) for _ in range(hi_blocks)])
        self.out_n = gn(c0)
        self.out = nn.Conv2d(c0, zc, 3, padding=1)
        nn.init.zeros_(self.out.weight); nn.init.zeros_(self.out.bias)

    def forward(self, x, t, ctx, mask):
        """x [B,16,h,w] latents, t [B] (1 = clean), ctx [B,S,D], mask [B,S] (1 = real)."""
        B, _, H, W = x.shape
        ys = (torch.arange(H, dtype=torch.float32) + 0.5) / H * 2 - 1
        xs = (torch.arange(W, dtype=torch.float32) + 0.5) / W * 2 - 1
        gy = ys[:, None].expand(H, W)
        gx = xs[None, :].expand(H, W)
        coords = torch.stack([gx, gy], 0)[None].expand(B, 2, H, W)
        m = mask.to(torch.float32)
        pooled = (ctx * m[:, :, None]).sum(1) / m.sum(1, keepdim=True).clamp(min=1.0)
        temb = self.tmlp(timestep_embedding(t)) + self.pool(pooled)
        temb = F.silu(temb)
        c = self.ctx(ctx)
        bias = (1.0 - m[:, None, None, :]) * -1e4
        inp = torch.cat([x, coords], 1)
        extra = self.inp.in_channels - inp.shape[1]
        if extra > 0:  # zero channels the exported first conv takes (export.py: widen_first_conv)
            inp = F.pad(inp, (0, 0, 0, 0, 0, extra))
        h0 = self.inp(inp)
        h0 = self.d0(h0, temb)
        h = self.down0(h0)
        h1a = self.x1a(self.d1a(h, temb), c, bias)
        h1b = self.x1b(self.d1b(h1a, temb), c, bias)
        h = self.down1(h1b)
        h2 = self.x2a(self.s2a(self.d2a(h, temb)), c, bias)
        h = self.m1(h2, temb)
        h = self.mx(self.ms(h), c, bias)
        h = self.m2(h, temb)
        h = self.ux2a(self.u2a(torch.cat([h, h2], 1), temb), c, bias)
        h = self.up1(F.interpolate(h, scale_factor=2.0, mode='nearest'))
        h = self.ux1a(self.u1a(torch.cat([h, h1b], 1), temb), c, bias)
        h = self.ux1b(self.u1b(torch.cat([h, h1a], 1), temb), c, bias)
        h = self.up0(F.interpolate(h, scale_factor=2.0, mode='nearest'))
        h = self.ux0a(self.u0a(torch.cat([h, h0], 1), temb), c, bias)
        h = self.u0b(h, temb)
        if self.hi_attn is not None:
            h = self.hi_attn(h)
        for blk in self.hi:
            h = blk(h, temb)
        return self.out(F.silu(self.out_n(h)))


class Denoiser(nn.Module):
    """ONNX-facing wrapper: hidden_states [B,16,1,h,w] -> unified_results [B,16,1,h,w]."""

    def __init__(self, unet):
        super().__init__()
        self.unet = unet

    def forward(self, hidden_states, timestep, encoder_hidden_states, encoder_attention_mask):
        x = hidden_states[:, :, 0]
        v = self.unet(x, timestep, encoder_hidden_states, encoder_attention_mask)
        return v[:, :, None]
