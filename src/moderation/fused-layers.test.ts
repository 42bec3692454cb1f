import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { inputLayer, kerasLayer, kerasModel, layersPredict, maxDifference, values, weightTensor } from '../../test/support/keras-topology.ts';
import type { NsfwModelName } from './config.ts';
import { ModerationSetupError } from './errors.ts';
import type { WeightTensor } from './fold-batch-norm.ts';
import { compileFusedLayers } from './fused-layers.ts';
import { loadBundledModel, useWasmBackend } from './nsfw-model.ts';

const conv = { kernel_size: [3, 3], strides: [1, 1], padding: 'same', data_format: 'channels_last', dilation_rate: [1, 1], activation: 'linear', use_bias: true };

/**
 * Every layer type the executor knows, in the arrangements it treats differently: a ZeroPadding2D before a 'valid'
 * stride-2 convolution (folded into it) and one before a 'same' convolution (kept); a ReLU6 and an Activation(relu)
 * that are their convolution's only reader (fused) and a ReLU(max 4) whose convolution is also read by an Add
 * (kept); a three-way Add; a BatchNorm after the Add (nothing to fold it into); max and average pooling into a
 * Concatenate; a convolution with its own relu; Flatten → Dense(relu) → Dropout → Dense, plus a global-average-pool
 * head, added and put through a separate softmax.
 */
function everyLayerModel(): { topology: unknown; weights: Map<string, WeightTensor> } {
  const layers = [
    inputLayer('input', [8, 8, 3]),
    kerasLayer('pad', 'ZeroPadding2D', { padding: [[0, 1], [0, 1]], data_format: 'channels_last' }, ['input']),
    kerasLayer('conv_s2', 'Conv2D', { ...conv, filters: 6, strides: [2, 2], padding: 'valid' }, ['pad']),
    kerasLayer('relu6', 'ReLU', { max_value: 6, negative_slope: 0, threshold: 0 }, ['conv_s2']),
    kerasLayer('dw', 'DepthwiseConv2D', { ...conv, depth_multiplier: 2 }, ['relu6']),
    kerasLayer('dw_relu', 'Activation', { activation: 'relu' }, ['dw']),
    kerasLayer('shared', 'Conv2D', { ...conv, kernel_size: [1, 1], filters: 12 }, ['dw_relu']),
    kerasLayer('clip4', 'ReLU', { max_value: 4, negative_slope: 0, threshold: 0 }, ['shared']),
    kerasLayer('sum', 'Add', {}, ['dw_relu', 'shared', 'clip4']),
    kerasLayer('bn', 'BatchNormalization', { axis: -1, momentum: 0.99, epsilon: 0.001, center: true, scale: true }, ['sum']),
    kerasLayer('max', 'MaxPooling2D', { pool_size: [2, 2], strides: null, padding: 'same', data_format: 'channels_last' }, ['bn']),
    kerasLayer('avg', 'AveragePooling2D', { pool_size: [2, 2], strides: [2, 2], padding: 'valid', data_format: 'channels_last' }, ['bn']),
    kerasLayer('cat', 'Concatenate', { axis: -1 }, ['max', 'avg']),
    kerasLayer('pad_same', 'ZeroPadding2D', { padding: [[1, 1], [1, 1]], data_format: 'channels_last' }, ['cat']),
    kerasLayer('conv_relu', 'Conv2D', { ...conv, filters: 4, activation: 'relu' }, ['pad_same']),
    kerasLayer('flat', 'Flatten', { data_format: 'channels_last' }, ['conv_relu']),
    kerasLayer('dense1', 'Dense', { units: 8, activation: 'relu', use_bias: true }, ['flat']),
    kerasLayer('drop', 'Dropout', { rate: 0.5 }, ['dense1']),
    kerasLayer('dense2', 'Dense', { units: 5, activation: 'linear', use_bias: true }, ['drop']),
    kerasLayer('gap', 'GlobalAveragePooling2D', { data_format: 'channels_last' }, ['conv_relu']),
    kerasLayer('dense_gap', 'Dense', { units: 5, activation: 'linear', use_bias: false }, ['gap']),
    kerasLayer('logits', 'Add', {}, ['dense2', 'dense_gap']),
    kerasLayer('probs', 'Activation', { activation: 'softmax' }, ['logits']),
  ];
  const weights = new Map<string, WeightTensor>([
    ['conv_s2/kernel', weightTensor([3, 3, 3, 6], 1)],
    ['conv_s2/bias', weightTensor([6], 2)],
    ['dw/depthwise_kernel', weightTensor([3, 3, 6, 2], 3, -0.5, 0.5)],
    ['dw/bias', weightTensor([12], 4)],
    ['shared/kernel', weightTensor([1, 1, 12, 12], 5, -0.5, 0.5)],
    ['shared/bias', weightTensor([12], 6)],
    ['bn/gamma', weightTensor([12], 7, 0.5, 2)],
    ['bn/beta', weightTensor([12], 8)],
    ['bn/moving_mean', weightTensor([12], 9)],
    ['bn/moving_variance', weightTensor([12], 10, 0.1, 3)],
    ['conv_relu/kernel', weightTensor([3, 3, 24, 4], 11, -0.2, 0.2)],
    ['conv_relu/bias', weightTensor([4], 12)],
    ['dense1/kernel', weightTensor([64, 8], 13, -0.2, 0.2)],
    ['dense1/bias', weightTensor([8], 14)],
    ['dense2/kernel', weightTensor([8, 5], 15, -0.3, 0.3)],
    ['dense2/bias', weightTensor([5], 16)],
    ['dense_gap/kernel', weightTensor([4, 5], 17, -0.3, 0.3)],
  ]);
  return { topology: kerasModel(layers, 'input', 'probs'), weights };
}

async function fusedPredict(topology: unknown, weights: ReadonlyMap<string, WeightTensor>, input: tf.Tensor4D): Promise<Float32Array> {
  const model = compileFusedLayers(topology, weights);
  try {
    const output = tf.tidy(() => model.predict(input));
    const result = (await output.data()) as Float32Array;
    output.dispose();
    return result;
  } finally {
    model.dispose();
  }
}

/** The same model with one layer's entry replaced (or removed, for undefined). */
function withLayer(name: string, replacement: unknown): unknown {
  const { topology } = everyLayerModel();
  const config = (topology as { model_config: { config: { layers: { name: string }[] } } }).model_config.config;
  const index = config.layers.findIndex((layer) => layer.name === name);
  if (replacement === undefined) config.layers.splice(index, 1);
  else config.layers[index] = replacement as { name: string };
  return topology;
}

beforeAll(async () => {
  await useWasmBackend();
});

describe('compileFusedLayers', () => {
  it('computes what tfjs-layers computes, with activations and a padding folded into the convolutions', async () => {
    const { topology, weights } = everyLayerModel();
    const model = compileFusedLayers(topology, weights);
    expect({ fusedActivations: model.fusedActivations, fusedPaddings: model.fusedPaddings, ops: model.ops }).toEqual({
      fusedActivations: 2, // relu6 into conv_s2, dw_relu into dw; clip4 stays (shared has two readers)
      fusedPaddings: 1, // pad into conv_s2; pad_same stays (conv_relu pads 'same' itself)
      ops: 18,
    });
    model.dispose();
    for (const seed of [1, 2, 3]) {
      // Inputs up to ±4 so the ReLU6s and the ReLU(max 4) clip.
      const input = tf.tensor4d(values(8 * 8 * 3, 100 + seed, -8, 8), [1, 8, 8, 3]);
      const [reference, fused] = [await layersPredict(topology, weights, input), await fusedPredict(topology, weights, input)];
      input.dispose();
      expect(fused).toHaveLength(5);
      // A saturated softmax would hide differences in front of it.
      expect(Math.max(...fused)).toBeLessThan(0.95);
      expect(maxDifference(reference, fused)).toBeLessThan(1e-5);
    }
  });

  it('leaves no tensor behind', () => {
    const { topology, weights } = everyLayerModel();
    const before = tf.memory().numTensors;
    const model = compileFusedLayers(topology, weights);
    const input = tf.zeros([1, 8, 8, 3]) as tf.Tensor4D;
    tf.tidy(() => model.predict(input)).dispose();
    input.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses, naming the layer, what it cannot run', () => {
    const { weights } = everyLayerModel();
    const cases: [unknown, RegExp][] = [
      [withLayer('avg', kerasLayer('avg', 'LSTM', { units: 4 }, ['bn'])), /layer 'avg' \(LSTM\): this layer type is not supported/],
      [withLayer('clip4', kerasLayer('clip4', 'ReLU', { max_value: null, negative_slope: 0.1, threshold: 0 }, ['shared'])), /'clip4' \(ReLU\): a leaky/],
      [withLayer('cat', kerasLayer('cat', 'Concatenate', { axis: 1 }, ['max', 'avg'])), /'cat' \(Concatenate\): axis 1/],
      [withLayer('shared', undefined), /'clip4' \(ReLU\): its input 'shared' comes later/],
      [withLayer('probs', kerasLayer('probs', 'Activation', { activation: 'gelu' }, ['logits'])), /'probs' \(Activation\): activation "gelu"/],
      [
        withLayer('dw', { ...(kerasLayer('dw', 'DepthwiseConv2D', { ...conv, depth_multiplier: 2 }, ['relu6']) as object), inbound_nodes: [[['relu6', 0, 0, {}]], [['relu6', 0, 0, {}]]] }),
        /'dw' \(DepthwiseConv2D\): shared layers/,
      ],
      [{ class_name: 'Sequential' }, /not a Keras functional model/],
    ];
    for (const [topology, message] of cases) {
      expect(() => compileFusedLayers(topology, weights)).toThrow(ModerationSetupError);
      expect(() => compileFusedLayers(topology, weights)).toThrow(message);
    }
    const missing = new Map(weights);
    missing.delete('dense2/kernel');
    expect(() => compileFusedLayers(everyLayerModel().topology, missing)).toThrow(/'dense2' \(Dense\): weight kernel missing/);
  });
});

describe('the bundled nsfwjs layers models, fused', () => {
  const images: readonly [string, (length: number) => Uint8Array][] = [
    ['noise', (length) => Uint8Array.from(values(length, 7, 0, 256), Math.floor)],
    ['gradient', (length) => Uint8Array.from({ length }, (_, i) => Math.floor(i / 3) % 251)],
    ['flat skin tone', (length) => Uint8Array.from({ length }, (_, i) => [224, 172, 140][i % 3]!)],
  ];

  // InceptionV3 (94 BatchNorms, Activation layers, pooling, Concatenate) takes a few seconds to load twice.
  it.each<[NsfwModelName, number, number]>([
    ['MobileNetV2', 52, 35 + 5],
    ['InceptionV3', 94, 94],
  ])('%s gives nsfwjs’ own scores', { timeout: 60_000 }, async (name, folded, fusedLayers) => {
    const reference = await loadBundledModel(name, { execution: 'nsfwjs' });
    const fused = await loadBundledModel(name);
    try {
      expect([fused.execution, fused.foldedBatchNorms, fused.fusedLayers]).toEqual(['fused', folded, fusedLayers]);
      expect(reference.execution).toBe('nsfwjs');
      for (const [label, make] of images) {
        const pixels = make(fused.inputSize ** 2 * 3);
        const [a, b] = [await reference.classify(pixels), await fused.classify(pixels)];
        expect(maxDifference(Object.values(a), Object.values(b)), label).toBeLessThan(1e-4);
      }
    } finally {
      reference.dispose();
      fused.dispose();
    }
  });
});
