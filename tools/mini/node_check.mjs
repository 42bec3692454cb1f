// Verifies models/mini with onnxruntime-node + @huggingface/tokenizers against a Python onnxruntime reference
// (tools/mini/work/node_ref.json, written by `python eval_onnx.py --node_ref`).
// usage (repo root): node tools/mini/node_check.mjs
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { Tokenizer } from '@huggingface/tokenizers';

const dir = process.argv[2] ?? 'models/mini';
const ref = JSON.parse(readFileSync(process.argv[3] ?? 'tools/mini/work/node_ref.json', 'utf8'));
const man = JSON.parse(readFileSync(`${dir}/model.json`, 'utf8'));
const tok = new Tokenizer(JSON.parse(readFileSync(`${dir}/${man.tokenizer.file}`, 'utf8')),
  JSON.parse(readFileSync(`${dir}/tokenizer_config.json`, 'utf8')));
const opts = { intraOpNumThreads: 2, interOpNumThreads: 1, executionProviders: ['cpu'] };
const sess = {};
for (const k of ['textEncoder', 'transformer', 'vaeDecoder', 'vaeEncoder']) {
  sess[k] = await ort.InferenceSession.create(`${dir}/${man[k].file}`, opts);
  console.log(k, 'inputs', sess[k].inputNames.join(','), 'outputs', sess[k].outputNames.join(','));
}
const maxDiff = (a, b) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i])); return m; };
let ok = true;
const check = (name, d, tol) => { const pass = d <= tol; ok &&= pass; console.log(`${pass ? 'OK ' : 'BAD'} ${name}: max|diff| = ${d.toExponential(2)} (tol ${tol})`); };

const { prompt, h, w, steps, shift } = ref;
const text = man.tokenizer.template.replace('{prompt}', prompt);
const ids = tok.encode(text, { add_special_tokens: false }).ids.slice(0, man.tokenizer.maxLength);
check('token ids', maxDiff(ids, ref.ids) + Math.abs(ids.length - ref.ids.length), 0);
const S = ids.length;
const te = await sess.textEncoder.run({
  [man.textEncoder.inputIds]: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, S]),
  [man.textEncoder.attentionMask]: new ort.Tensor('int64', new BigInt64Array(S).fill(1n), [1, S]),
});
const ctx = te[man.textEncoder.output];
check('text features', maxDiff(ctx.data, ref.ctx), 1e-4);

const n = 16 * h * w;
let x = Float32Array.from(ref.noise);
const s = Array.from({ length: steps }, (_, i) => 1 - i * (1 - 1 / steps) / (steps - 1));
const sig = s.map((v) => shift * v / (1 + (shift - 1) * v)).concat([0]);
const mask = new ort.Tensor('int64', new BigInt64Array(S).fill(1n), [1, S]);
const t0 = performance.now();
for (let i = 0; i < steps; i++) {
  const out = await sess.transformer.run({
    [man.transformer.latents]: new ort.Tensor('float32', x, [1, 16, 1, h, w]),
    [man.transformer.timestep]: new ort.Tensor('float32', Float32Array.of(1 - sig[i]), [1]),
    [man.transformer.textFeatures]: ctx,
    [man.transformer.textMask]: mask,
  });
  const v = out[man.transformer.output].data;
  const nx = new Float32Array(n);
  for (let j = 0; j < n; j++) nx[j] = x[j] + (sig[i + 1] - sig[i]) * -v[j];
  x = nx;
}
const t1 = performance.now();
check('final latent', maxDiff(x, ref.latent), 2e-3);
const z = new Float32Array(n);
for (let j = 0; j < n; j++) z[j] = x[j] / man.latent.scalingFactor + man.latent.shiftFactor;
const dec = await sess.vaeDecoder.run({ [man.vaeDecoder.input]: new ort.Tensor('float32', z, [1, 16, h, w]) });
const img = dec[man.vaeDecoder.output];
console.log('decoded dims', img.dims.join('x'));
check('decoded image', maxDiff(img.data, ref.image), 5e-3);
const enc = await sess.vaeEncoder.run({ [man.vaeEncoder.input]: new ort.Tensor('float32', Float32Array.from(ref.enc_in), [1, 3, 8 * h, 8 * w]) });
check('vae encoder', maxDiff(enc[man.vaeEncoder.output].data, ref.enc_out), 1e-3);
console.log(`8 denoiser steps (batch 1, ${h}x${w}) in node: ${(t1 - t0).toFixed(0)} ms`);
console.log(ok ? 'NODE CHECK PASSED' : 'NODE CHECK FAILED');
process.exit(ok ? 0 : 1);
