import * as tf from '@tensorflow/tfjs';
import { ModerationSetupError } from './errors.ts';
import type { WeightMap } from './fold-batch-norm.ts';
import { modelConfigOf, readersOf, type KerasLayer, type KerasModelConfig } from './keras-topology.ts';

/**
 * Runs a Keras layers model (nsfwjs' MobileNetV2 and InceptionV3, after foldBatchNorms) as a flat list of tfjs ops
 * instead of through tfjs-layers. The point is fusion the layers runtime cannot do: it runs a ReLU6 layer as relu
 * then clip (two more passes over every activation) and a depthwise convolution's bias as a separate add. Here a
 * convolution's bias and the ReLU/ReLU6 that is its only reader run inside its one XNNPACK kernel, and a
 * ZeroPadding2D in front of a 'valid' convolution becomes that convolution's explicit padding. On MobileNetV2 that
 * drops 35 relu and 35 clip passes, 17 bias adds and 5 pads per image, and with the folded BatchNorms the image
 * costs less than half of what nsfwjs' own execution of the shipped model does (`npm run bench:moderation --
 * --compare`); the scores are nsfwjs' to 1e-4 (fused-layers.test.ts).
 */
export interface FusedLayersModel {
  /** Steps per image, mostly one kernel each (fused-away layers and identities take none). */
  readonly ops: number;
  /** Activation layers folded into the convolution or dense layer in front of them. */
  readonly fusedActivations: number;
  /** Paddings folded into the convolution after them. */
  readonly fusedPaddings: number;
  /** One forward pass; call inside tf.tidy (the intermediate tensors are not disposed here). */
  predict(input: tf.Tensor4D): tf.Tensor;
  dispose(): void;
}

/** What the fused kernels can apply after their bias. */
type FusedActivation = 'linear' | 'relu' | 'relu6';

interface Step {
  readonly inputs: readonly string[];
  readonly output: string;
  readonly run: (inputs: tf.Tensor[]) => tf.Tensor;
}

type Padding = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

const unsupported = (layer: KerasLayer, why: string): ModerationSetupError =>
  new ModerationSetupError(`Cannot run the classifier's layer '${layer.name}' (${layer.class_name}): ${why}`);

function paddingOf(layer: KerasLayer): 'same' | 'valid' {
  const padding = layer.config.padding ?? 'valid';
  if (padding !== 'same' && padding !== 'valid') throw unsupported(layer, `padding ${JSON.stringify(padding)}`);
  return padding;
}

function functionalModel(topology: unknown): KerasModelConfig {
  const config = modelConfigOf(topology);
  if (!config) throw new ModerationSetupError('The classifier model is not a Keras functional model (no layers, inputs or outputs)');
  if (config.input_layers.length !== 1 || config.output_layers.length !== 1) {
    throw new ModerationSetupError('The classifier model must have exactly one input and one output');
  }
  return config;
}

/** The names a layer reads: one call, each input the first tensor of its layer's first call. */
function inputsOf(layer: KerasLayer): string[] {
  if (layer.inbound_nodes.length > 1) throw unsupported(layer, 'shared layers (called more than once) are not supported');
  const node = layer.inbound_nodes[0] ?? [];
  for (const ref of node) if (ref[1] !== 0 || ref[2] !== 0) throw unsupported(layer, 'it reads a multi-output layer');
  return node.map((ref) => ref[0]);
}

const pair = (value: unknown, layer: KerasLayer, key: string): [number, number] => {
  const v = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(v) || v.length !== 2 || !v.every((n) => Number.isInteger(n) && n >= 0)) {
    throw unsupported(layer, `${key} ${JSON.stringify(value)} is not a pair of integers`);
  }
  return [v[0] as number, v[1] as number];
};

function channelsLast(layer: KerasLayer): void {
  const format = layer.config.data_format ?? 'channels_last';
  if (format !== 'channels_last') throw unsupported(layer, `data_format ${String(format)}`);
}

/** A ReLU or Activation layer as a fused kernel's activation, or undefined when it is something else. */
function asFusedActivation(layer: KerasLayer): FusedActivation | undefined {
  if (layer.class_name === 'Activation') {
    const name = layer.config.activation;
    return name === 'relu' || name === 'relu6' || name === 'linear' ? name : undefined;
  }
  if (layer.class_name !== 'ReLU') return undefined;
  const { max_value: max, negative_slope: slope = 0, threshold = 0 } = layer.config;
  if (slope !== 0 || threshold !== 0) return undefined;
  if (max === null || max === undefined) return 'relu';
  return max === 6 ? 'relu6' : undefined;
}

function activationFn(name: unknown, layer: KerasLayer): (x: tf.Tensor) => tf.Tensor {
  switch (name ?? 'linear') {
    case 'linear':
      return (x) => x;
    case 'relu':
      return (x) => tf.relu(x);
    case 'relu6':
      return (x) => tf.relu6(x);
    case 'softmax':
      return (x) => tf.softmax(x);
    case 'sigmoid':
      return (x) => tf.sigmoid(x);
    case 'tanh':
      return (x) => tf.tanh(x);
    default:
      throw unsupported(layer, `activation ${JSON.stringify(name)}`);
  }
}

/** Compiles a topology and its (float32) weights; throws a ModerationSetupError naming a layer it cannot run. */
export function compileFusedLayers(topology: unknown, weights: WeightMap): FusedLayersModel {
  const model = functionalModel(topology);
  const byName = new Map(model.layers.map((layer) => [layer.name, layer]));
  const inputs = new Map(model.layers.map((layer) => [layer.name, inputsOf(layer)]));
  const readers = readersOf(model);
  /** The one layer that reads `name`, if exactly one does. */
  const soleReader = (name: string): KerasLayer | undefined => {
    const list = readers.get(name) ?? [];
    return list.length === 1 ? byName.get(list[0]!) : undefined;
  };

  const owned: tf.Tensor[] = [];
  const weight = (layer: KerasLayer, suffix: string, rank?: number): tf.Tensor => {
    const found = weights.get(`${layer.name}/${suffix}`);
    if (!found || (rank !== undefined && found.shape.length !== rank)) throw unsupported(layer, `weight ${suffix} missing or misshapen`);
    const tensor = tf.tensor(found.values, [...found.shape], 'float32');
    owned.push(tensor);
    return tensor;
  };

  const steps: Step[] = [];
  /** Layer name → the name whose value it is (identities, and activations fused into the layer in front). */
  const alias = new Map<string, string>();
  const resolve = (name: string): string => alias.get(name) ?? name;
  /** Layers already compiled into the step of an earlier one. */
  const absorbed = new Set<string>();
  let fusedActivations = 0;
  let fusedPaddings = 0;
  const defined = new Set<string>();
  /** Convolution name → the explicit padding of the ZeroPadding2D in front of it. */
  const explicitPadding = new Map<string, Padding>();

  /** The activation layer after `layer` that can run inside its kernel: its only reader, with nothing else reading. */
  const absorbActivation = (layer: KerasLayer): FusedActivation => {
    const next = soleReader(layer.name);
    const activation = next && asFusedActivation(next);
    if (!next || !activation) return 'linear';
    absorbed.add(next.name);
    alias.set(next.name, layer.name);
    if (activation !== 'linear') fusedActivations += 1;
    return activation;
  };

  /** A convolution's or dense layer's activation: its own, else the activation layer it can absorb. */
  const activationAfter = (layer: KerasLayer): { activation: FusedActivation; post: (x: tf.Tensor) => tf.Tensor } => {
    const own = layer.config.activation ?? 'linear';
    if (own === 'linear') return { activation: absorbActivation(layer), post: (x) => x };
    if (own === 'relu' || own === 'relu6') return { activation: own, post: (x) => x };
    return { activation: 'linear', post: activationFn(own, layer) };
  };

  try {
    for (const layer of model.layers) {
      if (absorbed.has(layer.name)) continue;
      const from = inputs.get(layer.name)!.map(resolve);
      for (const name of from) if (!defined.has(name)) throw unsupported(layer, `its input '${name}' comes later in the topology`);
      const add = (run: Step['run'], output = layer.name): void => {
        steps.push({ inputs: from, output, run });
        defined.add(output);
      };
      const c = layer.config;
      switch (layer.class_name) {
        case 'InputLayer':
          defined.add(layer.name);
          break;
        case 'Dropout':
          alias.set(layer.name, from[0]!);
          break;
        case 'ZeroPadding2D': {
          channelsLast(layer);
          const raw = c.padding ?? 1;
          const [top, bottom] = pair(Array.isArray(raw) ? raw[0] : raw, layer, 'padding');
          const [left, right] = pair(Array.isArray(raw) ? raw[1] : raw, layer, 'padding');
          const paddings: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [top, bottom], [left, right], [0, 0]];
          const next = soleReader(layer.name);
          const dilation = next && pair(next.config.dilation_rate ?? 1, next, 'dilation_rate');
          if (next && (next.class_name === 'Conv2D' || next.class_name === 'DepthwiseConv2D') && next.config.padding === 'valid' && dilation?.every((d) => d === 1)) {
            // The convolution after it takes the padding as its own (explicit) padding.
            alias.set(layer.name, from[0]!);
            explicitPadding.set(next.name, paddings);
            fusedPaddings += 1;
            break;
          }
          add(([x]) => tf.pad(x!, paddings));
          break;
        }
        case 'Conv2D':
        case 'DepthwiseConv2D': {
          channelsLast(layer);
          const depthwise = layer.class_name === 'DepthwiseConv2D';
          const filter = weight(layer, depthwise ? 'depthwise_kernel' : 'kernel', 4) as tf.Tensor4D;
          const bias = c.use_bias === true ? weight(layer, 'bias', 1) : undefined;
          const strides = pair(c.strides ?? 1, layer, 'strides');
          const dilations = pair(c.dilation_rate ?? 1, layer, 'dilation_rate');
          const pad: Padding = explicitPadding.get(layer.name) ?? paddingOf(layer);
          const { activation, post } = activationAfter(layer);
          const options = { filter, strides, pad, dilations, ...(bias ? { bias } : {}), activation };
          // tfjs types depthwise padding as 'same' | 'valid' | number, but its op and the wasm kernel take explicit
          // [top, bottom] / [left, right] pairs (computeConv2DInfo); the real-model test holds the scores to nsfwjs'.
          const depthwiseOptions = options as Omit<Parameters<typeof tf.fused.depthwiseConv2d>[0], 'x'>;
          add(([x]) => post(depthwise ? tf.fused.depthwiseConv2d({ ...depthwiseOptions, x: x as tf.Tensor4D }) : tf.fused.conv2d({ ...options, x: x as tf.Tensor4D })));
          break;
        }
        case 'Dense': {
          const kernel = weight(layer, 'kernel', 2) as tf.Tensor2D;
          const bias = c.use_bias === false ? undefined : weight(layer, 'bias', 1);
          const { activation, post } = activationAfter(layer);
          add(([x]) => {
            if (x!.rank !== 2) throw new Error(`Dense layer ${layer.name} expects a rank-2 input, got rank ${x!.rank}`);
            return post(tf.fused.matMul({ a: x as tf.Tensor2D, b: kernel, ...(bias ? { bias } : {}), activation }));
          });
          break;
        }
        case 'ReLU': {
          const { max_value: max, negative_slope: slope = 0, threshold = 0 } = c;
          if (slope !== 0 || threshold !== 0) throw unsupported(layer, 'a leaky or thresholded ReLU');
          if (max === null || max === undefined) add(([x]) => tf.relu(x!));
          else if (max === 6) add(([x]) => tf.relu6(x!));
          else if (typeof max === 'number') add(([x]) => tf.clipByValue(x!, 0, max));
          else throw unsupported(layer, `max_value ${JSON.stringify(max)}`);
          break;
        }
        case 'Activation': {
          const fn = activationFn(c.activation, layer);
          add(([x]) => fn(x!));
          break;
        }
        case 'BatchNormalization': {
          // One foldBatchNorms could not fold (nothing linear in front of it): inference-mode normalisation.
          const axis = c.axis;
          if (axis !== -1 && axis !== 3) throw unsupported(layer, `axis ${JSON.stringify(axis)}`);
          const mean = weight(layer, 'moving_mean', 1);
          const variance = weight(layer, 'moving_variance', 1);
          const gamma = c.scale === false ? undefined : weight(layer, 'gamma', 1);
          const beta = c.center === false ? undefined : weight(layer, 'beta', 1);
          const epsilon = typeof c.epsilon === 'number' ? c.epsilon : 1e-3;
          add(([x]) => tf.batchNorm(x!, mean, variance, beta, gamma, epsilon));
          break;
        }
        case 'Add':
          add((xs) => (xs.length === 2 ? tf.add(xs[0]!, xs[1]!) : tf.addN(xs)));
          break;
        case 'Concatenate': {
          const axis = c.axis ?? -1;
          if (axis !== -1 && axis !== 3) throw unsupported(layer, `axis ${JSON.stringify(axis)}`);
          add((xs) => tf.concat(xs, 3));
          break;
        }
        case 'MaxPooling2D':
        case 'AveragePooling2D': {
          channelsLast(layer);
          const size = pair(c.pool_size ?? 2, layer, 'pool_size');
          const strides = c.strides === null || c.strides === undefined ? size : pair(c.strides, layer, 'strides');
          const pad = paddingOf(layer);
          const pool = layer.class_name === 'MaxPooling2D' ? tf.maxPool : tf.avgPool;
          add(([x]) => pool(x as tf.Tensor4D, size, strides, pad));
          break;
        }
        case 'GlobalAveragePooling2D':
          channelsLast(layer);
          add(([x]) => tf.mean(x!, [1, 2]));
          break;
        case 'Flatten':
          channelsLast(layer);
          add(([x]) => tf.reshape(x!, [x!.shape[0]!, -1]));
          break;
        default:
          throw unsupported(layer, 'this layer type is not supported');
      }
    }
  } catch (error) {
    tf.dispose(owned);
    throw error;
  }

  const inputName = model.input_layers[0]![0];
  const outputName = resolve(model.output_layers[0]![0]);
  if (!defined.has(outputName)) {
    tf.dispose(owned);
    throw new ModerationSetupError(`The classifier model's output '${outputName}' is never computed`);
  }
  return {
    ops: steps.length,
    fusedActivations,
    fusedPaddings,
    predict(input) {
      const values = new Map<string, tf.Tensor>([[inputName, input]]);
      for (const step of steps) values.set(step.output, step.run(step.inputs.map((name) => values.get(name)!)));
      return values.get(outputName)!;
    },
    dispose: () => tf.dispose(owned),
  };
}
