// Reads one of the models nsfwjs ships in its package (dist/models/<folder>: a UMD bundle of the tfjs model.json and
// base64 UMD bundles of its weight shards), exactly as stored: the weights stay uint8 with their tfjs quantization.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** One tfjs weight as shipped: uint8 codes q, whose values are min + scale·q (tfjs' decodeWeights). */
export interface QuantizedWeight {
  readonly name: string;
  readonly shape: readonly number[];
  readonly codes: Uint8Array;
  readonly min: number;
  readonly scale: number;
}

interface ManifestEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly quantization?: { readonly dtype: string; readonly min?: number; readonly scale?: number };
}

export interface BundledModel {
  readonly folder: string;
  readonly nsfwjsVersion: string;
  /** 'layers-model' (a Keras topology) or 'graph-model' (a TensorFlow GraphDef). */
  readonly format: 'layers-model' | 'graph-model';
  readonly topology: unknown;
  readonly weights: ReadonlyMap<string, QuantizedWeight>;
}

interface ModelJson {
  readonly format?: string;
  readonly modelTopology: unknown;
  readonly weightsManifest: readonly { readonly paths: readonly string[]; readonly weights: readonly ManifestEntry[] }[];
}

function nsfwjsRoot(): string {
  return join(dirname(require.resolve('nsfwjs')), '..', '..');
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Reads dist/models/<folder> of the installed nsfwjs package. */
export function readBundledModel(folder: string): BundledModel {
  const root = nsfwjsRoot();
  const dir = join(root, 'dist', 'models', folder);
  const json = require(join(dir, 'model.min.js')) as ModelJson;
  const weights = new Map<string, QuantizedWeight>();
  for (const group of json.weightsManifest) {
    // A group's shards are one byte stream cut in pieces; its weights follow each other in manifest order.
    const data = Buffer.concat(group.paths.map((path) => Buffer.from(require(join(dir, `${path}.min.js`)) as string, 'base64')));
    let offset = 0;
    for (const entry of group.weights) {
      const { quantization: q } = entry;
      if (entry.dtype !== 'float32' || q?.dtype !== 'uint8' || q.min === undefined || q.scale === undefined) {
        throw new Error(`${folder}: weight ${entry.name} is ${entry.dtype}/${q?.dtype ?? 'unquantized'}; the converter reads uint8-quantized float32 weights only`);
      }
      const count = sizeOf(entry.shape);
      if (offset + count > data.length) throw new Error(`${folder}: the weight shards end inside ${entry.name}`);
      weights.set(entry.name, { name: entry.name, shape: entry.shape, codes: new Uint8Array(data.subarray(offset, offset + count)), min: q.min, scale: q.scale });
      offset += count;
    }
    if (offset !== data.length) throw new Error(`${folder}: ${data.length - offset} bytes of weight data left over`);
  }
  const version = (require(join(root, 'package.json')) as { version: string }).version;
  return { folder, nsfwjsVersion: version, format: json.format === 'graph-model' ? 'graph-model' : 'layers-model', topology: json.modelTopology, weights };
}

/** nsfwjs' class names in the order of its models' outputs (its NSFW_CLASSES). */
export function nsfwjsClassNames(): string[] {
  const { NSFW_CLASSES: classes } = require(join(nsfwjsRoot(), 'dist', 'cjs', 'nsfw_classes.js')) as { NSFW_CLASSES: Record<number, string> };
  return Object.keys(classes)
    .map(Number)
    .sort((a, b) => a - b)
    .map((index) => classes[index]!);
}

/** A weight's uint8 codes with its axes permuted (codes[perm] order), for ONNX's weight layouts. */
export function transposeCodes(weight: QuantizedWeight, perm: readonly number[]): { shape: number[]; codes: Uint8Array } {
  const { shape, codes } = weight;
  const rank = shape.length;
  if (perm.length !== rank) throw new Error(`${weight.name}: permutation of rank ${perm.length} for shape [${shape.join(', ')}]`);
  const outShape = perm.map((axis) => shape[axis]!);
  const inStrides = new Array<number>(rank).fill(1);
  for (let axis = rank - 2; axis >= 0; axis--) inStrides[axis] = inStrides[axis + 1]! * shape[axis + 1]!;
  const strides = perm.map((axis) => inStrides[axis]!);
  const out = new Uint8Array(codes.length);
  const index = new Array<number>(rank).fill(0);
  for (let i = 0; i < out.length; i++) {
    let source = 0;
    for (let axis = 0; axis < rank; axis++) source += index[axis]! * strides[axis]!;
    out[i] = codes[source]!;
    for (let axis = rank - 1; axis >= 0; axis--) {
      if (++index[axis]! < outShape[axis]!) break;
      index[axis] = 0;
    }
  }
  return { shape: outShape, codes: out };
}
