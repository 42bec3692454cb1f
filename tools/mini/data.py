"""Procedural caption -> image data for zimage-mini.

Everything here is deterministic given a seed (numpy Generator / python random.Random).

Scene  = background colour + 1..3 objects (shape, colour, 3x3 cell, size, exact centre/radius).
Render = PIL drawing at 4x supersampling, box-reduced to the wanted size (128-px content,
         256-px decoder targets of the *same* scene).
Caption= English or Chinese, many phrasings (training templates) + held-out templates,
         clause/word dropout, filler-word noise, caption dropout to "".

CLI:
  python data.py heldout                  # writes tools/mini/heldout.json
  python data.py fresh                    # writes tools/mini/fresh.json (the fresh-phrasing eval set)
  python data.py render --n N --seed S --out work/x.npz [--w 128 --h 128] [--hires]
  python data.py demo                     # prints some captions
"""
import argparse
import json
import math
import os
import random
import sys

import numpy as np
from PIL import Image, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))

# ----------------------------------------------------------------------------- palette
COLORS = ['red', 'orange', 'yellow', 'green', 'cyan', 'blue', 'purple', 'pink', 'white', 'black', 'gray', 'brown']
PALETTE = {
    'red': (220, 30, 30), 'orange': (255, 130, 0), 'yellow': (250, 235, 40), 'green': (30, 160, 50),
    'cyan': (0, 210, 230), 'blue': (30, 60, 220), 'purple': (140, 40, 200), 'pink': (255, 130, 200),
    'white': (250, 250, 250), 'black': (15, 15, 15), 'gray': (128, 128, 128), 'brown': (120, 70, 20),
}
SHAPES = ['circle', 'square', 'triangle', 'star', 'ring']
POSITIONS = ['top left', 'top', 'top right', 'left', 'center', 'right', 'bottom left', 'bottom', 'bottom right']
SIZES = ['small', 'large']

# (colour, shape) pairs never drawn as an object in training.
HELDOUT_COMBOS = [('green', 'triangle'), ('pink', 'star'), ('blue', 'ring'), ('red', 'square'), ('yellow', 'circle'),
                  ('purple', 'triangle'), ('orange', 'ring'), ('cyan', 'star'), ('white', 'square'), ('brown', 'circle')]
HELDOUT_SET = set(HELDOUT_COMBOS)

# judge parameters (shared with judge.py / heldout.json)
JUDGE = {'size': 256, 'border': 8, 'threshold': 80.0,
         'shape_rules': 'see judge.py: ring if centre-hole test; else fill ratio f of bbox: '
                        'f>=0.88 square; 0.66<=f<0.88 circle; 0.47<=f<0.66 triangle; f<0.47 star'}

# ----------------------------------------------------------------------------- scenes
SMALL_R = (8.0, 11.0)     # in 128-px units
LARGE_R = (15.0, 19.0)
JITTER = 5.0


def shape_extent(shape, r):
    """half-extent of the drawn shape (for clamping inside the canvas)."""
    return {'circle': r, 'square': 0.9 * r, 'triangle': 1.25 * r, 'star': 1.3 * r, 'ring': 1.05 * r}[shape]


def sample_scene(rng, W=128, H=128, n_obj=None, allow_heldout=False, force=None):
    """rng: numpy Generator. Returns dict scene. force: dict with optional keys
    bg, objects=[{shape,color,cell,size}] to pin attributes (used for the eval set)."""
    if n_obj is None:
        n_obj = int(rng.choice([1, 2, 3], p=[0.7, 0.2, 0.1]))
    objs = []
    if force and 'objects' in force:
        specs = force['objects']
        n_obj = len(specs)
    else:
        specs = [{} for _ in range(n_obj)]
    cells = list(rng.permutation(9)[:n_obj])
    used_colors = set()
    for i, sp in enumerate(specs):
        while True:
            shape = sp.get('shape', SHAPES[int(rng.integers(5))])
            color = sp.get('color', COLORS[int(rng.integers(12))])
            if not allow_heldout and (color, shape) in HELDOUT_SET:
                continue
            break
        cell = sp.get('cell', int(cells[i]))
        size = sp.get('size', SIZES[int(rng.integers(2))])
        lo, hi = SMALL_R if size == 'small' else LARGE_R
        if n_obj > 1 and size == 'large':
            hi = min(hi, 16.5)
        r = float(rng.uniform(lo, hi))
        cx = (2 * (cell % 3) + 1) / 6 * W + rng.uniform(-JITTER, JITTER)
        cy = (2 * (cell // 3) + 1) / 6 * H + rng.uniform(-JITTER, JITTER)
        e = shape_extent(shape, r) + 3
        cx = float(min(max(cx, e), W - e))
        cy = float(min(max(cy, e), H - e))
        objs.append({'shape': shape, 'color': color, 'cell': cell, 'size': size, 'cx': cx, 'cy': cy, 'r': r})
        used_colors.add(color)
    if force and 'bg' in force:
        bg = force['bg']
    else:
        choices = [c for c in COLORS if c not in used_colors]
        bg = choices[int(rng.integers(len(choices)))]
    return {'W': W, 'H': H, 'bg': bg, 'objects': objs}


def _poly(shape, cx, cy, r):
    if shape == 'triangle':
        R = 1.25 * r
        return [(cx + R * math.cos(math.radians(a)), cy + R * math.sin(math.radians(a))) for a in (-90, 30, 150)]
    if shape == 'star':
        R = 1.3 * r
        pts = []
        for k in range(10):
            rr = R if k % 2 == 0 else 0.5 * R
            a = math.radians(-90 + 36 * k)
            pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
        return pts
    raise ValueError(shape)


def render(scene, scale=1, ss=4):
    """Render at (W*scale, H*scale) with ss x supersampling. Returns uint8 HxWx3."""
    W, H = scene['W'], scene['H']
    k = scale * ss
    img = Image.new('RGB', (W * k, H * k), PALETTE[scene['bg']])
    d = ImageDraw.Draw(img)
    for o in scene['objects']:
        col = PALETTE[o['color']]
        cx, cy, r = o['cx'] * k, o['cy'] * k, o['r'] * k
        s = o['shape']
        if s == 'circle':
            d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=col)
        elif s == 'square':
            h = 0.9 * r
            d.rectangle([cx - h, cy - h, cx + h, cy + h], fill=col)
        elif s == 'ring':
            R = 1.05 * r
            ri = 0.55 * R
            d.ellipse([cx - R, cy - R, cx + R, cy + R], fill=col)
            d.ellipse([cx - ri, cy - ri, cx + ri, cy + ri], fill=PALETTE[scene['bg']])
        else:
            d.polygon(_poly(s, cx, cy, r), fill=col)
    img = img.reduce(ss)
    return np.asarray(img, dtype=np.uint8)


def render_pair(scene):
    """(128-scale image, 256-scale image) of the same scene; the 256 one is reduced from the
    same 4x canvas as... rendered at 2x with 4x supersampling."""
    return render(scene, 1, 4), render(scene, 2, 4)


# ----------------------------------------------------------------------------- words
EN_COLOR = {
    'red': ['red'], 'orange': ['orange'], 'yellow': ['yellow'], 'green': ['green'], 'cyan': ['cyan', 'aqua'],
    'blue': ['blue'], 'purple': ['purple', 'violet'], 'pink': ['pink'], 'white': ['white'], 'black': ['black'],
    'gray': ['gray', 'grey'], 'brown': ['brown'],
}
EN_SHAPE = {
    'circle': ['circle', 'disc', 'disk', 'round shape', 'dot', 'round blob', 'filled circle'],
    'square': ['square', 'box', 'block', 'tile', 'square shape'],
    'triangle': ['triangle', 'triangular shape', 'triangle shape'],
    'star': ['star', 'five-pointed star', 'star shape', 'five pointed star'],
    'ring': ['ring', 'donut', 'doughnut', 'hoop', 'hollow circle', 'circle outline', 'annulus'],
}
EN_POS = [
    ['top left', 'top-left', 'upper left', 'top left corner', 'upper left corner'],
    ['top', 'top center', 'top middle', 'upper middle', 'top edge'],
    ['top right', 'top-right', 'upper right', 'top right corner', 'upper right corner'],
    ['left', 'left side', 'middle left', 'center left', 'left edge'],
    ['center', 'centre', 'middle', 'center of the image', 'very middle'],
    ['right', 'right side', 'middle right', 'center right', 'right edge'],
    ['bottom left', 'bottom-left', 'lower left', 'bottom left corner', 'lower left corner'],
    ['bottom', 'bottom center', 'bottom middle', 'lower middle', 'bottom edge'],
    ['bottom right', 'bottom-right', 'lower right', 'bottom right corner', 'lower right corner'],
]
EN_SIZE = {'small': ['small', 'little', 'tiny', 'smallish'], 'large': ['large', 'big', 'huge', 'giant']}
EN_PREP = ['in the', 'at the', 'on the', 'toward the', 'near the']

ZH_COLOR = {
    'red': ['红色', '红'], 'orange': ['橙色', '橙', '橘色'], 'yellow': ['黄色', '黄'], 'green': ['绿色', '绿'],
    'cyan': ['青色', '青', '天蓝色'], 'blue': ['蓝色', '蓝'], 'purple': ['紫色', '紫'], 'pink': ['粉色', '粉红色', '粉红'],
    'white': ['白色', '白'], 'black': ['黑色', '黑'], 'gray': ['灰色', '灰'], 'brown': ['棕色', '褐色', '咖啡色'],
}
ZH_SHAPE = {
    'circle': ['圆形', '圆', '圆盘', '圆点', '实心圆'],
    'square': ['正方形', '方形', '方块', '四方形'],
    'triangle': ['三角形', '三角'],
    'star': ['星星', '五角星', '星形', '星'],
    'ring': ['圆环', '环', '环形', '空心圆', '甜甜圈'],
}
ZH_POS = [
    ['左上角', '左上方', '左上'],
    ['上方', '上面', '顶部', '正上方'],
    ['右上角', '右上方', '右上'],
    ['左边', '左侧', '左方'],
    ['中间', '中央', '正中间', '中心'],
    ['右边', '右侧', '右方'],
    ['左下角', '左下方', '左下'],
    ['下方', '下面', '底部', '正下方'],
    ['右下角', '右下方', '右下'],
]
ZH_SIZE = {'small': ['小', '小小的', '较小的', '小号'], 'large': ['大', '大大的', '较大的', '巨大的', '大号']}


def _art(word, r):
    a = r.choice(['a', 'a', 'one', 'the', ''])
    if a == 'a' and word[:1] in 'aeiou':
        a = 'an'
    return (a + ' ' if a else '')


def en_obj(o, r, say_size=True, say_color=True, say_shape=True):
    """English noun phrase for an object; attributes may be omitted."""
    size = r.choice(EN_SIZE[o['size']]) if say_size else ''
    col = r.choice(EN_COLOR[o['color']]) if say_color else ''
    shp = r.choice(EN_SHAPE[o['shape']]) if say_shape else r.choice(['shape', 'object', 'thing'])
    forms = ['{s} {c} {h}', '{s} {c} {h}', '{s} {c} {h}', '{c} {s} {h}', '{s} {h} that is {c}', '{s} {h} colored {c}',
             '{s} {h} coloured {c}', '{s} {c}-colored {h}', '{s} {h} in {c}', '{s} {c} colored {h}']
    if not say_color:
        forms = ['{s} {h}']
    f = r.choice(forms)
    np_ = ' '.join(f.format(s=size, c=col, h=shp).split())
    return _art(np_, r) + np_


def en_pos(cell, r, pp=True):
    p = r.choice(EN_POS[cell])
    if not pp:
        return p
    return r.choice(EN_PREP) + ' ' + p


def en_bg(c, r, kind):
    col = r.choice(EN_COLOR[c])
    if kind == 'pp':
        return r.choice(['on a {c} background', 'against a {c} background', 'on a {c} backdrop', 'with a {c} background',
                         'over a {c} background', 'on {c}', 'on a plain {c} background', 'against {c}']).format(c=col)
    if kind == 'np':
        return r.choice(['a {c} background', '{c} background', 'a plain {c} background', 'a {c} backdrop']).format(c=col)
    return col  # bare colour word


def zh_obj(o, r, say_size=True, say_color=True, say_shape=True):
    size = r.choice(ZH_SIZE[o['size']]) if say_size else ''
    col = r.choice(ZH_COLOR[o['color']]) if say_color else ''
    shp = r.choice(ZH_SHAPE[o['shape']]) if say_shape else r.choice(['形状', '物体', '图形', '东西'])
    one = r.choice(['一个', '一个', '一', '个', ''])
    if size:
        forms = ['{o}{s}{c}{h}', '{o}{s}{c}的{h}', '{o}{s}{c}{h}', '{o}{c}的{s}{h}', '{o}{s}的{c}{h}', '{s}{c}{h}']
    else:
        forms = ['{o}{c}{h}', '{o}{c}的{h}', '{c}{h}', '{c}的{h}']
    if not say_color:
        forms = ['{o}{s}{h}']
    return r.choice(forms).format(o=one, s=size, c=col, h=shp)


def zh_pos(cell, r):
    return r.choice(ZH_POS[cell])


def zh_bgc(c, r):
    return r.choice(ZH_COLOR[c])


# --- templates. slots: {O}=object NP, {P}=position phrase (EN: with preposition), {p}=bare position,
#     {B}=background prepositional phrase (EN), {Bn}=background NP (EN), {b}=bare background colour.
EN_TEMPLATES = [
    '{O} {P} {B}', '{O} {B} {P}', '{Bn}, {O} {P}', '{P_cap}, {O} {B}', 'there is {O} {P} {B}',
    '{O} {P}. the background is {b}', 'draw {O} {P} {B}', 'an image of {O} {P} {B}', 'a picture with {Bn} and {O} {P}',
    '{b} background with {O} {P}', '{O}, {p}, {b} background', '{p}: {O} on {b}', 'show me {O} {P} {B}',
    'please draw {O} {P}, {B}', 'on a {b} background, {O} {P}', '{O} placed {P} against a {b} backdrop',
    'generate {O} {P} {B}', 'a {b} canvas with {O} {P}', 'the background is {b} and {O} is {P}',
    '{O} {P} over a plain {b} background', 'i want {O} {P} {B}', '{b} background. {O}. {p}.',
    'a photo of {O} {P}, {b} background', '{P_cap} is {O}; the rest is {b}', 'paint {O} {P} {B}',
]
# Freer phrasings (v2): the background's colour word right beside its noun, after it or far from it, and colour +
# picture-noun openings, so the colour word is bound by its neighbour rather than by its place in the sentence.
# They use none of the held-out templates' own words (data._heldout_only_words) so those stay unseen.
EN_FREE_TEMPLATES = [
    '{O} {P}, and color the background {b}', 'set the background to {b} and put {O} {P}',
    '{O} {P} with the background painted {b}', '{O} {P}; background color {b}', '{b} as the background, {O} {P}',
    '{O} {P} on a background of {b}', 'the background {b}, with {O} {P}', 'a {b} picture showing {O} {P}',
    'a {b} image with {O} {P}', '{O} {P}, everything else {b}', 'background colour {b}. {O} {P}',
    '{O} {P} and a background that is {b}', 'with a background colored {b}, draw {O} {P}', '{O} {P}, the backdrop {b}',
    'i want the background {b} and {O} {P}', 'paint the background {b}, then put {O} {P}', '{O} {P} on top of {b}',
    '{O} {P} over {b}',
]
EN_TEMPLATES_V1 = list(EN_TEMPLATES)  # the pool heldout.json's training-phrasing items were drawn from
EN_TEMPLATES = EN_TEMPLATES_V1 + EN_FREE_TEMPLATES
EN_HELDOUT_TEMPLATES = [
    'can you make {O} {P} with the background in {b}',
    '{P_cap} there should be {O}; use {b} for the background',
    'background: {b}; object: {O}; position: {p}',
    'my picture: {O} sitting {P} against {b}',
    'a {b} scene containing {O} {P}',
]
ZH_TEMPLATES = [
    '{Bz}，{p}有{O}', '{p}有{O}，{Bz}', '{O}在{p}，{Bz}', '在{b}背景上，{p}画{O}', '画{O}，位于{p}，{Bz}',
    '{Bz}，{O}位于{p}', '一张{b}背景的图片，{p}是{O}', '{O}，{p}，{b}背景', '请画{O}在{p}，背景是{b}',
    '{p}放着{O}，背景为{b}', '背景{b}，{p}{O}', '我想要{p}有{O}的图，{b}背景', '{b}底色上{p}有{O}',
    '生成一张图：{O}在{p}，{Bz}', '{p}的{O}，{Bz}', '{Bz}。{O}。{p}。', '{Bz}上有{O}，在{p}',
    '画一个{b}背景，{p}放{O}', '{O}位于画面{p}，{Bz}', '在{p}画{O}，{Bz}', '{b}色背景里{p}有{O}',
    '{Bz}，画面的{p}有{O}', '一幅画：{Bz}，{O}在{p}',
]
ZH_FREE_TEMPLATES = [
    '{O}在{p}，背景颜色是{b}', '把背景设为{b}，{p}放{O}', '背景画成{b}，在{p}画{O}', '{p}画{O}，背景要{b}',
    '{b}当背景，{O}在{p}', '{b}的底色，{p}有{O}', '一张{b}的图，{p}有{O}', '{O}位于{p}，外面是{b}',
    '{p}有{O}，图的底色为{b}', '画面是{b}的，{p}有{O}', '给{O}一个{b}的背景，放在{p}', '背景全是{b}，{O}出现在{p}',
    '画面{b}，{p}是{O}', '{O}放在{p}，背景染成{b}',
]
ZH_TEMPLATES_V1 = list(ZH_TEMPLATES)
ZH_TEMPLATES = ZH_TEMPLATES_V1 + ZH_FREE_TEMPLATES
ZH_HELDOUT_TEMPLATES = [
    '帮我做一张图，{O}要放在{p}，背景用{b}',
    '{p}位置是{O}，整个背景都是{b}',
    '以{b}为背景，在{p}绘制{O}',
    '背景：{b}；物体：{O}；位置：{p}',
    '这幅画的{p}有{O}，其余部分为{b}',
]
# the last entry is the frame without a background clause
EN_MULTI = ['{objs} {B}', '{Bn} with {objs}', '{objs}, {b} background', 'draw {objs} {B}', 'there are {objs} {B}',
            '{b} background: {objs}', 'an image of {objs} {B}', '{objs}, and color the background {b}',
            'a {b} picture showing {objs}', '{objs} on a background of {b}', '{objs}']
ZH_MULTI = ['{objs}，{Bz}', '{Bz}，{objs}', '{objs}，{b}背景', '画：{objs}，{Bz}', '{Bz}：{objs}', '{objs}，背景颜色是{b}',
            '一张{b}的图：{objs}', '{objs}']

# Fresh phrasings: an evaluation set apart from heldout.json (fresh.json), written for it and in neither the
# training nor the held-out templates, to catch a model that learnt the eval's phrasings rather than the language.
EN_FRESH_TEMPLATES = [
    'put {O} {P} and give it a {b} backdrop', '{b} everywhere except for {O} {P}',
    'picture this: {O} {P}, and the backdrop is {b}', 'just {O} {P} against a flat {b} color',
    'the canvas is {b}; {O} goes {P}', 'i would like {O} {P}, all over {b}', '{O} {P}. behind it, a {b} background',
    '{O} {P} on a solid {b} field', 'draw me a {b} background and {O} {P}',
    '{P_cap} i see {O}, and the background is all {b}',
]
ZH_FRESH_TEMPLATES = [
    '{b}的背景里，{O}出现在{p}', '画一幅{b}底的画，{O}放在{p}', '{p}那里有{O}，四下全是{b}', '我要一张图：背景{b}，{p}是{O}',
    '整张图的背景为{b}，{O}在{p}的位置', '{O}，放{p}，底色{b}', '在{b}的画面里，{p}有{O}', '{p}出现{O}，背景是一片{b}',
    '背景一片{b}，{O}画在{p}', '来一张{b}背景的图，{O}在{p}',
]


def _zh_bg_clause(c, r):
    b = zh_bgc(c, r)
    return r.choice(['{b}背景', '背景是{b}', '背景为{b}', '{b}的背景', '背景{b}', '底色是{b}', '{b}底色']).format(b=b)


def _zh_punct(s, r):
    """randomise Chinese punctuation: full-width (default), half-width, spaces or none."""
    m = r.random()
    if m < 0.6:
        return s
    if m < 0.75:
        return s.replace('，', ',').replace('。', '.').replace('：', ':').replace('；', ';')
    if m < 0.88:
        return s.replace('，', ' ').replace('。', ' ').replace('：', ' ').replace('；', ' ').strip()
    return s.replace('，', '').replace('。', '').replace('：', '').replace('；', '')


def _en_punct(s, r):
    m = r.random()
    if m < 0.15:
        s = s.replace(',', '').replace('.', '').replace(';', '').replace(':', '')
    elif m < 0.25:
        s = s.capitalize()
    elif m < 0.3:
        s = s.upper()
    if r.random() < 0.15 and not s.endswith('.'):
        s += '.'
    return ' '.join(s.split())


# filler words (noise augmentation) - plain common words, never attribute words
COMMON_EN = """the a an and or but with without of in on at to for from by as is are was be been it its this that these those
there here very really quite some any many few more most much less simple clean nice pretty beautiful cute cool flat minimal
modern style art design graphic icon logo image picture photo drawing painting sketch illustration render scene view
please just only also again now then still maybe kind sort like little bit one two three four five six seven eight nine ten
first second third other another each every all both same different new old good bad best better happy sad fun
make made makes making create created draw drawn drawing paint painted show shown shows put place placed sitting standing
lying floating hanging resting set sits stands lies floats containing contains contain has have having with use used using
can could would should will shall may might must do does did done want wanted need needed try give get got see look looks
object objects thing things item items shape shapes figure figures form symbol symbols sign mark pattern
position positioned located location spot area region part side sides corner corners edge edges middle center centre
background backdrop canvas frame border space field surface color colour colors colours colored coloured tone shade hue
bright dark light pale deep vivid soft bold strong solid plain single lone only alone empty whole entire rest everything
my your our their his her me you we they i he she him them us what which who where when why how not no yes
day night sun moon sky sea water tree flower house car cat dog bird fish apple ball book cup door window road city
quick slow fast high low near far close inside outside above below under over between around behind front back top bottom
left right up down upper lower mid half full part small large big tiny huge giant little medium size sized
""".split()
COMMON_ZH = list("""的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生自会那后能对着事其里所去行过家十用发天如然作方成者日都三小
二无同么经法当起与好看学进种将还分此心前面又定见只主没公从知样东西图片画面颜色形状位置背景物体一张幅请帮做整个部分其余绘制以为放着出现
边侧角中央顶底左右上下里外内旁近远高低明暗亮深浅纯单独全空白色彩简单漂亮可爱干净清楚风格设计图标标志符号插画照片素描渲染场景
天空太阳月亮星云水花树房子车猫狗鸟鱼苹果书门窗路城市我们你们他们这个那个一些很非常真的只是也就还要想需要给让把被
""".replace('\n', ''))


def _attr_words():
    s = set()
    for d in (EN_COLOR, EN_SHAPE, EN_SIZE):
        for v in d.values():
            for w in v:
                s.update(w.replace('-', ' ').split())
    for v in EN_POS:
        for w in v:
            s.update(w.replace('-', ' ').split())
    s.update(['background', 'backdrop', 'circle', 'round', 'corner', 'side', 'edge', 'middle', 'center', 'centre',
              'size', 'sized', 'medium', 'colored', 'coloured', 'color', 'colour', 'shape', 'object', 'objects',
              'shapes', 'left', 'right', 'top', 'bottom', 'upper', 'lower', 'up', 'down', 'mid', 'above', 'below',
              'under', 'over', 'between', 'behind', 'front', 'back', 'near', 'far', 'inside', 'outside', 'rest',
              'everything', 'half', 'full', 'sun', 'moon', 'sky', 'sea', 'water', 'tree', 'flower', 'apple',
              'ball', 'night', 'day', 'dark', 'light', 'pale', 'deep', 'bright', 'canvas', 'border', 'frame',
              'tone', 'shade', 'hue', 'colors', 'colours', 'one', 'two', 'three', 'four', 'five', 'six', 'seven',
              'eight', 'nine', 'ten', 'single', 'lone', 'alone', 'empty', 'plain', 'position', 'positioned',
              'located', 'location', 'spot', 'area', 'region', 'side', 'sides', 'corners', 'edges', 'high', 'low',
              'figure', 'figures', 'form', 'symbol', 'symbols', 'sign', 'mark', 'pattern', 'field', 'surface',
              'thing', 'things', 'item', 'items', 'little', 'sized', 'whole', 'entire'])
    return s


_SLOTS = ['{O}', '{P}', '{p}', '{B}', '{Bn}', '{b}', '{P_cap}', '{Bz}']


def _fixed_text(template, gap):
    """a template's own words, its slots replaced by `gap`."""
    for k in _SLOTS:
        template = template.replace(k, gap)
    return template


def _heldout_only_words():
    def words(ts):
        out = set()
        for t in ts:
            out.update(_fixed_text(t, ' ').replace(':', ' ').replace(';', ' ').replace(',', ' ').replace('.', ' ').split())
        return out
    return words(EN_HELDOUT_TEMPLATES) - words(EN_TEMPLATES + EN_MULTI)


def _heldout_only_chars():
    def chars(ts):
        return set().union(*(_fixed_text(t, '') for t in ts))
    return chars(ZH_HELDOUT_TEMPLATES) - chars(ZH_TEMPLATES + ZH_MULTI)


_ATTR = _attr_words()
FILLER_EN = sorted(set(w for w in COMMON_EN if w not in _ATTR) - _heldout_only_words())
_ZH_ATTR = set(''.join(''.join(v) for v in ZH_COLOR.values()) + ''.join(''.join(v) for v in ZH_SHAPE.values())
               + ''.join(''.join(v) for v in ZH_POS) + ''.join(''.join(v) for v in ZH_SIZE.values())
               + '背景底色边侧角中央顶左右上下方面间心大小形状颜色位置物体图东西空白色彩天空太阳月亮星云水花树')
FILLER_ZH = sorted(set(c for c in COMMON_ZH if c not in _ZH_ATTR) - _heldout_only_chars())


def _filler(s, r, lang):
    if lang == 'en':
        ws = s.split(' ')
        for _ in range(r.choice([1, 1, 2])):
            ws.insert(r.randrange(len(ws) + 1), r.choice(FILLER_EN))
        return ' '.join(ws)
    cs = list(s)
    for _ in range(r.choice([1, 1, 2])):
        cs.insert(r.randrange(len(cs) + 1), r.choice(FILLER_ZH))
    return ''.join(cs)


def _protected_en():
    out = set()
    for d in (EN_COLOR, EN_SHAPE, EN_SIZE):
        for v in d.values():
            for w in v:
                out.update(w.replace('-', ' ').split())
    for v in EN_POS:
        for w in v:
            out.update(w.replace('-', ' ').split())
    return out


_PROTECTED_EN = _protected_en()
_PROTECTED_ZH = set(''.join(''.join(v) for d in (ZH_COLOR, ZH_SHAPE, ZH_SIZE) for v in d.values())
                    + ''.join(''.join(v) for v in ZH_POS))


def _replace_words(s, r, lang):
    """swap one or two of the caption's frame words (never a colour, shape, size or position word) for a filler
    word: the frame words of an unseen phrasing ("a grey scene containing ...") are tokens the text encoder never
    trained on, and this teaches it to read the attributes from their neighbours and order even then."""
    if lang == 'en':
        ws = s.split(' ')
        slots = [k for k, w in enumerate(ws) if w.strip('.,;:!?').lower() not in _PROTECTED_EN and w.strip('.,;:!?')]
        for k in r.sample(slots, min(len(slots), r.choice([1, 1, 2]))):
            ws[k] = r.choice(FILLER_EN)
        return ' '.join(ws)
    cs = list(s)
    slots = [k for k, c in enumerate(cs) if c not in _PROTECTED_ZH and c not in '，。：；,.:; ']
    for k in r.sample(slots, min(len(slots), r.choice([1, 1, 2]))):
        cs[k] = r.choice(FILLER_ZH)
    return ''.join(cs)


IGNORE = -100


def caption(scene, r, lang=None, heldout_templates=False, augment=True, template=None):
    """Returns (text, labels). r: random.Random.
    labels (for auxiliary text heads): bg 0..11 or 12 (=not stated);
    cell_color[9] / cell_shape[9]: 12 / 5 = empty, IGNORE = unknown; obj_color / obj_shape for single objects."""
    lang = lang or r.choice(['en', 'zh'])
    objs = scene['objects']
    n = len(objs)
    lab = {'bg': 12, 'cell_color': [IGNORE] * 9, 'cell_shape': [IGNORE] * 9, 'obj_color': IGNORE, 'obj_shape': IGNORE}
    if augment and r.random() < 0.1:
        return '', lab
    say_bg = not (augment and r.random() < 0.15)
    if n == 1:
        o = objs[0]
        say_pos = not (augment and r.random() < 0.15)
        say_size = not (augment and r.random() < 0.4)
        say_color = not (augment and r.random() < 0.05)
        say_shape = not (augment and r.random() < 0.05)
        if lang == 'en':
            O = en_obj(o, r, say_size, say_color, say_shape)
        else:
            O = zh_obj(o, r, say_size, say_color, say_shape)
        text = _fill_single(lang, r, O, o['cell'] if say_pos else None, scene['bg'] if say_bg else None,
                            heldout_templates, template)
        if say_color:
            lab['obj_color'] = COLORS.index(o['color'])
        if say_shape:
            lab['obj_shape'] = SHAPES.index(o['shape'])
        if say_pos:
            lab['cell_color'] = [12] * 9
            lab['cell_shape'] = [5] * 9
            lab['cell_color'][o['cell']] = COLORS.index(o['color']) if say_color else IGNORE
            lab['cell_shape'][o['cell']] = SHAPES.index(o['shape']) if say_shape else IGNORE
    else:
        parts = []
        lab['cell_color'] = [12] * 9
        lab['cell_shape'] = [5] * 9
        order = list(range(n))
        r.shuffle(order)
        for i in order:
            o = objs[i]
            ss = not (augment and r.random() < 0.5)
            if lang == 'en':
                O = en_obj(o, r, ss)
                parts.append(r.choice(['{O} {P}', '{O} {P}', '{P} {O}']).format(O=O, P=en_pos(o['cell'], r)))
            else:
                O = zh_obj(o, r, ss)
                parts.append(r.choice(['{p}有{O}', '{O}在{p}', '{p}是{O}', '{p}{O}']).format(O=O, p=zh_pos(o['cell'], r)))
            lab['cell_color'][o['cell']] = COLORS.index(o['color'])
            lab['cell_shape'][o['cell']] = SHAPES.index(o['shape'])
        if lang == 'en':
            objs_s = ', '.join(parts[:-1]) + r.choice([' and ', ', and ', ', ']) + parts[-1]
        else:
            objs_s = r.choice(['，', '，', '、', '；']).join(parts[:-1]) + r.choice(['，', '，还有', '和', '；']) + parts[-1]
        if say_bg:
            t = r.choice(EN_MULTI[:-1] if lang == 'en' else ZH_MULTI[:-1])
        else:
            t = '{objs}'
        if lang == 'en':
            text = t.format(objs=objs_s, B=en_bg(scene['bg'], r, 'pp'), Bn=en_bg(scene['bg'], r, 'np'),
                            b=en_bg(scene['bg'], r, 'bare'))
            text = _en_punct(text, r) if augment else text
        else:
            text = t.format(objs=objs_s, Bz=_zh_bg_clause(scene['bg'], r), b=zh_bgc(scene['bg'], r))
            text = _zh_punct(text, r) if augment else text
    if say_bg:
        lab['bg'] = COLORS.index(scene['bg'])
    if augment and r.random() < 0.15:
        text = _filler(text, r, lang)
    if augment and text and r.random() < 0.15:
        text = _replace_words(text, r, lang)
    return text, lab


def _fill_single(lang, r, O, cell, bg, heldout, template=None):
    if lang == 'en':
        pool = EN_HELDOUT_TEMPLATES if heldout else EN_TEMPLATES
        if cell is None or bg is None:
            # clause dropped: use a generic frame that tolerates missing slots
            P = en_pos(cell, r) if cell is not None else ''
            B = en_bg(bg, r, 'pp') if bg is not None else ''
            t = r.choice(['{O} {P} {B}', '{O} {B} {P}', 'draw {O} {P} {B}', 'there is {O} {P} {B}', 'an image of {O} {P} {B}',
                          '{B} {O} {P}', '{P} {O} {B}'])
            s = t.format(O=O, P=P, B=B)
            if bg is not None and r.random() < 0.3:
                s = r.choice(['{b} background, {s}', '{s}, {b} background', '{s}. the background is {b}']).format(
                    s=' '.join(s.split()), b=en_bg(bg, r, 'bare'))
            return _en_punct(' '.join(s.split()), r)
        t = template if template is not None else r.choice(pool)
        P = en_pos(cell, r)
        s = t.format(O=O, P=P, P_cap=P, p=en_pos(cell, r, pp=False), B=en_bg(bg, r, 'pp'), Bn=en_bg(bg, r, 'np'),
                     b=en_bg(bg, r, 'bare'))
        return _en_punct(s, r)
    pool = ZH_HELDOUT_TEMPLATES if heldout else ZH_TEMPLATES
    if cell is None or bg is None:
        p = zh_pos(cell, r) if cell is not None else ''
        Bz = _zh_bg_clause(bg, r) if bg is not None else ''
        if cell is None and bg is None:
            s = r.choice(['{O}', '画{O}', '一张{O}的图', '{O}的图片'])
        elif cell is None:
            s = r.choice(['{Bz}，{O}', '{O}，{Bz}', '在{b}背景上画{O}', '{Bz}上有{O}'])
        else:
            s = r.choice(['{p}有{O}', '{O}在{p}', '在{p}画{O}', '{O}位于{p}'])
        s = s.format(O=O, p=p, Bz=Bz, b=zh_bgc(bg, r) if bg is not None else '')
        return _zh_punct(s, r)
    t = template if template is not None else r.choice(pool)
    s = t.format(O=O, p=zh_pos(cell, r), Bz=_zh_bg_clause(bg, r), b=zh_bgc(bg, r))
    return _zh_punct(s, r)


# ----------------------------------------------------------------------------- eval sets
def make_eval_items(seed, n_per_lang, kind):
    """kind='heldout': a third held-out phrasing, a third held-out combo, a third both.
    kind='train': training phrasings and training combos. Single objects, all attributes stated.
    kind='fresh': the fresh phrasings (EN/ZH_FRESH_TEMPLATES), half with training combos, half with held-out ones.
    The training-phrasing pool is the first version's (EN/ZH_TEMPLATES_V1), so heldout.json stays as it was."""
    r = random.Random(seed)
    rng = np.random.default_rng(seed)
    items = []
    train_combos = [(c, s) for c in COLORS for s in SHAPES if (c, s) not in HELDOUT_SET]
    for lang in ['en', 'zh']:
        for i in range(n_per_lang):
            if kind == 'heldout':
                mode = ['phrasing', 'combo', 'both'][i % 3]
            elif kind == 'fresh':
                mode = ['fresh', 'fresh_combo'][i % 2]
            else:
                mode = 'train'
            if mode in ('combo', 'both', 'fresh_combo'):
                color, shape = HELDOUT_COMBOS[r.randrange(len(HELDOUT_COMBOS))]
            else:
                color, shape = train_combos[r.randrange(len(train_combos))]
            bg = r.choice([c for c in COLORS if c != color])
            cell = r.randrange(9)
            size = r.choice(SIZES)
            o = {'shape': shape, 'color': color, 'cell': cell, 'size': size}
            held_t = mode in ('phrasing', 'both')
            if lang == 'en':
                pool = EN_HELDOUT_TEMPLATES if held_t else EN_FRESH_TEMPLATES if kind == 'fresh' else EN_TEMPLATES_V1
                O = en_obj(o, r, say_size=r.random() < 0.6)
            else:
                pool = ZH_HELDOUT_TEMPLATES if held_t else ZH_FRESH_TEMPLATES if kind == 'fresh' else ZH_TEMPLATES_V1
                O = zh_obj(o, r, say_size=r.random() < 0.6)
            if held_t:
                t = pool[i // 3 % len(pool)]
            elif kind == 'fresh':
                t = pool[i // 2 % len(pool)]
            else:
                t = r.choice(pool)
            text = _fill_single(lang, r, O, cell, bg, held_t, template=t)
            items.append({'caption': text, 'lang': lang, 'shape': shape, 'color': color, 'background': bg,
                          'position': POSITIONS[cell], 'size': size, 'mode': mode})
    return items


def write_fresh(path):
    for lang, fresh, others in (('en', EN_FRESH_TEMPLATES, EN_TEMPLATES + EN_HELDOUT_TEMPLATES + EN_MULTI),
                                ('zh', ZH_FRESH_TEMPLATES, ZH_TEMPLATES + ZH_HELDOUT_TEMPLATES + ZH_MULTI)):
        clash = set(fresh) & set(others)
        if clash:
            raise SystemExit(f'fresh {lang} templates also in training/held-out: {sorted(clash)}')
    data = {
        'description': 'zimage-mini fresh-phrasing eval: templates written for this set alone (data.py EN/ZH_FRESH_TEMPLATES), '
                       'in neither the training nor the held-out templates; mode fresh = training colour-shape combos, '
                       'fresh_combo = held-out combos. Same judge and sampling as heldout.json.',
        'templates': {'en': EN_FRESH_TEMPLATES, 'zh': ZH_FRESH_TEMPLATES},
        'fresh': make_eval_items(2468, 150, 'fresh'),
    }
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(data, f, ensure_ascii=False, indent=1)


def write_heldout(path):
    data = {
        'description': 'zimage-mini evaluation prompts. "heldout": unseen phrasings and/or unseen colour-shape combos '
                       '(mode = phrasing | combo | both). "train_dist": training phrasings and combos, for comparison. '
                       'Judge: see tools/mini/README.md and judge.py.',
        'palette': {k: list(v) for k, v in PALETTE.items()},
        'colors': COLORS, 'shapes': SHAPES, 'positions': POSITIONS,
        'heldout_combos': [list(x) for x in HELDOUT_COMBOS],
        'heldout_templates': {'en': EN_HELDOUT_TEMPLATES, 'zh': ZH_HELDOUT_TEMPLATES},
        'judge': JUDGE,
        'sampling': {'steps': 8, 'cfg': 0, 'seed_rule': 'seed = index in list'},
        'heldout': make_eval_items(1234, 150, 'heldout'),
        'train_dist': make_eval_items(4321, 100, 'train'),
    }
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(data, f, ensure_ascii=False, indent=1)


# ----------------------------------------------------------------------------- rendering datasets
def scene_to_arrays(scenes):
    """compact arrays: bg [N], objs [N,3,7] (shape,color,cell,size,cx,cy,r) with shape=-1 for none."""
    N = len(scenes)
    bg = np.array([COLORS.index(s['bg']) for s in scenes], np.int8)
    ob = np.full((N, 3, 7), -1, np.float32)
    for i, s in enumerate(scenes):
        for j, o in enumerate(s['objects']):
            ob[i, j] = [SHAPES.index(o['shape']), COLORS.index(o['color']), o['cell'], SIZES.index(o['size']),
                        o['cx'], o['cy'], o['r']]
    return bg, ob


def arrays_to_scene(bg, ob, W=128, H=128):
    objs = []
    for row in ob:
        if row[0] < 0:
            continue
        objs.append({'shape': SHAPES[int(row[0])], 'color': COLORS[int(row[1])], 'cell': int(row[2]),
                     'size': SIZES[int(row[3])], 'cx': float(row[4]), 'cy': float(row[5]), 'r': float(row[6])})
    return {'W': W, 'H': H, 'bg': COLORS[int(bg)], 'objects': objs}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('cmd')
    ap.add_argument('--n', type=int, default=1000)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--w', type=int, default=128)
    ap.add_argument('--h', type=int, default=128)
    ap.add_argument('--hires', action='store_true', help='also store 2x renders (decoder targets)')
    ap.add_argument('--out', default='')
    a = ap.parse_args()
    if a.cmd == 'heldout':
        write_heldout(os.path.join(HERE, 'heldout.json'))
        print('wrote heldout.json')
    elif a.cmd == 'fresh':
        write_fresh(os.path.join(HERE, 'fresh.json'))
        print('wrote fresh.json')
    elif a.cmd == 'demo':
        rng = np.random.default_rng(a.seed)
        r = random.Random(a.seed)
        for i in range(a.n):
            sc = sample_scene(rng)
            print(caption(sc, r))
    elif a.cmd == 'render':
        rng = np.random.default_rng(a.seed)
        scenes = [sample_scene(rng, a.w, a.h) for _ in range(a.n)]
        lo = np.zeros((a.n, a.h, a.w, 3), np.uint8)
        hi = np.zeros((a.n, 2 * a.h, 2 * a.w, 3), np.uint8) if a.hires else None
        for i, s in enumerate(scenes):
            if a.hires:
                lo[i], hi[i] = render_pair(s)
            else:
                lo[i] = render(s)
            if i % 5000 == 0:
                print(i, flush=True)
        bg, ob = scene_to_arrays(scenes)
        d = {'lo': lo, 'bg': bg, 'ob': ob, 'W': a.w, 'H': a.h}
        if a.hires:
            d['hi'] = hi
        np.savez(a.out, **d)
        print('saved', a.out)


if __name__ == '__main__':
    main()
