import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { NSFWJS } from 'nsfwjs';
import { NSFW_INPUT_SIZE, type NsfwModelName } from './config.ts';
import { ModerationSetupError } from './errors.ts';
import { foldBatchNorms, type WeightTensor } from './fold-batch-norm.ts';
import { compileFusedLayers } from './fused-layers.ts';
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

/** How the classifier runs a bundled model. */
export type NsfwExecution =
  /** The ONNX graph converted from the same files (models/nsfw, nsfw-onnx.ts). */
  | 'onnx'
  /** Folded and fused (fold-batch-norm.ts, fused-layers.ts): the default for the layers models. */
  | 'fused'
  /** nsfwjs' own `infer` on the model as shipped: the reference the fused path is held to, and MobileNetV2Mid's path. */
  | 'nsfwjs';

export interface BundledModelOptions {
  /** Default 'fused'; MobileNetV2Mid, a graph model the converter already fused, always runs through nsfwjs. */
  readonly execution?: NsfwExecution;
}

interface BundledArtifacts {
  readonly json: BundledModelJson;
  readonly weightData: ArrayBuffer;
  readonly weightSpecs: tf.io.WeightsManifestEntry[];
}

function readBundledModel(name: NsfwModelName): BundledArtifacts {
  const dir = bundledModelDir(name);
  const json = readBundle<BundledModelJson>(join(dir, 'model.min.js'));
  const shards = json.weightsManifest.flatMap((group) => group.paths).map((path) => Buffer.from(readBundle<string>(join(dir, `${path}.min.js`)), 'base64'));
  const joined = Buffer.concat(shards);
  const weightData = joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength) as ArrayBuffer;
  return { json, weightData, weightSpecs: json.weightsManifest.flatMap((group) => group.weights) };
}

/** An IOHandler over the installed bundle files, for nsfwjs: nothing is fetched, nothing goes through a URL. */
function bundledModelHandler(artifacts: BundledArtifacts): tf.io.IOHandler {
  const { json, weightData, weightSpecs } = artifacts;
  return {
    load: async (): Promise<tf.io.ModelArtifacts> => ({
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy ?? null,
      modelTopology: json.modelTopology as object,
      weightSpecs,
      weightData,
    }),
  };
}

export interface LoadedNsfwModel {
  readonly inputSize: number;
  readonly execution: NsfwExecution;
  readonly foldedBatchNorms: number;
  /** Activation layers and paddings run inside the convolution before/after them (0 through nsfwjs). */
  readonly fusedLayers: number;
  /** Class probabilities of one image: pixels are size × size × 3 RGB bytes. */
  classify(pixels: Uint8Array): Promise<NsfwScores>;
  dispose(): void;
}

function checkPixels(pixels: Uint8Array, size: number): void {
  if (pixels.length !== size * size * 3) throw new Error(`Expected ${size}×${size}×3 pixels, got ${pixels.length} bytes`);
}

/** nsfwjs' preprocessing (its infer): RGB bytes scaled to [0, 1], a batch of one. */
function inputTensor(pixels: Uint8Array, size: number): tf.Tensor4D {
  checkPixels(pixels, size);
  return tf.tidy(() => tf.div(tf.tensor4d(pixels, [1, size, size, 3], 'int32'), 255));
}

async function scoresOf(output: tf.Tensor): Promise<NsfwScores> {
  try {
    const values = await output.data();
    return Object.fromEntries(CLASS_ORDER.map((name, i) => [name, values[i] ?? Number.NaN])) as Record<NsfwClass, number>;
  } finally {
    output.dispose();
  }
}

function loadFused(name: NsfwModelName, artifacts: BundledArtifacts): LoadedNsfwModel {
  const size = NSFW_INPUT_SIZE[name];
  const folded = foldBatchNorms(artifacts.json.modelTopology, decodeToFloat32(artifacts.weightData, artifacts.weightSpecs));
  const model = compileFusedLayers(folded.topology, folded.weights);
  return {
    inputSize: size,
    execution: 'fused',
    foldedBatchNorms: folded.folded,
    fusedLayers: model.fusedActivations + model.fusedPaddings,
    classify: async (pixels) => {
      const input = inputTensor(pixels, size);
      let output: tf.Tensor;
      try {
        output = tf.tidy(() => model.predict(input));
      } finally {
        input.dispose();
      }
      return scoresOf(output);
    },
    dispose: () => model.dispose(),
  };
}

async function loadThroughNsfwjs(name: NsfwModelName, artifacts: BundledArtifacts): Promise<LoadedNsfwModel> {
  const size = NSFW_INPUT_SIZE[name];
  const nsfw = new NSFWJS(bundledModelHandler(artifacts), { size, ...(name === 'MobileNetV2Mid' ? { type: 'graph' } : {}) });
  await nsfw.load();
  return {
    inputSize: size,
    execution: 'nsfwjs',
    foldedBatchNorms: 0,
    fusedLayers: 0,
    classify: async (pixels) => {
      // nsfwjs scales the bytes to [0, 1] itself.
      checkPixels(pixels, size);
      const input = tf.tensor3d(pixels, [size, size, 3], 'int32');
      let output: tf.Tensor;
      try {
        output = nsfw.infer(input);
      } finally {
        input.dispose();
      }
      return scoresOf(output);
    },
    dispose: () => nsfw.dispose(),
  };
}

/** Loads one of nsfwjs' bundled models on the current tfjs backend (call useWasmBackend first). */
export async function loadBundledModel(name: NsfwModelName, options: BundledModelOptions = {}): Promise<LoadedNsfwModel> {
  try {
    const artifacts = readBundledModel(name);
    const layersModel = artifacts.json.format !== 'graph-model';
    return layersModel && (options.execution ?? 'fused') === 'fused' ? loadFused(name, artifacts) : await loadThroughNsfwjs(name, artifacts);
  } catch (error) {
    if (error instanceof ModerationSetupError) throw error;
    throw new ModerationSetupError(`Cannot load the bundled nsfwjs model ${name}: ${(error as Error).message}`);
  }
}
