import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { NSFWJS } from 'nsfwjs';
import { NSFW_INPUT_SIZE, type NsfwModelName } from './config.ts';
import { ModerationSetupError } from './errors.ts';
import { foldBatchNorms, type WeightMap, type WeightTensor } from './fold-batch-norm.ts';
import type { NsfwClass, NsfwScores } from './verdict.ts';

const require = createRequire(import.meta.url);

/** The order of nsfwjs' output vector (its NSFW_CLASSES). */
const CLASS_ORDER: readonly NsfwClass[] = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'];

const FOLDERS: Readonly<Record<NsfwModelName, string>> = {
  MobileNetV2: 'mobilenet_v2',
  MobileNetV2Mid: 'mobilenet_v2_mid',
  InceptionV3: 'inception_v3',
};

/**
 * Selects the wasm backend, with its .wasm files read from the installed package. Anything else is a start-up error:
 * tfjs quietly falls back to its pure-JS CPU backend, which is an order of magnitude slower — a bot that looks
 * healthy and misses every moderation timeout.
 */
export function useWasmBackend(): Promise<void> {
  // Once per thread: the wasm paths cannot be set again after the backend has started.
  wasmBackend ??= startWasmBackend();
  return wasmBackend;
}

let wasmBackend: Promise<void> | undefined;

async function startWasmBackend(): Promise<void> {
  setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`);
  let selected = false;
  try {
    selected = await tf.setBackend('wasm');
    await tf.ready();
  } catch (error) {
    throw new ModerationSetupError(`The TensorFlow.js wasm backend failed to start: ${(error as Error).message}`);
  }
  // setBackend answers false when the .wasm files cannot be loaded, and getBackend may still name 'wasm' then.
  const backend = tf.getBackend();
  if (!selected || backend !== 'wasm') {
    throw new ModerationSetupError(
      `The NSFW classifier needs the TensorFlow.js wasm backend, but ${selected ? `TensorFlow.js is running on '${backend}'` : 'it failed to initialise'}. ` +
        'Check that @tensorflow/tfjs-backend-wasm and its .wasm files are installed (npm ci); its own message is in the log above.',
    );
  }
  // Skips tfjs' debug-time checks; inference results are unchanged.
  tf.enableProdMode();
}

/** The model folder inside the installed nsfwjs package (its UMD bundles: model.min.js and group1-shard*.min.js). */
export function bundledModelDir(name: NsfwModelName): string {
  return join(dirname(require.resolve('nsfwjs')), '..', 'models', FOLDERS[name]);
}

/** Loads one of nsfwjs' UMD bundle files (a model JSON or a base64 weight shard) without keeping it cached. */
function readBundle<T>(file: string): T {
  const value = require(file) as T;
  delete require.cache[file];
  return value;
}

interface BundledModelJson {
  readonly modelTopology: unknown;
  readonly format?: string;
  readonly generatedBy?: string;
  readonly convertedBy?: string | null;
  readonly weightsManifest: readonly { readonly paths: readonly string[]; readonly weights: readonly tf.io.WeightsManifestEntry[] }[];
}

/** Dequantises the shipped (uint8) weights to float32, the form folding needs. */
function decodeToFloat32(data: ArrayBuffer, specs: readonly tf.io.WeightsManifestEntry[]): Map<string, WeightTensor> {
  const tensors = tf.io.decodeWeights(data, [...specs]);
  const weights = new Map<string, WeightTensor>();
  for (const [name, tensor] of Object.entries(tensors)) {
    weights.set(name, { shape: tensor.shape, values: Float32Array.from(tensor.dataSync()) });
    tensor.dispose();
  }
  return weights;
}

function encodeFloat32(weights: WeightMap): { data: ArrayBuffer; specs: tf.io.WeightsManifestEntry[] } {
  const specs: tf.io.WeightsManifestEntry[] = [];
  let length = 0;
  for (const [name, { shape, values }] of weights) {
    specs.push({ name, shape: [...shape], dtype: 'float32' });
    length += values.length;
  }
  const data = new Float32Array(length);
  let offset = 0;
  for (const { values } of weights.values()) {
    data.set(values, offset);
    offset += values.length;
  }
  return { data: data.buffer, specs };
}

export interface BundledModelOptions {
  /** Fold BatchNorms into the convolutions (layers models only; see fold-batch-norm.ts). Default true. */
  readonly foldBatchNorm?: boolean;
}

/** An IOHandler over the installed bundle files: nothing is fetched, nothing goes through a URL. */
function bundledModelHandler(name: NsfwModelName, fold: boolean, onFolded: (count: number) => void): tf.io.IOHandler {
  return {
    load: async (): Promise<tf.io.ModelArtifacts> => {
      const dir = bundledModelDir(name);
      const json = readBundle<BundledModelJson>(join(dir, 'model.min.js'));
      const shards = json.weightsManifest.flatMap((group) => group.paths).map((path) => Buffer.from(readBundle<string>(join(dir, `${path}.min.js`)), 'base64'));
      const joined = Buffer.concat(shards);
      const weightData = joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength) as ArrayBuffer;
      const weightSpecs = json.weightsManifest.flatMap((group) => group.weights);
      const base = {
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy ?? null,
      };
      if (fold && json.format !== 'graph-model') {
        const result = foldBatchNorms(json.modelTopology, decodeToFloat32(weightData, weightSpecs));
        onFolded(result.folded);
        const encoded = encodeFloat32(result.weights);
        return { ...base, modelTopology: result.topology as object, weightSpecs: encoded.specs, weightData: encoded.data };
      }
      return { ...base, modelTopology: json.modelTopology as object, weightSpecs, weightData };
    },
  };
}

export interface LoadedNsfwModel {
  readonly inputSize: number;
  readonly foldedBatchNorms: number;
  /** Class probabilities of one image: pixels are size × size × 3 RGB bytes. */
  classify(pixels: Uint8Array): Promise<NsfwScores>;
  dispose(): void;
}

/** Loads a bundled nsfwjs model on the current tfjs backend (call useWasmBackend first). */
export async function loadBundledModel(name: NsfwModelName, options: BundledModelOptions = {}): Promise<LoadedNsfwModel> {
  const size = NSFW_INPUT_SIZE[name];
  let foldedBatchNorms = 0;
  const handler = bundledModelHandler(name, options.foldBatchNorm ?? true, (count) => (foldedBatchNorms = count));
  const nsfw = new NSFWJS(handler, { size, ...(name === 'MobileNetV2Mid' ? { type: 'graph' } : {}) });
  try {
    await nsfw.load();
  } catch (error) {
    throw new ModerationSetupError(`Cannot load the bundled nsfwjs model ${name}: ${(error as Error).message}`);
  }
  return {
    inputSize: size,
    foldedBatchNorms,
    async classify(pixels) {
      if (pixels.length !== size * size * 3) throw new Error(`Expected ${size}×${size}×3 pixels, got ${pixels.length} bytes`);
      const input = tf.tensor3d(pixels, [size, size, 3], 'int32');
      let output: tf.Tensor;
      try {
        output = nsfw.infer(input);
      } finally {
        input.dispose();
      }
      try {
        const values = await output.data();
        return Object.fromEntries(CLASS_ORDER.map((name, i) => [name, values[i] ?? Number.NaN])) as Record<NsfwClass, number>;
      } finally {
        output.dispose();
      }
    },
    dispose: () => nsfw.dispose(),
  };
}
