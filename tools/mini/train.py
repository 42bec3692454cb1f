"""Joint training of the text encoder + UNet denoiser on cached AE latents (flow matching, Z-Image conventions).

x_sigma = sigma*noise + (1-sigma)*x0, model timestep t = 1 - sigma, target v = x0 - noise.
Captions are generated on the fly from each cached scene (so every epoch sees new phrasings / dropouts).

  python train.py [--minutes 150] [--bs 64]     # resumable from work/dn.pt (saved every 4 min)
  python train.py --init-from-onnx ../../models/mini [--hi_blocks 2 --hi_attn] ...
        # no work/dn.pt yet: start from the committed export (import_onnx.py), optionally with extra object-scale
        # blocks that start as the identity; the run continues the export's step count and training seconds

--obj_weight L weights the loss of latent cells at and around the objects (cache.py's coverage, dilated by one
cell) by 1 + L: the objects are ~5 % of the cells but all of the shape, so an unweighted loss spends most of its
gradient on flat background.
"""
import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from tokenizers import Tokenizer

import ae
import data
import judge
import nets
from tokenizer_build import pad_ids

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.environ.get('MINI_WORK', os.path.join(HERE, 'work'))
MODEL_DIR = os.path.join(HERE, '..', '..', 'models', 'mini')
TEMPLATE = '<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n'
MAXLEN = 96
BUCKETS = [(16, 16), (20, 12), (12, 20), (20, 16), (16, 20), (24, 12), (12, 24)]


def latent_norm():
    s = json.load(open(os.path.join(WORK, 'ae_stats.json')))
    return s['mean'], 1.0 / s['std']  # shift, scale


class Tok:
    def __init__(self, model_dir=MODEL_DIR):
        self.t = Tokenizer.from_file(os.path.join(model_dir, 'tokenizer.json'))

    def __call__(self, prompts):
        enc = self.t.encode_batch([TEMPLATE.format(prompt=p) for p in prompts], add_special_tokens=False)
        a, m = pad_ids([e.ids[:MAXLEN] for e in enc])
        return torch.from_numpy(a), torch.from_numpy(m)


def sigmas(n, shift):
    s = np.linspace(1.0, 1.0 / n, n)
    sg = shift * s / (1 + (shift - 1) * s)
    return np.append(sg, 0.0)


@torch.no_grad()
def sample(te, unet, tok, prompts, seeds, lh=16, lw=16, steps=8, shift=3.0, cfg=0.0, neg=''):
    """engine-identical Euler sampler; returns normalised latents [B,16,lh,lw]."""
    ids, m = tok(prompts)
    ctx = te(ids, m)
    if cfg > 0:
        nids, nm = tok([neg] * len(prompts))
        nctx = te(nids, nm)
    x = torch.stack([torch.from_numpy(np.random.default_rng(s).standard_normal((16, lh, lw)).astype(np.float32))
                     for s in seeds])
    sg = sigmas(steps, shift)
    for i in range(steps):
        t = torch.full((len(prompts),), 1.0 - sg[i])
        v = unet(x, t, ctx, m)
        if cfg > 0:
            vn = unet(x, t, nctx, nm)
            v = v + cfg * (v - vn)
        x = x + (sg[i + 1] - sg[i]) * (-v)
    return x


@torch.no_grad()
def decode(dec, z, shift, scale):
    out = dec(z / scale + shift).clamp(-1, 1)
    return ((out.permute(0, 2, 3, 1).numpy() + 1) * 127.5).round().astype(np.uint8)


def run_eval(te, unet, dec, tok, items, shift_s=3.0, bs=32, shift=None, scale=None, cfg=0.0):
    judged = []
    imgs_all = []
    for s in range(0, len(items), bs):
        chunk = items[s:s + bs]
        z = sample(te, unet, tok, [i['caption'] for i in chunk], [s + k for k in range(len(chunk))], shift=shift_s,
                   cfg=cfg)
        imgs = decode(dec, z, shift, scale)
        imgs_all.append(imgs)
        judged += [judge.judge(im) for im in imgs]
    return judge.score(items, judged), np.concatenate(imgs_all)


def aux_loss(out, labs):
    l = F.cross_entropy(out['bg'], labs['bg'])
    l = l + F.cross_entropy(out['cell_color'].reshape(-1, 13), labs['cell_color'].reshape(-1), ignore_index=-100)
    l = l + F.cross_entropy(out['cell_shape'].reshape(-1, 6), labs['cell_shape'].reshape(-1), ignore_index=-100)
    oc = labs['obj_color']
    if (oc >= 0).any():
        l = l + F.cross_entropy(out['obj_color'], oc, ignore_index=-100)
    os_ = labs['obj_shape']
    if (os_ >= 0).any():
        l = l + F.cross_entropy(out['obj_shape'], os_, ignore_index=-100)
    return l


def object_weight(cov, lam):
    """[B,h,w] uint8 coverage -> [B,1,h,w] loss weights 1 + lam * (object cells dilated by one cell)."""
    c = (cov.float() / 255.0)[:, None]
    return 1.0 + lam * F.max_pool2d(c, 3, stride=1, padding=1).clamp(max=1.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--minutes', type=float, default=150)
    ap.add_argument('--bs', type=int, default=64)
    ap.add_argument('--lr', type=float, default=4e-4)
    ap.add_argument('--warmup', type=int, default=300, help='steps of this run with a linear LR warm-up')
    ap.add_argument('--eval_every', type=float, default=15, help='minutes')
    ap.add_argument('--eval_cfg', type=float, default=1.0, help='guidance of the in-loop eval (the model\'s default)')
    ap.add_argument('--ns_frac', type=float, default=0.12)
    ap.add_argument('--aux', type=float, default=0.1)
    ap.add_argument('--obj_weight', type=float, default=0.0)
    ap.add_argument('--init-from-onnx', dest='init_from_onnx', default='',
                    help='model directory to start from when there is no work/dn.pt (import_onnx.py)')
    ap.add_argument('--hi_blocks', type=int, default=None, help='UNet: extra 16x16 ResBlocks (new runs / --init)')
    ap.add_argument('--hi_attn', action='store_true', help='UNet: a 16x16 self-attention (new runs / --init)')
    ap.add_argument('--decay', action='store_true',
                    help='cosine-decay the learning rate to 5%% over this run (the final stretch)')
    ap.add_argument('--low_frac', type=float, default=0.0,
                    help='fraction of each batch drawn at sigma ~ U(0, --low_max) instead of the shifted logit-normal')
    ap.add_argument('--low_max', type=float, default=0.6)
    ap.add_argument('--ema', type=float, default=0.999, help='EMA decay (continuing trained weights)')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seed', type=int, default=1000)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    tok = Tok()
    V = tok.t.get_vocab_size()
    ck = os.path.join(WORK, 'dn.pt')
    s = torch.load(ck, weights_only=False) if os.path.exists(ck) else None
    init = None
    if s is not None:
        cfg = s.get('unet_config', {})
    else:
        cfg = {}
        if a.init_from_onnx:
            import import_onnx
            man = import_onnx.manifest(a.init_from_onnx)
            init = {'te': import_onnx.load_text_encoder(a.init_from_onnx, V).state_dict(),
                    'unet': import_onnx.load_unet(a.init_from_onnx).state_dict(),
                    'step': int((man.get('training') or {}).get('steps', 0)),
                    'seconds': float((man.get('training') or {}).get('seconds', 0))}
            cfg = import_onnx.unet_config(man)
        if a.hi_blocks is not None:
            cfg['hi_blocks'] = a.hi_blocks
        if a.hi_attn:
            cfg['hi_attn'] = True
    shift, scale = latent_norm()
    te, unet, heads = nets.TextEncoder(V), nets.UNet(**cfg), nets.AuxHeads()
    params = list(te.parameters()) + list(unet.parameters()) + list(heads.parameters())
    opt = torch.optim.AdamW(params, lr=a.lr, betas=(0.9, 0.99), weight_decay=0.01)
    ema_te, ema_unet = nets.TextEncoder(V), nets.UNet(**cfg)
    aem = ae.load_ae()
    dec = aem.dec.eval()
    step, spent, best, run_step = 0, 0.0, -1.0, 0
    history = []
    runs = []  # each run's command line and starting step, kept in the checkpoint so its history can be repeated
    from_trained = init is not None or (s is not None and s.get('from_trained', False))
    if s is not None:
        te.load_state_dict(s['te']); unet.load_state_dict(s['unet']); heads.load_state_dict(s['heads'])
        ema_te.load_state_dict(s['ema_te']); ema_unet.load_state_dict(s['ema_unet'])
        opt.load_state_dict(s['opt']); step = s['step']; spent = s['seconds']; best = s.get('best', -1.0)
        history = s.get('history', []); run_step = s.get('run_step', step); runs = s.get('runs', [])
        print('resumed at step', step, 'seconds', int(spent), flush=True)
    else:
        if init is not None:
            te.load_state_dict(init['te'])
            missing, unexpected = unet.load_state_dict(init['unet'], strict=False)
            if unexpected or any(not k.startswith(('hi.', 'hi_attn.')) for k in missing):
                raise SystemExit(f'--init-from-onnx: UNet keys differ: {missing} {unexpected}')
            step, spent = init['step'], init['seconds']
            print('initialised from', a.init_from_onnx, 'at step', step, 'new blocks:', len(missing), 'tensors', flush=True)
        ema_te.load_state_dict(te.state_dict()); ema_unet.load_state_dict(unet.state_dict())
    runs.append({'argv': sys.argv[1:], 'from_step': step})
    print('unet config', cfg, flush=True)
    print('params: text %.2fM unet %.2fM heads %.2fM' % tuple(sum(p.numel() for p in m.parameters()) / 1e6
                                                          for m in (te, unet, heads)), flush=True)
    # data
    buckets = []
    for (lw, lh) in BUCKETS:
        p = os.path.join(WORK, f'latents_{lw}x{lh}.npz')
        if os.path.exists(p):
            d = np.load(p)
            buckets.append({'lw': lw, 'lh': lh, 'z': torch.from_numpy(d['z']), 'bg': d['bg'], 'ob': d['ob'],
                            'cov': torch.from_numpy(d['cov']) if 'cov' in d else None,
                            'W': int(d['W']), 'H': int(d['H'])})
    print('buckets', [(b['lw'], b['lh'], len(b['bg'])) for b in buckets], flush=True)
    if a.obj_weight > 0 and any(b['cov'] is None for b in buckets):
        raise SystemExit('--obj_weight needs the coverage maps of cache.py (re-run it)')
    hold = json.load(open(os.path.join(HERE, 'heldout.json'), encoding='utf-8'))
    ev_items = hold["heldout"][0:150:3] + hold["heldout"][150:300:3]  # 100 items, every mode, both languages
    ev_train = hold["train_dist"][0:100:4] + hold["train_dist"][100:200:4]

    def checkpoint(step, seconds, best):
        # written aside and renamed, so a kill mid-save never leaves a broken resume point
        state = {'te': te.state_dict(), 'unet': unet.state_dict(), 'heads': heads.state_dict(),
                 'ema_te': ema_te.state_dict(), 'ema_unet': ema_unet.state_dict(), 'opt': opt.state_dict(),
                 'step': step, 'seconds': seconds, 'best': best, 'history': history, 'run_step': run_step,
                 'unet_config': cfg, 'from_trained': from_trained, 'runs': runs}
        torch.save(state, ck + '.tmp')
        os.replace(ck + '.tmp', ck)

    rng = np.random.default_rng(a.seed + step)
    r = random.Random(a.seed + step)
    torch.manual_seed(a.seed + step)
    t0 = time.time()
    last_save, last_eval = time.time(), time.time()
    last_log = time.time()
    total = a.minutes * 60
    lsum, asum, n = 0.0, 0.0, 0
    while spent + time.time() - t0 < total:
        # ---- batch
        b = buckets[0] if (len(buckets) == 1 or rng.random() > a.ns_frac) else buckets[1 + rng.integers(len(buckets) - 1)]
        idx = rng.integers(0, len(b['bg']), a.bs)
        x0 = (b['z'][idx].float() - shift) * scale
        caps, labs = [], {'bg': [], 'cell_color': [], 'cell_shape': [], 'obj_color': [], 'obj_shape': []}
        for i in idx:
            sc = data.arrays_to_scene(b['bg'][i], b['ob'][i], b['W'], b['H'])
            c, lab = data.caption(sc, r)
            caps.append(c)
            for k in labs:
                labs[k].append(lab[k])
        labs = {k: torch.tensor(v) for k, v in labs.items()}
        ids, mask = tok(caps)
        u = torch.where(torch.rand(a.bs) < 0.8, torch.sigmoid(torch.randn(a.bs)), torch.rand(a.bs))
        sig = 3.0 * u / (1 + 2.0 * u)
        if a.low_frac > 0:
            # the shifted logit-normal puts ~5 % of its samples below sigma 0.3, where a draft's last step and most
            # of a refine's steps run; undertrained there, the denoiser rounds corners off and re-decides shapes
            low = torch.rand(a.bs) < a.low_frac
            sig = torch.where(low, torch.rand(a.bs) * a.low_max, sig)
        noise = torch.randn_like(x0)
        xs = sig[:, None, None, None] * noise + (1 - sig[:, None, None, None]) * x0
        # ---- step
        lr = a.lr * min(1.0, (run_step + 1) / max(1, a.warmup))
        if a.decay:
            p = min(1.0, (time.time() - t0) / max(1.0, total - spent))
            lr = min(lr, a.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * p))))
        for g in opt.param_groups:
            g['lr'] = lr
        ctx = te(ids, mask)
        v = unet(xs, 1.0 - sig, ctx, mask)
        if a.obj_weight > 0:
            w = object_weight(b['cov'][idx], a.obj_weight)
            loss = (((v - (x0 - noise)) ** 2) * w).mean() / w.mean()
        else:
            loss = F.mse_loss(v, x0 - noise)
        al = aux_loss(heads(ctx, mask), labs)
        tot = loss + a.aux * al
        opt.zero_grad(set_to_none=True)
        tot.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        run_step += 1
        # from scratch the EMA warms up; continuing trained weights it starts at them and needs none
        dec_ = a.ema if from_trained else min(a.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for m_, e_ in ((te, ema_te), (unet, ema_unet)):
                for p, q in zip(m_.parameters(), e_.parameters()):
                    q.mul_(dec_).add_(p.detach(), alpha=1 - dec_)
        lsum += loss.item(); asum += al.item(); n += 1
        if step % 25 == 0:
            el = spent + time.time() - t0
            print('step %d  %.0fs  %.2f it/s  loss %.4f  aux %.3f  lr %.1e' % (
                step, el, n / max(1e-6, time.time() - last_log), lsum / n, asum / n, lr), flush=True)
            last_log = time.time()
            lsum, asum, n = 0.0, 0.0, 0
        now = time.time()
        if now - last_save > 240 or now - last_eval > a.eval_every * 60:
            if now - last_eval > a.eval_every * 60:
                ema_te.eval(); ema_unet.eval()
                te0 = time.time()
                res, imgs = run_eval(ema_te, ema_unet, dec, tok, ev_items, shift=shift, scale=scale, cfg=a.eval_cfg)
                res_t, _ = run_eval(ema_te, ema_unet, dec, tok, ev_train, shift=shift, scale=scale, cfg=a.eval_cfg)
                # the held-out all-three and shape, each the mean of the two languages
                score = sum(res[lg]['all3'] + res[lg]['shape'] for lg in ('en', 'zh')) / 4
                rec = {'step': step, 'seconds': int(spent + now - t0), 'heldout': res, 'train_dist': res_t,
                       'score': score}
                history.append(rec)
                print('EVAL', json.dumps(rec), '(%.0fs)' % (time.time() - te0), flush=True)
                from PIL import Image
                g = np.concatenate([np.concatenate(list(imgs[k * 8:(k + 1) * 8]), 1) for k in range(4)], 0)
                Image.fromarray(g).resize((g.shape[1] // 2, g.shape[0] // 2)).save(os.path.join(WORK, 'eval_grid.png'))
                if score > best:
                    best = score
                    torch.save({'te': ema_te.state_dict(), 'unet': ema_unet.state_dict(), 'step': step,
                                'seconds': spent + now - t0, 'eval': rec, 'unet_config': cfg},
                               os.path.join(WORK, 'best.pt'))
                last_eval = time.time()
            checkpoint(step, spent + time.time() - t0, best)
            last_save = time.time()
    checkpoint(step, spent + time.time() - t0, best)
    print('done', step, flush=True)


if __name__ == '__main__':
    main()
