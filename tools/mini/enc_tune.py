"""Encoder fine-tune for /refine: the VAE encoder learns to invert the frozen decoder on the model's own drafts.

A refine re-encodes the draft (a 256-px PNG, reduced to 128 px for the encoder, as the product does with sharp's
lanczos3) and the decoder draws it again. The encoder was trained on clean renders, and one encode–decode of a draft
rounds the corners of small squares and triangles enough to change what they read as. Here it is trained on pairs it
will meet in a refine:
- drafts: the exported model's own 8-step drafts of training-distribution captions (never the held-out ones), with
  the latent that drew each; loss = the decoded pixels against the draft (weighted on the object) + the latent itself;
- renders: clean scenes, the pixel loss against the 256-px render + an anchor to the old encoder's latent, so
  uploaded pictures keep landing where the denoiser was trained.
The decoder and the denoiser are untouched: the cached training latents stay valid.

  python enc_tune.py drafts --n 2400            # work/enc_drafts.npz from models/mini (or --model DIR)
  python enc_tune.py train --minutes 25         # resumable; work/enc_tune.pt, which ae.load_ae() then uses
"""
import argparse
import os
import random
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

import ae
import data

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = ae.WORK
DRAFTS = os.path.join(WORK, 'enc_drafts.npz')
CKPT = os.path.join(WORK, 'enc_tune.pt')


def reduce(img):
    """a 256-px draft as the product hands it to the encoder: lanczos to 128 px."""
    return np.asarray(Image.fromarray(img).resize((128, 128), Image.LANCZOS))


def make_drafts(n, model_dir, seed=2468):
    from eval_onnx import Engine
    eng = Engine(model_dir)
    rng, r = np.random.default_rng(seed), random.Random(seed)
    caps = [data.caption(data.sample_scene(rng), r)[0] for _ in range(n)]
    hi, lo, zs = [], [], []
    for s in range(0, n, 10):
        x = eng.denoise(caps[s:s + 10], [seed + k for k in range(s, s + 10)], cfg=eng.guidance)
        imgs = eng.decode(x)
        hi.append(imgs); lo.append(np.stack([reduce(i) for i in imgs]))
        zs.append(eng.unscaled(x))
        if s % 400 == 0:
            print('drafts', s, flush=True)
    np.savez(DRAFTS, hi=np.concatenate(hi), lo=np.concatenate(lo), z=np.concatenate(zs).astype(np.float32))


def pixel_loss(out, target):
    """ae.object_loss against whole images, whose top-left corner is the background."""
    return ae.object_loss(out, target, target[:, :, :1, :1])


def train(minutes, bs=8, lr=1e-4, anchor=1.0, latent=0.5, renders=2000):
    torch.set_num_threads(2)
    torch.manual_seed(3)
    model = ae.load_ae(tuned_encoder=False)
    enc, dec = model.enc.train(), model.dec.eval()
    old = ae.load_ae(tuned_encoder=False).enc.eval()
    for p in list(dec.parameters()) + list(old.parameters()):
        p.requires_grad_(False)
    d = np.load(DRAFTS)
    dhi, dlo, dz = d['hi'], d['lo'], torch.from_numpy(d['z'])
    pool_rng = np.random.default_rng(97531)
    pool = [data.render_pair(data.sample_scene(pool_rng, allow_heldout=True)) for _ in range(renders)]
    rlo = np.stack([p[0] for p in pool]); rhi = np.stack([p[1] for p in pool])
    opt = torch.optim.AdamW(enc.parameters(), lr=lr, weight_decay=0.0)
    step, spent = 0, 0.0
    if os.path.exists(CKPT):
        s = torch.load(CKPT, weights_only=False)
        enc.load_state_dict(s['enc']); opt.load_state_dict(s['opt']); step, spent = s['step'], s['seconds']
        print('resumed at step', step, flush=True)
    rng = np.random.default_rng(step + 11)
    t0, last_save, total = time.time(), time.time(), minutes * 60

    def save():
        torch.save({'enc': enc.state_dict(), 'opt': opt.state_dict(), 'step': step,
                    'seconds': spent + time.time() - t0}, CKPT + '.tmp')
        os.replace(CKPT + '.tmp', CKPT)

    sums, n = np.zeros(4), 0
    while spent + time.time() - t0 < total:
        frac = min(1.0, (spent + time.time() - t0) / total)
        for g in opt.param_groups:
            g['lr'] = lr * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * frac)))
        i = rng.integers(0, len(dlo), bs)
        j = rng.integers(0, len(rlo), bs)
        zd = enc(ae.to_t(dlo[i]))
        zr = enc(ae.to_t(rlo[j]))
        with torch.no_grad():
            zr_old = old(ae.to_t(rlo[j]))
        out = dec(torch.cat([zd, zr])).clamp(-1, 1)
        ld = pixel_loss(out[:bs], ae.to_t(dhi[i]))
        lr_ = pixel_loss(out[bs:], ae.to_t(rhi[j]))
        la = F.mse_loss(zr, zr_old)
        lz = F.mse_loss(zd, dz[i])
        loss = ld + lr_ + anchor * la + latent * lz
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        sums += [ld.item(), lr_.item(), la.item(), lz.item()]; n += 1
        if step % 50 == 0:
            print('enc step %d t %.0fs drafts %.4f renders %.4f anchor %.4f latent %.4f' % (
                step, spent + time.time() - t0, *(sums / n)), flush=True)
            sums, n = np.zeros(4), 0
        if time.time() - last_save > 180:
            save(); last_save = time.time()
    save()
    print('done', step, flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('cmd', choices=['drafts', 'train'])
    ap.add_argument('--n', type=int, default=2400)
    ap.add_argument('--model', default=os.path.join(HERE, '..', '..', 'models', 'mini'))
    ap.add_argument('--minutes', type=float, default=25)
    a = ap.parse_args()
    if a.cmd == 'drafts':
        make_drafts(a.n, a.model)
    else:
        train(a.minutes)


if __name__ == '__main__':
    main()
