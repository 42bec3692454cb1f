import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { inputLayer, kerasLayer, kerasModel, layersPredict, maxDifference, values, weightTensor } from '../../test/support/keras-topology.ts';
import { foldBatchNorms, type WeightMap, type WeightTensor } from './fold-batch-norm.ts';
import { useWasmBackend } from './nsfw-model.ts';

const conv = { kernel_size: [3, 3], strides: [1, 1], padding: 'same', data_format: 'channels_last', dilation_rate: [1, 1], activation: 'linear' };
const bn = (scale: boolean) => ({ axis: -1, momentum: 0.99, epsilon: 0.001, center: true, scale });

/**
 * input → Conv2D (no bias) → BN → ReLU6 → DepthwiseConv2D (bias, ×2) → BN (no γ, like InceptionV3) → Add with a
 * Conv2D whose output is also read directly (so its BN must stay) → output.
 */
function tinyModel(): { topology: unknown; weights: WeightMap } {
  const layers = [
    inputLayer('input', [6, 6, 3]),
    kerasLayer('c1', 'Conv2D', { ...conv, filters: 4, use_bias: false }, ['input']),
    kerasLayer('c1_bn', 'BatchNormalization', bn(true), ['c1']),
    kerasLayer('c1_relu', 'ReLU', { max_value: 6, negative_slope: 0, threshold: 0 }, ['c1_bn']),
    kerasLayer('dw', 'DepthwiseConv2D', { ...conv, depth_multiplier: 2, use_bias: true }, ['c1_relu']),
    kerasLayer('dw_bn', 'BatchNormalization', bn(false), ['dw']),
    kerasLayer('c2', 'Conv2D', { ...conv, kernel_size: [1, 1], filters: 8, use_bias: true }, ['c1_relu']),
    kerasLayer('c2_bn', 'BatchNormalization', bn(true), ['c2']),
    kerasLayer('sum', 'Add', {}, ['dw_bn', 'c2_bn', 'c2']),
  ];
  const topology = kerasModel(layers, 'input', 'sum');
  const weights = new Map<string, WeightTensor>([
    ['c1/kernel', weightTensor([3, 3, 3, 4], 1)],
    ['c1_bn/gamma', weightTensor([4], 2, 0.5, 2)],
    ['c1_bn/beta', weightTensor([4], 3)],
    ['c1_bn/moving_mean', weightTensor([4], 4)],
    ['c1_bn/moving_variance', weightTensor([4], 5, 0.1, 3)],
    ['dw/depthwise_kernel', weightTensor([3, 3, 4, 2], 6)],
    ['dw/bias', weightTensor([8], 7)],
    ['dw_bn/beta', weightTensor([8], 8)],
    ['dw_bn/moving_mean', weightTensor([8], 9)],
    ['dw_bn/moving_variance', weightTensor([8], 10, 0.1, 3)],
    ['c2/kernel', weightTensor([1, 1, 4, 8], 11)],
    ['c2/bias', weightTensor([8], 12)],
    ['c2_bn/gamma', weightTensor([8], 13, 0.5, 2)],
    ['c2_bn/beta', weightTensor([8], 14)],
    ['c2_bn/moving_mean', weightTensor([8], 15)],
    ['c2_bn/moving_variance', weightTensor([8], 16, 0.1, 3)],
  ]);
  return { topology, weights };
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
    const before = await layersPredict(topology, weights, input);
    const after = await layersPredict(folded.topology, folded.weights, input);
    input.dispose();
    expect(after).toHaveLength(6 * 6 * 8);
    expect(maxDifference(before, after)).toBeLessThan(1e-4);
  });

  it('leaves topologies it does not understand alone', () => {
    const weights = new Map<string, WeightTensor>();
    expect(foldBatchNorms({ class_name: 'Sequential' }, weights)).toMatchObject({ folded: 0, weights });
    expect(foldBatchNorms(null, weights).folded).toBe(0);
  });
});
