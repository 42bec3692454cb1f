"""Builds models/mini/tokenizer.json (+ tokenizer_config.json): a small WordPiece tokenizer.

normalizer   : BertNormalizer(clean_text, handle_chinese_chars, lowercase)  -> every CJK char is its own word
pre-tokenizer: BertPreTokenizer (whitespace + punctuation split; full-width ，、。：；（） are punctuation)
model        : WordPiece, vocab = every word/char of a large caption sample (all templates, EN+ZH)
               + common English words + common Chinese chars + a-z/0-9 pieces (and ##-continuations)
               so unknown English words degrade into sub-pieces instead of [UNK].
special      : <|endoftext|> (id 0, pad), <|im_start|>, <|im_end|>, [UNK]

Also writes work/parity_sample.json (captions wrapped in the template + python ids) for parity_check.mjs.
"""
import json
import os
import random
import string

import numpy as np
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
from tokenizers import AddedToken

import data

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', '..', 'models', 'mini')
TEMPLATE = '<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n'
SPECIAL = ['<|endoftext|>', '<|im_start|>', '<|im_end|>', '[UNK]']

EXTRA_EN = """user assistant system hello hi hey thanks thank okay ok yes no sure lovely awesome wonderful great amazing
red orange yellow green cyan blue purple pink white black gray grey brown violet aqua teal navy magenta gold silver
beige tan maroon olive lime indigo turquoise crimson scarlet golden colorful multicolored rainbow
circle circles square squares triangle triangles star stars ring rings disc discs disk dot dots box boxes block tile
rectangle oval heart diamond hexagon pentagon cross line lines arrow sphere cube cone donut doughnut hoop annulus
hollow outline filled round rounded pointed point points five-pointed corner corners
small smaller smallest large larger largest big bigger biggest tiny huge giant medium little mini enormous massive
top bottom left right center centre middle upper lower corner side edge above below beside next near far
in on at to of with and or the a an one two three some background backdrop foreground canvas scene image picture
photo drawing painting draw paint render generate create make show display give produce sketch design
please can could would you me my i want like need should must use using used place placed put set sitting located
positioned position located there here is are be being this that it its rest everything else whole entire all
""".split()



def pad_ids(ids):
    """right-pad token id lists to one [B, S] int64 batch + attention mask (1 = real token), as the engine does."""
    S = max(len(i) for i in ids)
    a = np.zeros((len(ids), S), np.int64)
    m = np.zeros((len(ids), S), np.int64)
    for k, i in enumerate(ids):
        a[k, :len(i)] = i
        m[k, :len(i)] = 1
    return a, m

def corpus(n=60000, seed=7):
    rng = np.random.default_rng(seed)
    r = random.Random(seed)
    caps = []
    for i in range(n):
        sc = data.sample_scene(rng, allow_heldout=True)
        caps.append(data.caption(sc, r)[0])
        caps.append(data.caption(sc, r, augment=False)[0])
        if len(sc['objects']) == 1 and i % 3 == 0:
            caps.append(data.caption(sc, r, heldout_templates=True, augment=False)[0])
    return caps


def build():
    caps = corpus()
    pre = pre_tokenizers.BertPreTokenizer()
    norm = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=True, lowercase=True)
    words = set()
    for c in caps + [' '.join(data.COMMON_EN), ' '.join(EXTRA_EN), ''.join(data.COMMON_ZH)]:
        for w, _ in pre.pre_tokenize_str(norm.normalize_str(c)):
            words.add(w)
    for ch in string.ascii_lowercase + string.digits:
        words.add(ch)
    pieces = set('##' + ch for ch in string.ascii_lowercase + string.digits)
    pieces.update(['##s', '##es', '##ed', '##ing', '##ly', '##er', '##est', '##ish', "##'s"])
    words.update(string.punctuation)
    words.update('，、。：；（）！？“”‘’《》【】—…～')
    vocab = {}
    for t in SPECIAL:
        vocab[t] = len(vocab)
    for w in sorted(words) + sorted(pieces):
        if w not in vocab:
            vocab[w] = len(vocab)
    tok = Tokenizer(models.WordPiece(vocab=vocab, unk_token='[UNK]', continuing_subword_prefix='##',
                                     max_input_chars_per_word=100))
    tok.normalizer = norm
    tok.pre_tokenizer = pre
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL])
    os.makedirs(OUT, exist_ok=True)
    tok.save(os.path.join(OUT, 'tokenizer.json'))
    cfg = {
        'tokenizer_class': 'PreTrainedTokenizerFast',
        'model_max_length': 96,
        'pad_token': '<|endoftext|>', 'eos_token': '<|im_end|>', 'bos_token': None, 'unk_token': '[UNK]',
        'do_lower_case': True,
        'chat_template_note': 'engine wraps prompts as <|im_start|>user\\n{prompt}<|im_end|>\\n<|im_start|>assistant\\n',
    }
    with open(os.path.join(OUT, 'tokenizer_config.json'), 'w') as f:
        json.dump(cfg, f, indent=1)
    print('vocab', tok.get_vocab_size())
    # parity sample: fresh captions (different seed) + edge cases
    sample = corpus(2500, seed=99)
    hold = json.load(open(os.path.join(HERE, 'heldout.json'), encoding='utf-8'))
    sample += [it['caption'] for it in hold['heldout'] + hold['train_dist']]
    sample += ['', 'A Red Circle!!', 'zebra-striped unicorns flying (over) the rainbow; really?', '红色圆形，蓝色背景。',
               '（左上角）一个红圆：蓝背景；', 'a, b. c; d: (e)', 'Ünïcödé café naïve', '日本語のテキスト 한국어', '12 stars 3.5',
               '  spaces   everywhere  ', 'tab\tnew\nline', '<|im_end|> injected', 'emoji 🙂 here', '超级无敌大的红色五角星在正中间！！']
    texts = [TEMPLATE.format(prompt=s) for s in sample]
    ids = [e.ids for e in tok.encode_batch(texts, add_special_tokens=False)]
    with open(os.path.join(HERE, 'work', 'parity_sample.json'), 'w', encoding='utf-8') as f:
        json.dump({'texts': texts, 'ids': ids}, f, ensure_ascii=False)
    print('parity sample', len(texts), 'max len', max(len(i) for i in ids),
          'unk rate', sum(i.count(vocab['[UNK]']) for i in ids) / sum(len(i) for i in ids))


if __name__ == '__main__':
    build()
