// Small Keras functional topologies and deterministic weights for the moderation tests, and tfjs-layers as the
// reference that runs them.
import * as tf from '@tensorflow/tfjs';
import type { WeightMap, WeightTensor } from '../../src/moderation/fold-batch-norm.ts';

/** Deterministic values in [lo, hi). */
export function values(count: number, seed: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(count);
  let s = seed;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = lo + ((s >>> 8) / 2 ** 24) * (hi - lo);
  }
  return out;
}

export const weightTensor = (shape: number[], seed: number, lo?: number, hi?: number): WeightTensor => ({
  shape,
  values: values(shape.reduce((a, b) => a * b, 1), seed, lo, hi),
});

export const kerasLayer = (name: string, className: string, config: Record<string, unknown>, inputs: string[]): unknown => ({
  name,
  class_name: className,
  config: { name, ...config },
  inbound_nodes: inputs.length === 0 ? [] : [inputs.map((input) => [input, 0, 0, {}])],
});

export const inputLayer = (name: string, shape: number[]): unknown => kerasLayer(name, 'InputLayer', { batch_input_shape: [null, ...shape], dtype: 'float32', sparse: false }, []);

export function kerasModel(layers: unknown[], input: string, output: string): unknown {
  return {
    keras_version: '2.2.4',
    backend: 'tensorflow',
    model_config: { class_name: 'Model', config: { name: 'tiny', layers, input_layers: [[input, 0, 0]], output_layers: [[output, 0, 0]] } },
  };
}

/** Runs a topology through tfjs-layers, the reference. */
export async function layersPredict(topology: unknown, weights: WeightMap, input: tf.Tensor): Promise<Float32Array> {
  const specs = [...weights].map(([name, w]) => ({ name, shape: [...w.shape], dtype: 'float32' as const }));
  const data = new Float32Array([...weights.values()].flatMap((w) => [...w.values]));
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: topology as object, weightSpecs: specs, weightData: data.buffer }));
  const output = model.predict(input) as tf.Tensor;
  const result = (await output.data()) as Float32Array;
  output.dispose();
  model.dispose();
  return result;
}

export function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}
