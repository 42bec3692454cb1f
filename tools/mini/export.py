"""Export zimage-mini to ONNX (opset 17, single files) + model.json, and verify with onnxruntime.

  python export.py [--ckpt work/best.pt] [--fp16]
Writes models/mini/{text_encoder,transformer,vae_decoder,vae_encoder}.onnx and model.json.
--fp16 stores large initializers as float16 with a Cast in the graph (graph I/O stays float32).
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
from onnx import helper, numpy_helper, TensorProto

import ae
import nets
from train import latent_norm, Tok, WORK, MODEL_DIR, TEMPLATE

OPSET = 17


class DecWrap(torch.nn.Module):
    def __init__(self, dec):
        super().__init__()
        self.dec = dec

    def forward(self, latent_sample):
        return self.dec(latent_sample).clamp(-1.0, 1.0)


# onnxruntime-node 1.30's WebGPU provider computes some 3x3 convolutions wrongly: with 18 input channels (and 66)
# its output is off by more than the output's own magnitude, while 16, 17, 19, 20, 24, 34 and 64 are right (measured
# on an NVIDIA H200 over Vulkan, tools/device/README.md). The UNet's first conv reads 16 latent + 2 coordinate
# channels, so the export feeds it two more zero channels through zero weights: the same function, and a shape the
# provider gets right.
FIRST_CONV_CHANNELS = 20


def widen_first_conv(unet, channels=FIRST_CONV_CHANNELS):
    old = unet.inp
    if old.in_channels >= channels:
        return
    new = torch.nn.Conv2d(channels, old.out_channels, old.kernel_size, padding=old.padding)
    with torch.no_grad():
        new.weight.zero_()
        new.weight[:, :old.in_channels] = old.weight
        new.bias.copy_(old.bias)
    unet.inp = new


def to_fp16_initializers(model, min_elems=1024):
    g = model.graph
    new_inits, casts = [], []
    for init in list(g.initializer):
        if init.data_type == TensorProto.FLOAT and np.prod(init.dims) >= min_elems:
            arr = numpy_helper.to_array(init).astype(np.float16)
            name16 = init.name + '__fp16'
            new_inits.append(numpy_helper.from_array(arr, name16))
            casts.append(helper.make_node('Cast', [name16], [init.name], to=TensorProto.FLOAT,
                                          name=init.name + '__cast'))
            g.initializer.remove(init)
    g.initializer.extend(new_inits)
    for i, n in enumerate(casts):
        g.node.insert(i, n)
    return model


def export(mod, args, path, inames, onames, dyn, fp16):
    f = io.BytesIO()
    torch.onnx.export(mod, args, f, input_names=inames, output_names=onames, dynamic_axes=dyn,
                      opset_version=OPSET, dynamo=False, do_constant_folding=True)
    m = onnx.load_from_string(f.getvalue())
    if fp16:
        m = to_fp16_initializers(m)
    onnx.checker.check_model(m)
    onnx.save(m, path)
    return os.path.getsize(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', default=os.path.join(WORK, 'best.pt'))
    ap.add_argument('--fp16', action='store_true')
    ap.add_argument('--shift', type=float, default=3.0)
    ap.add_argument('--steps', type=int, default=0)
    ap.add_argument('--seconds', type=float, default=0)
    ap.add_argument('--notes', default='')
    ap.add_argument('--out', default=MODEL_DIR, help='model directory to write (another than models/mini gets a copy '
                                                      'of its tokenizer files)')
    a = ap.parse_args()
    torch.set_num_threads(2)
    tok = Tok()
    V = tok.t.get_vocab_size()
    s = torch.load(a.ckpt, weights_only=False)
    unet_cfg = dict(s.get('unet_config') or {})
    te, unet = nets.TextEncoder(V), nets.UNet(**unet_cfg)
    # best.pt holds EMA weights as te/unet; a training checkpoint (dn.pt) holds them as ema_te/ema_unet
    te.load_state_dict(s.get('ema_te', s['te'])); unet.load_state_dict(s.get('ema_unet', s['unet']))
    te.eval(); unet.eval()
    reference = nets.Denoiser(copy.deepcopy(unet)).eval()
    widen_first_conv(unet)
    den = nets.Denoiser(unet).eval()
    aem = ae.load_ae()
    aem.eval()
    shift, scale = latent_norm()
    os.makedirs(a.out, exist_ok=True)
    if os.path.abspath(a.out) != os.path.abspath(MODEL_DIR):
        import shutil
        for name in ('tokenizer.json', 'tokenizer_config.json'):
            shutil.copyfile(os.path.join(MODEL_DIR, name), os.path.join(a.out, name))
    P = lambda n: os.path.join(a.out, n)
    sizes = {}
    with torch.no_grad():
        ids, m = tok(['a red circle', 'a blue star at the top left on a white background'])
        sizes['text_encoder.onnx'] = export(te, (ids, m), P('text_encoder.onnx'), ['input_ids', 'attention_mask'],
                                            ['encoder_hidden_state'],
                                            {'input_ids': {0: 'batch', 1: 'seq'}, 'attention_mask': {0: 'batch', 1: 'seq'},
                                             'encoder_hidden_state': {0: 'batch', 1: 'seq'}}, a.fp16)
        ctx = te(ids, m)
        x = torch.randn(2, 16, 1, 16, 16)
        t = torch.tensor([0.3, 0.7])
        sizes['transformer.onnx'] = export(den, (x, t, ctx, m), P('transformer.onnx'),
                                           ['hidden_states', 'timestep', 'encoder_hidden_states', 'encoder_attention_mask'],
                                           ['unified_results'],
                                           {'hidden_states': {0: 'batch', 3: 'height', 4: 'width'}, 'timestep': {0: 'batch'},
                                            'encoder_hidden_states': {0: 'batch', 1: 'seq'},
                                            'encoder_attention_mask': {0: 'batch', 1: 'seq'},
                                            'unified_results': {0: 'batch', 3: 'height', 4: 'width'}}, a.fp16)
        z = torch.randn(2, 16, 16, 16)
        sizes['vae_decoder.onnx'] = export(DecWrap(aem.dec), (z,), P('vae_decoder.onnx'), ['latent_sample'], ['sample'],
                                           {'latent_sample': {0: 'batch', 2: 'height', 3: 'width'},
                                            'sample': {0: 'batch', 2: 'out_height', 3: 'out_width'}}, a.fp16)
        img = torch.rand(2, 3, 128, 128) * 2 - 1
        sizes['vae_encoder.onnx'] = export(aem.enc, (img,), P('vae_encoder.onnx'), ['sample'], ['latent_sample'],
                                           {'sample': {0: 'batch', 2: 'height', 3: 'width'},
                                            'latent_sample': {0: 'batch', 2: 'lat_height', 3: 'lat_width'}}, a.fp16)
    man = {
        'format': 'zimage-model/1',
        'name': 'zimage-mini',
        'description': 'Tiny CPU text-to-image model (procedural shapes/colours/positions, English + Chinese) trained from scratch for zimage-bot',
        'license': 'Apache-2.0',
        'tokenizer': {'file': 'tokenizer.json', 'template': TEMPLATE, 'maxLength': 96},
        'textEncoder': {'file': 'text_encoder.onnx', 'inputIds': 'input_ids', 'attentionMask': 'attention_mask',
                        'output': 'encoder_hidden_state', 'hiddenSize': 128},
        'transformer': {'file': 'transformer.onnx', 'latents': 'hidden_states', 'timestep': 'timestep',
                        'textFeatures': 'encoder_hidden_states', 'textMask': 'encoder_attention_mask',
                        'output': 'unified_results', 'latentRank': 5, 'maxBatch': 8},
        'vaeDecoder': {'file': 'vae_decoder.onnx', 'input': 'latent_sample', 'output': 'sample', 'upscale': 16, 'maxBatch': 8},
        'vaeEncoder': {'file': 'vae_encoder.onnx', 'input': 'sample', 'output': 'latent_sample', 'downscale': 8, 'maxBatch': 8},
        'latent': {'channels': 16, 'scalingFactor': round(float(scale), 6), 'shiftFactor': round(float(shift), 6)},
        'scheduler': {'shift': a.shift},
        # How it is meant to be sampled (README § Models): 8 steps, any count from 1 to 50 works; guidance 1 (it trained
        # with 10 % empty captions, so CFG works: not distilled): held-out shape 55 -> 73 %, object colour 79 -> 95 %
        # in English against guidance 0, at twice the denoiser's work (tools/mini/README.md).
        # The refine: a light pass (strength 0.2 at shift 1: the last 6 of the profile's 30 steps, from sigma 0.2)
        # with guidance 2, starting from noise 95 % read back from the draft (noise inversion), tuned on drafts of
        # training-distribution captions (eval.ts --refine-captions train and tools/mini/README.md): higher strengths
        # or shifts redraw the small shapes; from fresh noise a refine comes out softer unless guidance, which costs
        # shapes, makes up for it.
        'defaults': {'steps': 8, 'minSteps': 1, 'maxSteps': 50, 'guidance': 1.0, 'distilled': False,
                     'refine': {'strength': 0.2, 'shift': 1.0, 'guidance': 2.0, 'inversion': 0.95}},
        'image': {'nativeWidth': 256, 'nativeHeight': 256, 'multiple': 64, 'minSide': 128, 'maxSide': 512},
        'training': {'steps': int(a.steps or s.get('step', 0)), 'seconds': int(a.seconds or s.get('seconds', 0)),
                     'notes': a.notes or 'trained from scratch on 2 CPU cores; see tools/mini/README.md',
                     # the UNet's constructor arguments: import_onnx.py rebuilds the same modules from this
                     'arch': {'unet': unet_cfg}},
    }
    with open(P('model.json'), 'w', encoding='utf-8') as f:
        json.dump(man, f, indent=2, ensure_ascii=False)
        f.write('\n')
    print('sizes MB', {k: round(v / 1e6, 2) for k, v in sizes.items()}, 'total', round(sum(sizes.values()) / 1e6, 2))
    verify(te, reference, aem, tok, a.out)


def verify(te, den, aem, tok, out_dir=MODEL_DIR):
    """onnxruntime vs torch (the trained, unwidened UNet) on fresh shapes (batch, seq, non-square latents) + padding
    invariance."""
    so = ort.SessionOptions(); so.intra_op_num_threads = 2
    S = lambda n: ort.InferenceSession(os.path.join(out_dir, n), so, providers=['CPUExecutionProvider'])
    ste, str_, sdec, senc = S('text_encoder.onnx'), S('transformer.onnx'), S('vae_decoder.onnx'), S('vae_encoder.onnx')
    rep = {}
    with torch.no_grad():
        prompts = ['红色圆形，蓝色背景', 'a small green star in the bottom right corner on a black background', '']
        ids, m = tok(prompts)
        o = ste.run(None, {'input_ids': ids.numpy(), 'attention_mask': m.numpy()})[0]
        ref = te(ids, m).numpy()
        rep['text_max_abs'] = float(np.abs((o - ref) * m.numpy()[..., None]).max())
        # padding invariance: prompt 0 alone vs padded in the batch
        i0, m0 = tok(prompts[:1])
        o0 = ste.run(None, {'input_ids': i0.numpy(), 'attention_mask': m0.numpy()})[0]
        L = int(m0.sum())
        rep['text_pad_invariance'] = float(np.abs(o0[0, :L] - o[0, :L]).max())
        for (B, h, w) in [(1, 16, 16), (4, 16, 16), (3, 12, 20), (2, 24, 12), (1, 8, 32)]:
            x = np.random.default_rng(0).standard_normal((B, 16, 1, h, w)).astype(np.float32)
            tt = np.linspace(0.1, 0.9, B).astype(np.float32)
            pi = [prompts[k % 3] for k in range(B)]
            ids, m = tok(pi)
            ctx = ste.run(None, {'input_ids': ids.numpy(), 'attention_mask': m.numpy()})[0]
            v = str_.run(None, {'hidden_states': x, 'timestep': tt, 'encoder_hidden_states': ctx,
                                'encoder_attention_mask': m.numpy()})[0]
            vr = den(torch.from_numpy(x), torch.from_numpy(tt), torch.from_numpy(ctx), m).numpy()
            rep[f'unet_{B}x{h}x{w}'] = float(np.abs(v - vr).max())
            assert v.shape == (B, 16, 1, h, w)
            if B > 1:  # item 0 alone, without padding
                i0, m0 = tok(pi[:1])
                c0 = ste.run(None, {'input_ids': i0.numpy(), 'attention_mask': m0.numpy()})[0]
                v0 = str_.run(None, {'hidden_states': x[:1], 'timestep': tt[:1], 'encoder_hidden_states': c0,
                                     'encoder_attention_mask': m0.numpy()})[0]
                rep[f'unet_pad_invariance_{B}x{h}x{w}'] = float(np.abs(v0 - v[:1]).max())
            zz = x[:, :, 0]
            img = sdec.run(None, {'latent_sample': zz})[0]
            assert img.shape == (B, 3, 16 * h, 16 * w), img.shape
            rep[f'dec_{B}x{h}x{w}'] = float(np.abs(img - aem.dec(torch.from_numpy(zz)).clamp(-1, 1).numpy()).max())
            im = np.random.default_rng(1).uniform(-1, 1, (B, 3, 8 * h, 8 * w)).astype(np.float32)
            zl = senc.run(None, {'sample': im})[0]
            assert zl.shape == (B, 16, h, w)
            rep[f'enc_{B}x{h}x{w}'] = float(np.abs(zl - aem.enc(torch.from_numpy(im)).numpy()).max())
    print(json.dumps(rep, indent=1))
    bad = {k: v for k, v in rep.items() if v > 2e-3}
    print('VERIFY', 'OK' if not bad else f'LARGE DIFFS {bad}')


if __name__ == '__main__':
    main()
