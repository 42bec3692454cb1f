"""Evaluate the exported ONNX model exactly the way the engine samples, and time it.

  python eval_onnx.py [--shift S] [--steps 8] [--cfg 0] [--set heldout|train_dist|both] [--grid] [--timing]
                      [--shifts 1,2,3]  (shift sweep)  [--out work/eval_onnx.json]

Sampling: sigmas s = linspace(1, 1/N, N); sigma = shift*s/(1+(shift-1)*s); append 0; t = 1 - sigma;
Euler x <- x + (sigma_next - sigma) * (-v). Noise for item k (index in the list) =
numpy.random.default_rng(k).standard_normal((16, 1, h, w)) float32. Decode z/scaling + shift -> decoder.
"""
import argparse
import json
import os
import time

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

import judge
from tokenizer_build import pad_ids

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_DIR = os.path.join(HERE, '..', '..', 'models', 'mini')


class Engine:
    def __init__(self, model_dir=MODEL_DIR, threads=2):
        self.man = json.load(open(os.path.join(model_dir, 'model.json'), encoding='utf-8'))
        self.tok = Tokenizer.from_file(os.path.join(model_dir, self.man['tokenizer']['file']))
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        S = lambda k: ort.InferenceSession(os.path.join(model_dir, self.man[k]['file']), so,
                                           providers=['CPUExecutionProvider'])
        self.te, self.tr, self.dec, self.enc = S('textEncoder'), S('transformer'), S('vaeDecoder'), S('vaeEncoder')

    def encode_text(self, prompts):
        t = self.man['tokenizer']
        ids = [self.tok.encode(t['template'].replace('{prompt}', p), add_special_tokens=False).ids[:t['maxLength']]
               for p in prompts]
        a, m = pad_ids(ids)
        h = self.te.run(None, {'input_ids': a, 'attention_mask': m})[0]
        return h, m

    def sigmas(self, n, shift):
        s = np.linspace(1.0, 1.0 / n, n)
        return np.append(shift * s / (1 + (shift - 1) * s), 0.0)

    def denoise(self, prompts, seeds, steps=8, shift=None, cfg=0.0, neg='', lh=16, lw=16):
        shift = self.man['scheduler']['shift'] if shift is None else shift
        ctx, m = self.encode_text(prompts)
        if cfg > 0:
            nctx, nm = self.encode_text([neg] * len(prompts))
        x = np.stack([np.random.default_rng(s).standard_normal((16, 1, lh, lw)).astype(np.float32) for s in seeds])
        sg = self.sigmas(steps, shift)
        for i in range(steps):
            t = np.full((len(prompts),), 1.0 - sg[i], np.float32)
            v = self.tr.run(None, {'hidden_states': x, 'timestep': t, 'encoder_hidden_states': ctx,
                                   'encoder_attention_mask': m})[0]
            if cfg > 0:
                vn = self.tr.run(None, {'hidden_states': x, 'timestep': t, 'encoder_hidden_states': nctx,
                                        'encoder_attention_mask': nm})[0]
                v = v + cfg * (v - vn)
            x = (x + (sg[i + 1] - sg[i]) * (-v)).astype(np.float32)
        return x

    def unscaled(self, x):
        """the denoiser's latents [B,16,1,h,w] as the decoder takes them: [B,16,h,w], z / scaling + shift."""
        lat = self.man['latent']
        return (x[:, :, 0] / lat['scalingFactor'] + lat['shiftFactor']).astype(np.float32)

    def decode(self, x):
        img = self.dec.run(None, {'latent_sample': self.unscaled(x)})[0]
        return ((np.clip(img, -1, 1).transpose(0, 2, 3, 1) + 1) * 127.5).round().astype(np.uint8)

    def generate(self, prompts, seeds, **kw):
        kw.setdefault('cfg', self.guidance)
        return self.decode(self.denoise(prompts, seeds, **kw))

    @property
    def guidance(self):
        """the manifest's default guidance (0 without a defaults block)."""
        return float((self.man.get('defaults') or {}).get('guidance', 0.0))


def evaluate(eng, items, shift=None, steps=8, cfg=0.0, bs=8):
    judged, imgs = [], []
    for s in range(0, len(items), bs):
        ch = items[s:s + bs]
        im = eng.generate([i['caption'] for i in ch], [s + k for k in range(len(ch))], steps=steps, shift=shift, cfg=cfg)
        imgs.append(im)
        judged += [judge.judge(x) for x in im]
    return judge.score(items, judged), np.concatenate(imgs), judged


def timing(eng, reps=10):
    def med(f, reps=reps):
        f()
        ts = []
        for _ in range(reps):
            t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
        return round(1000 * float(np.median(ts)), 1)
    ctx1, m1 = eng.encode_text(['a red circle in the top left on a blue background'])
    ctx4, m4 = eng.encode_text(['a red circle in the top left on a blue background'] * 4)
    x1 = np.random.default_rng(0).standard_normal((1, 16, 1, 16, 16)).astype(np.float32)
    x4 = np.random.default_rng(0).standard_normal((4, 16, 1, 16, 16)).astype(np.float32)
    r = {}
    r['text_encoder_b1_ms'] = med(lambda: eng.encode_text(['a red circle in the top left on a blue background']))
    r['denoiser_step_b1_ms'] = med(lambda: eng.tr.run(None, {'hidden_states': x1, 'timestep': np.array([0.5], np.float32),
                                                            'encoder_hidden_states': ctx1, 'encoder_attention_mask': m1}))
    r['denoiser_step_b4_ms'] = med(lambda: eng.tr.run(None, {'hidden_states': x4, 'timestep': np.full(4, 0.5, np.float32),
                                                            'encoder_hidden_states': ctx4, 'encoder_attention_mask': m4}))
    r['decoder_b1_ms'] = med(lambda: eng.dec.run(None, {'latent_sample': x1[:, :, 0]}))
    r['decoder_b4_ms'] = med(lambda: eng.dec.run(None, {'latent_sample': x4[:, :, 0]}))
    img1 = np.zeros((1, 3, 128, 128), np.float32)
    r['encoder_b1_ms'] = med(lambda: eng.enc.run(None, {'sample': img1}))
    from PIL import Image
    import io

    def e2e(n):
        ims = eng.generate(['a red circle in the top left on a blue background'] * n, list(range(n)), steps=8)
        for im in ims:
            Image.fromarray(im).save(io.BytesIO(), format='PNG')
    r['end_to_end_1_image_8steps_ms'] = med(lambda: e2e(1), reps=5)
    r['end_to_end_4_images_8steps_ms'] = med(lambda: e2e(4), reps=5)
    return r


def diversity(eng, n=24, k=4):
    """same caption, k seeds: how much do the objects move / change size; same seed twice: identical?"""
    hold = json.load(open(os.path.join(HERE, 'heldout.json'), encoding='utf-8'))
    items = hold['heldout'][::300 // n][:n]
    cstd, sstd, pos_same = [], [], 0
    for it in items:
        ims = eng.generate([it['caption']] * k, [1000 + j for j in range(k)])
        js = [judge.judge(im) for im in ims]
        cents, sizes = [], []
        for im, j in zip(ims, js):
            bg = np.median(np.concatenate([im[:8].reshape(-1, 3), im[-8:].reshape(-1, 3)]), 0)
            mk = np.sqrt(((im.astype(float) - bg) ** 2).sum(-1)) > judge.THRESHOLD
            if mk.sum() > 0:
                ys, xs = np.nonzero(mk)
                cents.append((xs.mean(), ys.mean())); sizes.append(np.sqrt(mk.sum()))
        if len(cents) > 1:
            cstd.append(float(np.sqrt(np.array(cents).var(0).sum()))); sstd.append(float(np.std(sizes)))
        pos_same += len(set(j['position'] for j in js)) == 1
    a = eng.generate([items[0]['caption']], [7]); b = eng.generate([items[0]['caption']], [7])
    return {'captions': n, 'seeds_each': k, 'mean_centroid_spread_px': round(float(np.mean(cstd)), 2),
            'mean_sqrt_area_std_px': round(float(np.mean(sstd)), 2), 'same_cell_all_seeds_frac': pos_same / n,
            'same_seed_max_abs_pixel_diff': int(np.abs(a.astype(int) - b.astype(int)).max())}


def make_grid(eng, path):
    """4x4 grid: 8 EN + 8 ZH held-out prompts, captions written as attribute labels (no CJK font here);
    the exact captions go to samples.json next to it."""
    from PIL import Image, ImageDraw, ImageFont
    hold = json.load(open(os.path.join(HERE, 'heldout.json'), encoding='utf-8'))
    items = hold['heldout'][0:150:19][:8] + hold['heldout'][150:300:19][:8]
    ims = eng.generate([i['caption'] for i in items], list(range(100, 116)))
    font = ImageFont.truetype('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', 11)
    T = 200
    tile_h = T + 44
    g = Image.new('RGB', (4 * T, 4 * tile_h), (255, 255, 255))
    d = ImageDraw.Draw(g)
    import textwrap
    for k, (it, im) in enumerate(zip(items, ims)):
        x, y = (k % 4) * T, (k // 4) * tile_h
        g.paste(Image.fromarray(im).resize((T - 4, T - 4), Image.LANCZOS), (x + 2, y + 2))
        if it['lang'] == 'en':
            txt = it['caption']
        else:
            txt = 'ZH: %s %s %s, %s bg, %s' % (it['size'], it['color'], it['shape'], it['background'], it['position'])
        for j, line in enumerate(textwrap.wrap(txt, 34)[:3]):
            d.text((x + 3, y + T + 1 + 13 * j), line, fill=(0, 0, 0), font=font)
    g.save(path, optimize=True)
    with open(os.path.splitext(path)[0] + '.json', 'w', encoding='utf-8') as f:
        json.dump([{'caption': i['caption'], 'lang': i['lang'], 'seed': 100 + k, 'row': k // 4, 'col': k % 4}
                   for k, i in enumerate(items)], f, ensure_ascii=False, indent=1)


def write_node_ref(eng, prompt='一个红色的五角星在右上角，背景是蓝色', h=12, w=20):
    t = eng.man['tokenizer']
    ids = eng.tok.encode(t['template'].replace('{prompt}', prompt), add_special_tokens=False).ids[:t['maxLength']]
    ctx, m = eng.encode_text([prompt])
    noise = np.random.default_rng(3).standard_normal((1, 16, 1, h, w)).astype(np.float32)
    # same sampler as Engine.denoise, but with explicit noise
    sg = eng.sigmas(8, eng.man['scheduler']['shift'])
    x = noise.copy()
    for i in range(8):
        v = eng.tr.run(None, {'hidden_states': x, 'timestep': np.array([1.0 - sg[i]], np.float32),
                              'encoder_hidden_states': ctx, 'encoder_attention_mask': m})[0]
        x = (x + (sg[i + 1] - sg[i]) * (-v)).astype(np.float32)
    img = eng.dec.run(None, {'latent_sample': eng.unscaled(x)})[0]
    enc_in = np.random.default_rng(4).uniform(-1, 1, (1, 3, 8 * h, 8 * w)).astype(np.float32)
    enc_out = eng.enc.run(None, {'sample': enc_in})[0]
    ref = {'prompt': prompt, 'h': h, 'w': w, 'steps': 8, 'shift': eng.man['scheduler']['shift'], 'ids': ids,
           'ctx': ctx.ravel().tolist(), 'noise': noise.ravel().tolist(), 'latent': x.ravel().tolist(),
           'image': img.ravel().tolist(), 'enc_in': enc_in.ravel().tolist(), 'enc_out': enc_out.ravel().tolist()}
    json.dump(ref, open(os.path.join(HERE, 'work', 'node_ref.json'), 'w'))
    print('wrote node_ref.json', img.shape)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--shift', type=float, default=None)
    ap.add_argument('--shifts', default='')
    ap.add_argument('--steps', type=int, default=8)
    ap.add_argument('--cfg', type=float, default=None, help='guidance (default: the manifest\'s defaults.guidance)')
    ap.add_argument('--model', default=MODEL_DIR)
    ap.add_argument('--set', default='both')
    ap.add_argument('--grid', action='store_true')
    ap.add_argument('--diversity', action='store_true')
    ap.add_argument('--timing', action='store_true')
    ap.add_argument('--out', default=os.path.join(HERE, 'work', 'eval_onnx.json'))
    ap.add_argument('--node_ref', action='store_true', help='write work/node_ref.json for node_check.mjs')
    a = ap.parse_args()
    eng = Engine(a.model)
    if a.cfg is None:
        a.cfg = eng.guidance
    if a.node_ref:
        write_node_ref(eng)
        return
    hold = json.load(open(os.path.join(HERE, 'heldout.json'), encoding='utf-8'))
    out = {}
    sets = ['heldout', 'train_dist'] if a.set == 'both' else ([] if a.set == 'none' else [a.set])
    shifts = [float(s) for s in a.shifts.split(',')] if a.shifts else [a.shift]
    for sh in shifts:
        for sname in sets:
            t = time.time()
            res, imgs, judged = evaluate(eng, hold[sname], shift=sh, steps=a.steps, cfg=a.cfg)
            key = f'{sname}_shift{sh if sh is not None else eng.man["scheduler"]["shift"]}_steps{a.steps}_cfg{a.cfg}'
            out[key] = res
            print(key, json.dumps(res), '%.0fs' % (time.time() - t), flush=True)
            modes = sorted(set(i.get('mode', '') for i in hold[sname]))
            if len(modes) > 1:
                bym = {}
                for md in modes:
                    sel = [k for k, i in enumerate(hold[sname]) if i.get('mode') == md]
                    bym[md] = judge.score([hold[sname][k] for k in sel], [judged[k] for k in sel])
                out[key + '_by_mode'] = bym
                print(' by mode', json.dumps({m: {l: {k: round(v, 1) for k, v in r.items()} for l, r in x.items()}
                                             for m, x in bym.items()}))
    if a.timing:
        out['timing'] = timing(eng)
        print(json.dumps(out['timing']))
    if a.diversity:
        out['diversity'] = diversity(eng)
        print(json.dumps(out['diversity']))
    if a.grid:
        make_grid(eng, os.path.join(a.model, 'samples.png'))
    old = json.load(open(a.out)) if os.path.exists(a.out) else {}
    old.update(out)
    json.dump(old, open(a.out, 'w'), indent=1)


if __name__ == '__main__':
    main()
