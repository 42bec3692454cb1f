"""Render training scenes and cache their AE latents (the frozen encoder's mean).

  python cache.py [--n 64000] [--n_ns 2500] [--model ../../models/mini]
The encoder is the committed one (<model>/vae_encoder.onnx, run by onnxruntime: twice as fast as torch here, and
no checkpoint needed).
writes work/latents_<w>x<h>.npz per bucket: z float16 [N,16,h,w] (raw, un-normalised), bg [N], ob [N,3,7],
cov uint8 [N,h,w] (share of each latent cell's 8x8 pixels that differ from the background, 0..255: where the
objects and their edges are, for train.py's object-weighted loss).
Square bucket 16x16 (128 px); non-square buckets (latent w x h) 20x12, 12x20, 20x16, 16x20, 24x12, 12x24.
Training scenes never contain a held-out colour/shape combination. Seeds: bucket index * 1000 + 17.
"""
import argparse
import os
import time

import numpy as np
import onnxruntime as ort

import ae
import data

BUCKETS = [(16, 16), (20, 12), (12, 20), (20, 16), (16, 20), (24, 12), (12, 24)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--n', type=int, default=64000)
    ap.add_argument('--n_ns', type=int, default=2500)
    ap.add_argument('--model', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'models', 'mini'))
    a = ap.parse_args()
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    enc = ort.InferenceSession(os.path.join(a.model, 'vae_encoder.onnx'), so, providers=['CPUExecutionProvider'])
    os.makedirs(ae.WORK, exist_ok=True)
    for bi, (lw, lh) in enumerate(BUCKETS):
        out = os.path.join(ae.WORK, f'latents_{lw}x{lh}.npz')
        if os.path.exists(out):
            continue
        n = a.n if bi == 0 else a.n_ns
        W, H = lw * 8, lh * 8
        rng = np.random.default_rng(bi * 1000 + 17)
        z = np.zeros((n, 16, lh, lw), np.float16)
        cov = np.zeros((n, lh, lw), np.uint8)
        scenes = []
        t0 = time.time()
        for s in range(0, n, 200):
            sc = [data.sample_scene(rng, W, H) for _ in range(min(200, n - s))]
            imgs = np.stack([data.render(q) for q in sc])
            bgc = np.array([data.PALETTE[q['bg']] for q in sc], np.int16)[:, None, None]
            obj = (np.abs(imgs.astype(np.int16) - bgc).max(-1) > 24).astype(np.float32)
            cov[s:s + len(sc)] = np.round(255 * obj.reshape(len(sc), lh, 8, lw, 8).mean((2, 4))).astype(np.uint8)
            x = ae.to_t(imgs).numpy()
            z[s:s + len(sc)] = enc.run(None, {'sample': x})[0].astype(np.float16)
            scenes += sc
            if s % 10000 == 0:
                print(lw, lh, s, '%.0fs' % (time.time() - t0), flush=True)
        bg, ob = data.scene_to_arrays(scenes)
        np.savez(out, z=z, bg=bg, ob=ob, cov=cov, W=W, H=H)
        print('saved', out, '%.0fs' % (time.time() - t0), flush=True)


if __name__ == '__main__':
    main()
