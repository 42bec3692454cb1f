import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { foldBatchNorms, type WeightMap, type WeightTensor } from './fold-batch-norm.ts';
import { loadBundledModel, useWasmBackend } from './nsfw-model.ts';

/** Deterministic values in [lo, hi). */
function values(count: number, seed: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(count);
  let s = seed;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = lo + ((s >>> 8) / 2 ** 24) * (hi - lo);
  }
  return out;
}

const tensor = (shape: number[], seed: number, lo?: number, hi?: number): WeightTensor => ({
  shape,
  values: values(shape.reduce((a, b) => a * b, 1), seed, lo, hi),
});

const layer = (name: string, className: string, config: Record<string, unknown>, inputs: string[]): unknown => ({
  name,
  class_name: className,
  config: { name, ...config },
  inbound_nodes: inputs.length === 0 ? [] : [inputs.map((input) => [input, 0, 0, {}])],
});

const conv = { kernel_size: [3, 3], strides: [1, 1], padding: 'same', data_format: 'channels_last', dilation_rate: [1, 1], activation: 'linear' };
const bn = (scale: boolean) => ({ axis: -1, momentum: 0.99, epsilon: 0.001, center: true, scale });

/**
 * input → Conv2D (no bias) → BN → ReLU6 → DepthwiseConv2D (bias, ×2) → BN (no γ, like InceptionV3) → Add with a
 * Conv2D whose output is also read directly (so its BN must stay) → output.
 */
function tinyModel(): { topology: unknown; weights: WeightMap } {
  const layers = [
    layer('input', 'InputLayer', { batch_input_shape: [null, 6, 6, 3], dtype: 'float32', sparse: false }, []),
    layer('c1', 'Conv2D', { ...conv, filters: 4, use_bias: false }, ['input']),
    layer('c1_bn', 'BatchNormalization', bn(true), ['c1']),
    layer('c1_relu', 'ReLU', { max_value: 6, negative_slope: 0, threshold: 0 }, ['c1_bn']),
    layer('dw', 'DepthwiseConv2D', { ...conv, depth_multiplier: 2, use_bias: true }, ['c1_relu']),
    layer('dw_bn', 'BatchNormalization', bn(false), ['dw']),
    layer('c2', 'Conv2D', { ...conv, kernel_size: [1, 1], filters: 8, use_bias: true }, ['c1_relu']),
    layer('c2_bn', 'BatchNormalization', bn(true), ['c2']),
    layer('sum', 'Add', {}, ['dw_bn', 'c2_bn', 'c2']),
  ];
  const topology = {
    keras_version: '2.2.4',
    backend: 'tensorflow',
    model_config: { class_name: 'Model', config: { name: 'tiny', layers, input_layers: [['input', 0, 0]], output_layers: [['sum', 0, 0]] } },
  };
  const weights = new Map<string, WeightTensor>([
    ['c1/kernel', tensor([3, 3, 3, 4], 1)],
    ['c1_bn/gamma', tensor([4], 2, 0.5, 2)],
    ['c1_bn/beta', tensor([4], 3)],
    ['c1_bn/moving_mean', tensor([4], 4)],
    ['c1_bn/moving_variance', tensor([4], 5, 0.1, 3)],
    ['dw/depthwise_kernel', tensor([3, 3, 4, 2], 6)],
    ['dw/bias', tensor([8], 7)],
    ['dw_bn/beta', tensor([8], 8)],
    ['dw_bn/moving_mean', tensor([8], 9)],
    ['dw_bn/moving_variance', tensor([8], 10, 0.1, 3)],
    ['c2/kernel', tensor([1, 1, 4, 8], 11)],
    ['c2/bias', tensor([8], 12)],
    ['c2_bn/gamma', tensor([8], 13, 0.5, 2)],
    ['c2_bn/beta', tensor([8], 14)],
    ['c2_bn/moving_mean', tensor([8], 15)],
    ['c2_bn/moving_variance', tensor([8], 16, 0.1, 3)],
  ]);
  return { topology, weights };
}

async function predict(topology: unknown, weights: WeightMap, input: tf.Tensor): Promise<Float32Array> {
  const specs = [...weights].map(([name, w]) => ({ name, shape: [...w.shape], dtype: 'float32' as const }));
  const data = new Float32Array([...weights.values()].flatMap((w) => [...w.values]));
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: topology as object, weightSpecs: specs, weightData: data.buffer }));
  const output = model.predict(input) as tf.Tensor;
  const result = (await output.data()) as Float32Array;
  output.dispose();
  model.dispose();
  return result;
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

beforeAll(async () => {
  await useWasmBackend();
});

describe('foldBatchNorms', () => {
  it('removes BatchNorms behind single-use convolutions and computes the same function', async () => {
    const { topology, weights } = tinyModel();
    const folded = foldBatchNorms(topology, weights);
    expect(folded.folded).toBe(2);
    const names = (folded.topology as { model_config: { config: { layers: { name: string }[] } } }).model_config.config.layers.map((l) => l.name);
    expect(names).toEqual(['input', 'c1', 'c1_relu', 'dw', 'c2', 'c2_bn', 'sum']);
    expect([...folded.weights.keys()].filter((k) => k.startsWith('c1_bn') || k.startsWith('dw_bn'))).toEqual([]);
    expect(folded.weights.get('c1/bias')?.values).toHaveLength(4);
    // The inputs are left as they were.
    expect(weights.has('c1_bn/gamma')).toBe(true);

    const input = tf.tensor4d(values(6 * 6 * 3, 99), [1, 6, 6, 3]);
    const before = await predict(topology, weights, input);
    const after = await predict(folded.topology, folded.weights, input);
    input.dispose();
    expect(after).toHaveLength(6 * 6 * 8);
    expect(maxDifference(before, after)).toBeLessThan(1e-4);
  });

  it('leaves topologies it does not understand alone', () => {
    const weights = new Map<string, WeightTensor>();
    expect(foldBatchNorms({ class_name: 'Sequential' }, weights)).toMatchObject({ folded: 0, weights });
    expect(foldBatchNorms(null, weights).folded).toBe(0);
  });

  it('gives the real MobileNetV2 the same scores, folded or not', async () => {
    const [plain, folded] = [await loadBundledModel('MobileNetV2', { foldBatchNorm: false }), await loadBundledModel('MobileNetV2')];
    expect(folded.foldedBatchNorms).toBe(52);
    for (const seed of [1, 2]) {
      const pixels = Uint8Array.from(values(224 * 224 * 3, seed, 0, 256), Math.floor);
      const [a, b] = [await plain.classify(pixels), await folded.classify(pixels)];
      expect(maxDifference(Object.values(a), Object.values(b))).toBeLessThan(1e-4);
    }
    plain.dispose();
    folded.dispose();
  });
});
