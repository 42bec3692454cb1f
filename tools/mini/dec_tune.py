"""Fine-tune the VAE decoder on what the denoiser hands it, so soft predictions come out as crisp shapes.

A sampler's last Euler step lands exactly on the denoiser's clean-latent prediction x0_hat = x_s + s * v at the last
sigma s (0.3 for 8 steps at shift 3): a posterior mean, softer than any encoder latent, and the decoder was trained
only on encoder latents. Here the decoder (encoder frozen, so the latent space and the cached latents stay valid)
learns to map x0_hat back to the sharp render of the same scene:

  data   : training scenes of the latent cache (never a held-out combination), their generated captions, the
           encoder latent noised to sigma in [0.05, 0.5] and denoised in one step by the (frozen) text encoder + UNet;
           a quarter of the batch is the clean encoder latent, so plain VAE decoding stays as it was
  target : the 256-px render of the scene; the loss is ae.py's object-weighted L1 + L2 on 6x6-latent crops that
           hold an object 85 % of the time (the decoder is fully convolutional)

  python dec_tune.py --ckpt work/dn.pt [--n 12000] [--minutes 20]   # resumable: work/ae_dec.pt (read by ae.load_ae)
"""
import argparse
import math
import os
import random
import time

import numpy as np
import torch

import ae
import data
import nets
from train import Tok, latent_norm, WORK

SIGMA_RANGE = (0.05, 0.5)
CLEAN_FRAC = 0.25


def load_denoiser(ckpt, vocab):
    s = torch.load(ckpt, weights_only=False)
    te, unet = nets.TextEncoder(vocab), nets.UNet(**dict(s.get('unet_config') or {}))
    te.load_state_dict(s.get('ema_te', s['te'])); unet.load_state_dict(s.get('ema_unet', s['unet']))
    return te.eval(), unet.eval()


@torch.no_grad()
def predictions(te, unet, tok, z, bg, ob, n, seed, shift, scale, bs=64):
    """x0_hat (raw latent units, float16) for the first n cached scenes, each at its own sigma."""
    rng = np.random.default_rng(seed)
    r = random.Random(seed)
    out = np.zeros((n, 16, z.shape[2], z.shape[3]), np.float16)
    sig_all = rng.uniform(*SIGMA_RANGE, n).astype(np.float32)
    for s in range(0, n, bs):
        k = min(bs, n - s)
        x0 = (torch.from_numpy(z[s:s + k].astype(np.float32)) - shift) * scale
        caps = [data.caption(data.arrays_to_scene(bg[i], ob[i]), r)[0] for i in range(s, s + k)]
        ids, m = tok(caps)
        sig = torch.from_numpy(sig_all[s:s + k])
        xs = sig[:, None, None, None] * torch.randn_like(x0) + (1 - sig[:, None, None, None]) * x0
        v = unet(xs, 1.0 - sig, te(ids, m), m)
        x0h = xs + sig[:, None, None, None] * v
        out[s:s + k] = (x0h / scale + shift).numpy().astype(np.float16)
        if s % (bs * 40) == 0:
            print('predicted', s, flush=True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', default=os.path.join(WORK, 'dn.pt'))
    ap.add_argument('--n', type=int, default=12000)
    ap.add_argument('--minutes', type=float, default=20)
    ap.add_argument('--lr', type=float, default=1.5e-4)
    ap.add_argument('--bs', type=int, default=32)
    ap.add_argument('--threads', type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(3)
    tok = Tok()
    shift, scale = latent_norm()
    d = np.load(os.path.join(WORK, 'latents_16x16.npz'))
    n = min(a.n, len(d['bg']))
    z, bg, ob = d['z'][:n], d['bg'][:n], d['ob'][:n]
    pred_path = os.path.join(WORK, 'dec_tune_x0hat.npy')
    if not os.path.exists(pred_path):
        te, unet = load_denoiser(a.ckpt, tok.t.get_vocab_size())
        np.save(pred_path, predictions(te, unet, tok, z, bg, ob, n, 77, shift, scale))
        del te, unet
    zh = np.load(pred_path)
    model = ae.load_ae()
    dec = model.dec.train()
    opt = torch.optim.AdamW(dec.parameters(), lr=a.lr, weight_decay=0.0)
    ck = os.path.join(WORK, 'ae_dec.pt')
    step, spent = 0, 0.0
    if os.path.exists(ck):
        s = torch.load(ck)
        if 'opt' in s:
            opt.load_state_dict(s['opt']); step = s['step']; spent = s['seconds']
    rng = np.random.default_rng(step + 9)
    lc = 6
    t0, last_save, total = time.time(), time.time(), a.minutes * 60
    while spent + time.time() - t0 < total:
        el = spent + time.time() - t0
        lr = a.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, el / total))))
        for g in opt.param_groups:
            g['lr'] = lr
        idx = rng.integers(0, n, a.bs)
        lat, tgt = [], []
        for i in idx:
            hi = data.render(data.arrays_to_scene(bg[i], ob[i]), 2, 4)
            objs = [row for row in ob[i] if row[0] >= 0]
            if objs and rng.random() < 0.85:
                o = objs[rng.integers(len(objs))]
                cy, cx = int(o[5] // 8), int(o[4] // 8)
                oy = int(np.clip(cy - lc // 2 + rng.integers(-1, 2), 0, 16 - lc))
                ox = int(np.clip(cx - lc // 2 + rng.integers(-1, 2), 0, 16 - lc))
            else:
                oy, ox = (int(v) for v in rng.integers(0, 16 - lc + 1, 2))
            src = z[i] if rng.random() < CLEAN_FRAC else zh[i]
            lat.append(src[:, oy:oy + lc, ox:ox + lc].astype(np.float32))
            tgt.append(hi[16 * oy:16 * (oy + lc), 16 * ox:16 * (ox + lc)])
        zc = torch.from_numpy(np.stack(lat))
        yt = ae.to_t(np.stack(tgt))
        out = dec(zc)
        bgc = ae.to_t(np.stack([np.array(data.PALETTE[data.COLORS[int(bg[i])]], np.uint8)[None, None] for i in idx]))
        loss = ae.object_loss(out, yt, bgc)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if step % 50 == 0:
            print('dec_tune step %d t %.0fs loss %.4f lr %.1e' % (step, el, loss.item(), lr), flush=True)
        if time.time() - last_save > 180:
            torch.save({'dec': dec.state_dict(), 'opt': opt.state_dict(), 'step': step,
                        'seconds': spent + time.time() - t0}, ck + '.tmp')
            os.replace(ck + '.tmp', ck)
            last_save = time.time()
    torch.save({'dec': dec.state_dict(), 'opt': opt.state_dict(), 'step': step, 'seconds': spent + time.time() - t0},
               ck + '.tmp')
    os.replace(ck + '.tmp', ck)
    print('done', step, flush=True)


if __name__ == '__main__':
    main()
