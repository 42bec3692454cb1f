"""Load a committed zimage-mini export (models/mini/*.onnx) back into the torch modules, so training continues
from what is in the repository rather than from a checkpoint one machine kept.

  python import_onnx.py [--model ../../models/mini]
      writes work/ae.pt (encoder + decoder), work/ae_stats.json (the manifest's latent shift/scale) and
      work/init.pt (text encoder + UNet, for `train.py --init work/init.pt`), after checking each module's torch
      forward against onnxruntime on the same inputs (max abs diff printed; the run fails above 1e-4).

How the weights are matched: the exporter names some initializers after their parameters (`unet.d0.c1.weight`) and
others after the node that reads them (`onnx::MatMul_294`: a Linear weight, transposed; `onnx::Mul_2170`: a GroupNorm
scale, reshaped to [C,1,1]). So the same architecture is exported again here with every parameter set to distinct
random values; each initializer of that export is found among the parameters by value (as is, transposed or
reshaped), and the committed file's initializer of the same name fills that parameter. Every parameter must be
filled exactly once and every other initializer (constants) must equal the fresh export's, or the import stops.
"""
import argparse
import copy
import io
import json
import os

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper

import ae
import nets

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.environ.get('MINI_WORK', os.path.join(HERE, 'work'))
DEFAULT_MODEL = os.path.join(HERE, '..', '..', 'models', 'mini')
OPSET = 17


def _initializers(model):
    out = {}
    for init in model.graph.initializer:
        a = numpy_helper.to_array(init)
        if a.dtype == np.float16:
            a = a.astype(np.float32)
        name = init.name[:-len('__fp16')] if init.name.endswith('__fp16') else init.name
        out[name] = a
    return out


def _fresh_export(module, args, inames, dyn):
    f = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(module, args, f, input_names=inames, dynamic_axes=dyn, opset_version=OPSET, dynamo=False,
                          do_constant_folding=True)
    return onnx.load_from_string(f.getvalue())


def _load_matched(module, args, inames, dyn, path):
    """fills `module`'s parameters from the ONNX file at `path` (see the module docstring); returns the count."""
    g = torch.Generator().manual_seed(12345)
    params = dict(module.named_parameters())
    with torch.no_grad():
        for p in params.values():
            p.copy_(torch.randn(p.shape, generator=g))
    fresh = _initializers(_fresh_export(module, args, inames, dyn))
    shipped = _initializers(onnx.load(path))
    if set(fresh) != set(shipped):
        raise SystemExit(f'{path}: initializer names differ from this architecture\'s export '
                         f'({sorted(set(fresh) ^ set(shipped))[:6]} ...)')
    # index parameters by a value fingerprint under each transform the exporter applies
    index = {}
    for name, p in params.items():
        a = p.detach().numpy()
        forms = [('id', a)]
        if a.ndim == 2:
            forms.append(('T', a.T))
        for kind, v in forms:
            index.setdefault(np.ascontiguousarray(v, np.float32).tobytes(), []).append((name, kind))
    filled = {}
    for iname, fa in fresh.items():
        hits = index.get(np.ascontiguousarray(fa, np.float32).tobytes())
        if hits is None:  # a reshaped parameter (GroupNorm scale/shift as [C,1,1]) or a constant
            flat = fa.reshape(-1)
            hits = [(n, 'reshape') for n, p in params.items()
                    if p.numel() == flat.size and p.numel() > 1 and np.array_equal(p.detach().numpy().reshape(-1), flat)]
        if not hits:
            if not np.array_equal(fa, shipped[iname]):
                raise SystemExit(f'{path}: constant {iname} differs from this architecture\'s')
            continue
        if len(hits) != 1:
            raise SystemExit(f'{path}: initializer {iname} matches {len(hits)} parameters')
        name, kind = hits[0]
        if name in filled:
            raise SystemExit(f'{path}: parameter {name} filled twice')
        v = shipped[iname]
        v = v.T if kind == 'T' else v
        filled[name] = torch.from_numpy(np.ascontiguousarray(v).reshape(params[name].shape).astype(np.float32))
    missing = set(params) - set(filled)
    if missing:
        raise SystemExit(f'{path}: no initializer for {sorted(missing)[:6]}')
    with torch.no_grad():
        for name, v in filled.items():
            params[name].copy_(v)
    return len(filled)


def _session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    return ort.InferenceSession(path, so, providers=['CPUExecutionProvider'])


def manifest(model_dir):
    return json.load(open(os.path.join(model_dir, 'model.json'), encoding='utf-8'))


def unet_config(man):
    """the UNet's constructor arguments recorded in the manifest (absent: the first shipped architecture)."""
    return dict(((man.get('training') or {}).get('arch') or {}).get('unet') or {})


def load_text_encoder(model_dir, vocab):
    te = nets.TextEncoder(vocab)
    ids = torch.tensor([[1, 5, 9, 2, 0], [1, 7, 2, 0, 0]])
    m = (ids > 0).long()
    m[:, 0] = 1
    _load_matched(te, (ids, m), ['input_ids', 'attention_mask'],
                  {'input_ids': {0: 'b', 1: 's'}, 'attention_mask': {0: 'b', 1: 's'}},
                  os.path.join(model_dir, 'text_encoder.onnx'))
    return te.eval()


def load_unet(model_dir):
    """the UNet as trained: the export's widened first convolution (export.widen_first_conv) is narrowed back after
    checking its extra input channels carry zero weights."""
    import export  # noqa: E402  (export imports train, which imports this module's neighbours; keep it lazy)
    unet = nets.UNet(**unet_config(manifest(model_dir)))
    in_ch = unet.inp.in_channels
    export.widen_first_conv(unet)
    den = nets.Denoiser(unet)
    x = torch.randn(2, 16, 1, 16, 16)
    t = torch.tensor([0.3, 0.7])
    ctx = torch.randn(2, 5, unet.ctx[0].normalized_shape[0])
    m = torch.ones(2, 5, dtype=torch.long)
    _load_matched(den, (x, t, ctx, m), ['hidden_states', 'timestep', 'encoder_hidden_states', 'encoder_attention_mask'],
                  {'hidden_states': {0: 'b', 3: 'h', 4: 'w'}, 'timestep': {0: 'b'},
                   'encoder_hidden_states': {0: 'b', 1: 's'}, 'encoder_attention_mask': {0: 'b', 1: 's'}},
                  os.path.join(model_dir, 'transformer.onnx'))
    w = unet.inp.weight
    if w.shape[1] > in_ch:
        if w[:, in_ch:].abs().max().item() != 0.0:
            raise SystemExit('transformer.onnx: the first convolution\'s extra channels have non-zero weights')
        narrow = torch.nn.Conv2d(in_ch, w.shape[0], 3, padding=1)
        with torch.no_grad():
            narrow.weight.copy_(w[:, :in_ch]); narrow.bias.copy_(unet.inp.bias)
        unet.inp = narrow
    return unet.eval()


def load_autoencoder(model_dir):
    m = ae.AE()

    class DecWrap(torch.nn.Module):  # the exported decoder clamps; the clamp has no parameters
        def __init__(self, dec):
            super().__init__()
            self.dec = dec

        def forward(self, z):
            return self.dec(z).clamp(-1.0, 1.0)

    _load_matched(DecWrap(m.dec), (torch.randn(1, 16, 16, 16),), ['latent_sample'],
                  {'latent_sample': {0: 'b', 2: 'h', 3: 'w'}}, os.path.join(model_dir, 'vae_decoder.onnx'))
    _load_matched(m.enc, (torch.rand(1, 3, 128, 128) * 2 - 1,), ['sample'], {'sample': {0: 'b', 2: 'h', 3: 'w'}},
                  os.path.join(model_dir, 'vae_encoder.onnx'))
    return m.eval()


def round_trip(model_dir, te, unet, aem, tok):
    """torch forward vs onnxruntime on the same inputs: max abs diff per component."""
    rep = {}
    rng = np.random.default_rng(0)
    with torch.no_grad():
        ids, m = tok(['a red circle in the top left on a blue background', '白色背景，右下角有一个绿色的星星', ''])
        o = _session(os.path.join(model_dir, 'text_encoder.onnx')).run(
            None, {'input_ids': ids.numpy(), 'attention_mask': m.numpy()})[0]
        ctx = te(ids, m)
        rep['text_encoder'] = float(np.abs((o - ctx.numpy()) * m.numpy()[..., None]).max())
        s = _session(os.path.join(model_dir, 'transformer.onnx'))
        for (h, w) in [(16, 16), (12, 20)]:
            x = rng.standard_normal((3, 16, 1, h, w)).astype(np.float32)
            t = np.array([0.1, 0.5, 0.9], np.float32)
            v = s.run(None, {'hidden_states': x, 'timestep': t, 'encoder_hidden_states': ctx.numpy(),
                             'encoder_attention_mask': m.numpy()})[0]
            vr = nets.Denoiser(unet)(torch.from_numpy(x), torch.from_numpy(t), ctx, m).numpy()
            rep[f'transformer_{h}x{w}'] = float(np.abs(v - vr).max())
        z = rng.standard_normal((2, 16, 16, 16)).astype(np.float32)
        img = _session(os.path.join(model_dir, 'vae_decoder.onnx')).run(None, {'latent_sample': z})[0]
        rep['vae_decoder'] = float(np.abs(img - aem.dec(torch.from_numpy(z)).clamp(-1, 1).numpy()).max())
        im = rng.uniform(-1, 1, (2, 3, 128, 128)).astype(np.float32)
        zl = _session(os.path.join(model_dir, 'vae_encoder.onnx')).run(None, {'sample': im})[0]
        rep['vae_encoder'] = float(np.abs(zl - aem.enc(torch.from_numpy(im)).numpy()).max())
    return rep


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', default=DEFAULT_MODEL)
    ap.add_argument('--tolerance', type=float, default=1e-4)
    a = ap.parse_args()
    torch.set_num_threads(2)
    from train import Tok
    tok = Tok(a.model)
    te = load_text_encoder(a.model, tok.t.get_vocab_size())
    unet = load_unet(a.model)
    aem = load_autoencoder(a.model)
    rep = round_trip(a.model, te, unet, aem, tok)
    print(json.dumps({k: float('%.3g' % v) for k, v in rep.items()}))
    if max(rep.values()) > a.tolerance:
        raise SystemExit(f'round trip off by more than {a.tolerance}')
    os.makedirs(WORK, exist_ok=True)
    for name, part in (('ae_dec.pt', 'decoder'), ('enc_tune.pt', 'encoder')):
        if os.path.exists(os.path.join(WORK, name)):
            raise SystemExit(f'work/{name} would override the imported {part} (ae.load_ae): move it away first')
    man = manifest(a.model)
    torch.save({'model': aem.state_dict(), 'step': 0, 'seconds': 0, 'from_onnx': os.path.abspath(a.model)},
               os.path.join(WORK, 'ae.pt'))
    lat = man['latent']
    json.dump({'mean': lat['shiftFactor'], 'std': 1.0 / lat['scalingFactor'], 'from_onnx': os.path.abspath(a.model)},
              open(os.path.join(WORK, 'ae_stats.json'), 'w'), indent=1)
    tr = man.get('training') or {}
    torch.save({'te': te.state_dict(), 'unet': unet.state_dict(), 'unet_config': unet_config(man),
                'step': int(tr.get('steps', 0)), 'seconds': float(tr.get('seconds', 0))},
               os.path.join(WORK, 'init.pt'))
    print('wrote work/ae.pt, work/ae_stats.json, work/init.pt')


if __name__ == '__main__':
    main()
