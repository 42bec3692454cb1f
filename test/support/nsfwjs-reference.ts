// nsfwjs' own execution of its bundled models (nsfwjs `load` with its model definitions, `infer` on the tfjs wasm
// backend): the reference the ONNX graphs in models/nsfw are held to (nsfw-parity.test.ts), and the stock execution
// bench:moderation --compare measures. A classifier-thread runner module: the thread imports it by URL
// (NsfwClassifier's `runner` option) and calls loadNsfwRunner, as it does with src/moderation/nsfw-onnx.ts.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { load, type NSFWJS } from 'nsfwjs/core';
import { InceptionV3Model } from 'nsfwjs/models/inception_v3';
import { MobileNetV2Model } from 'nsfwjs/models/mobilenet_v2';
import { MobileNetV2MidModel } from 'nsfwjs/models/mobilenet_v2_mid';
import { NSFW_INPUT_SIZE, type NsfwModelName } from '../../src/moderation/config.ts';
import type { NsfwRunner } from '../../src/moderation/nsfw-protocol.ts';
import type { NsfwClass, NsfwScores } from '../../src/moderation/verdict.ts';

const require = createRequire(import.meta.url);

const DEFINITIONS = { MobileNetV2: MobileNetV2Model, MobileNetV2Mid: MobileNetV2MidModel, InceptionV3: InceptionV3Model } as const;

/** nsfwjs' NSFW_CLASSES order. */
const CLASS_ORDER: readonly NsfwClass[] = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'];

let wasm: Promise<void> | undefined;

/**
 * The wasm backend, once per thread (its paths cannot be set twice). tfjs would quietly fall back to its pure-JS CPU
 * backend, an order of magnitude slower, so anything else is an error.
 */
function useWasmBackend(): Promise<void> {
  wasm ??= (async () => {
    setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`);
    const selected = await tf.setBackend('wasm');
    await tf.ready();
    if (!selected || tf.getBackend() !== 'wasm') throw new Error(`tfjs runs on '${tf.getBackend()}', not on its wasm backend`);
    tf.enableProdMode();
  })();
  return wasm;
}

export async function loadNsfwRunner(name: NsfwModelName): Promise<NsfwRunner> {
  const definition = DEFINITIONS[name];
  if (!definition) throw new Error(`nsfwjs has no bundled model ${JSON.stringify(name)}`);
  await useWasmBackend();
  const size = NSFW_INPUT_SIZE[name];
  const nsfw: NSFWJS = await load(name, { modelDefinitions: [definition], size });
  return {
    inputSize: size,
    execution: 'nsfwjs',
    backend: tf.getBackend(),
    classify: async (pixels) => {
      if (pixels.length !== size * size * 3) throw new Error(`Expected ${size}×${size}×3 pixels, got ${pixels.length} bytes`);
      // infer scales the bytes to [0, 1] itself.
      const input = tf.tensor3d(pixels, [size, size, 3], 'int32');
      let output: tf.Tensor;
      try {
        output = nsfw.infer(input) as tf.Tensor;
      } finally {
        input.dispose();
      }
      try {
        const values = await output.data();
        return Object.fromEntries(CLASS_ORDER.map((cls, i) => [cls, values[i] ?? Number.NaN])) as NsfwScores;
      } finally {
        output.dispose();
      }
    },
    dispose: () => nsfw.dispose(),
  };
}
