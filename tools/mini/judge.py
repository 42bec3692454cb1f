"""Deterministic judge for single-object images (the TS eval replicates it).

Input: RGB uint8 image (any size; defined for the 256x256 output). Steps:
 1. background RGB = per-channel median of the outer border ring (BORDER=8 px wide, all four sides)
    -> background name = nearest palette colour (Euclidean RGB).
 2. object mask = pixels whose Euclidean RGB distance to the *measured* background RGB > THRESHOLD (80).
    If fewer than MIN_PIXELS (=0.1% of the image, 65 px at 256x256) are in the mask: no object
    (colour/position/shape = null, all wrong).
 3. object colour = per-channel median of the masked pixels -> nearest palette colour, the
    background name excluded from the candidates.
 4. position = centroid (mean x, mean y of masked pixels, pixel centres at x+0.5) mapped to thirds:
    col = min(2, floor(3*cx/W)), row = min(2, floor(3*cy/H)); name = POSITIONS[3*row+col].
 5. shape (informational): bbox of the mask; fill = mask count / bbox area;
    ring if the 5x5 block at the bbox centre has < 30% mask pixels and fill < 0.75;
    else square if fill >= 0.88, circle if fill >= 0.655, triangle if fill >= 0.465, else star.
Medians: numpy median (mean of the two middle values for even counts).
"""
import numpy as np

from data import COLORS, PALETTE, POSITIONS

BORDER = 8
THRESHOLD = 80.0
MIN_FRAC = 0.001
PAL = np.array([PALETTE[c] for c in COLORS], np.float64)


def nearest(rgb, exclude=None):
    d = ((PAL - np.asarray(rgb, np.float64)[None]) ** 2).sum(1)
    if exclude is not None:
        d[COLORS.index(exclude)] = np.inf
    return COLORS[int(np.argmin(d))]


def judge(img):
    img = np.asarray(img)[..., :3].astype(np.float64)
    H, W = img.shape[:2]
    b = BORDER
    ring = np.concatenate([img[:b].reshape(-1, 3), img[-b:].reshape(-1, 3),
                           img[b:-b, :b].reshape(-1, 3), img[b:-b, -b:].reshape(-1, 3)], 0)
    bg_rgb = np.median(ring, 0)
    bg = nearest(bg_rgb)
    dist = np.sqrt(((img - bg_rgb[None, None]) ** 2).sum(-1))
    mask = dist > THRESHOLD
    n = int(mask.sum())
    out = {'background': bg, 'color': None, 'position': None, 'shape': None, 'pixels': n}
    if n < max(1, int(MIN_FRAC * H * W)):
        return out
    out['color'] = nearest(np.median(img[mask], 0), exclude=bg)
    ys, xs = np.nonzero(mask)
    cx, cy = xs.mean() + 0.5, ys.mean() + 0.5
    col = min(2, int(3 * cx / W))
    row = min(2, int(3 * cy / H))
    out['position'] = POSITIONS[3 * row + col]
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    fill = n / float((y1 - y0) * (x1 - x0))
    my, mx = (y0 + y1) // 2, (x0 + x1) // 2
    centre = mask[max(0, my - 2):my + 3, max(0, mx - 2):mx + 3].mean()
    if centre < 0.3 and fill < 0.75:
        shape = 'ring'
    elif fill >= 0.88:
        shape = 'square'
    elif fill >= 0.655:
        shape = 'circle'
    elif fill >= 0.465:
        shape = 'triangle'
    else:
        shape = 'star'
    out['shape'] = shape
    out['fill'] = round(fill, 4)
    return out


def score(items, judged):
    """items: eval dicts (caption, lang, shape, color, background, position, ...); judged: judge() outputs.
    Returns {lang: {bg, color, position, all3, shape, n}} in percent."""
    res = {}
    for lang in sorted(set(i['lang'] for i in items)) + ['all']:
        sel = [(i, j) for i, j in zip(items, judged) if lang == 'all' or i['lang'] == lang]
        if not sel:
            continue
        n = len(sel)
        bg = sum(j['background'] == i['background'] for i, j in sel)
        co = sum(j['color'] == i['color'] for i, j in sel)
        po = sum(j['position'] == i['position'] for i, j in sel)
        a3 = sum(j['background'] == i['background'] and j['color'] == i['color'] and j['position'] == i['position']
                 for i, j in sel)
        sh = sum(j['shape'] == i['shape'] for i, j in sel)
        res[lang] = {'bg': 100 * bg / n, 'color': 100 * co / n, 'position': 100 * po / n, 'all3': 100 * a3 / n,
                     'shape': 100 * sh / n, 'n': n}
    return res


if __name__ == '__main__':
    # self-test on ground-truth renders at 256 px
    import random
    import data
    rng = np.random.default_rng(5)
    items, judged = [], []
    for k in range(600):
        sc = data.sample_scene(rng, n_obj=1, allow_heldout=True)
        o = sc['objects'][0]
        items.append({'lang': 'gt', 'background': sc['bg'], 'color': o['color'], 'position': data.POSITIONS[o['cell']],
                      'shape': o['shape']})
        judged.append(judge(data.render(sc, 2, 4)))
    print(score(items, judged))
    from collections import Counter
    c = Counter((i['shape'], j['shape']) for i, j in zip(items, judged) if i['shape'] != j['shape'])
    print(c.most_common(10))
