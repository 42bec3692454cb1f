// A Keras functional model (tfjs 'layers-model', channels_last) as an ONNX graph: one or a few ONNX nodes per layer,
// nothing folded or fused here — onnxruntime does that when it loads the graph.
import { conv2d, dense, depthwiseConv2d, flattenNhwc, imageInput, pool, relu6, type ConvOptions, type Padding } from './nchw-ops.ts';
import type { QuantizedWeight } from './nsfwjs-bundle.ts';
import type { OnnxGraph } from './onnx-graph.ts';

interface KerasLayer {
  readonly name: string;
  readonly class_name: string;
  readonly config: Record<string, unknown>;
  readonly inbound_nodes: readonly (readonly (readonly [string, number, number, unknown])[])[];
}

interface KerasTopology {
  readonly model_config: {
    readonly class_name: string;
    readonly config: { readonly layers: readonly KerasLayer[]; readonly input_layers: readonly [string, number, number][]; readonly output_layers: readonly [string, number, number][] };
  };
}

/** A tensor in the graph being built, and its rank (4: NCHW image tensors, 2: [batch, features]). */
interface Value {
  readonly name: string;
  readonly rank: number;
}

export interface ConvertedGraph {
  readonly input: string;
  readonly output: string;
  readonly inputSize: number;
  readonly classes: number;
}

const pair = (value: unknown, what: string): [number, number] => {
  if (Array.isArray(value) && value.length === 2 && value.every((v) => Number.isInteger(v))) return [value[0] as number, value[1] as number];
  throw new Error(`${what}: expected two integers, got ${JSON.stringify(value)}`);
};

const paddingOf = (layer: KerasLayer): Padding => {
  const padding = layer.config.padding;
  if (padding === 'same' || padding === 'valid') return padding;
  throw new Error(`${layer.name}: padding ${JSON.stringify(padding)}`);
};

function checkChannelsLast(layer: KerasLayer): void {
  const format = layer.config.data_format;
  if (format !== undefined && format !== 'channels_last') throw new Error(`${layer.name}: data_format ${String(format)}`);
}

/** Keras' channel axis (-1 or 3 on an image tensor) in NCHW; -1 on a [batch, features] tensor stays 1. */
function channelAxis(layer: KerasLayer, axis: unknown, rank: number): number {
  if (rank === 4 && (axis === -1 || axis === 3)) return 1;
  if (rank === 2 && (axis === -1 || axis === 1)) return 1;
  throw new Error(`${layer.name}: axis ${JSON.stringify(axis)} on a rank-${rank} tensor`);
}

export function convertLayersModel(graph: OnnxGraph, topology: unknown, weights: ReadonlyMap<string, QuantizedWeight>, names: { input: string; output: string }): ConvertedGraph {
  const { model_config: modelConfig } = topology as KerasTopology;
  if (modelConfig?.class_name !== 'Model' && modelConfig?.class_name !== 'Functional') throw new Error(`Not a Keras functional model: ${modelConfig?.class_name}`);
  const { layers, input_layers: inputs, output_layers: outputs } = modelConfig.config;
  if (inputs.length !== 1 || outputs.length !== 1) throw new Error(`Expected one input and one output, got ${inputs.length} and ${outputs.length}`);

  const used = new Set<string>();
  const weight = (layer: KerasLayer, suffix: string): QuantizedWeight => {
    const found = weights.get(`${layer.name}/${suffix}`);
    if (!found) throw new Error(`${layer.name}: no weight ${layer.name}/${suffix}`);
    used.add(found.name);
    return found;
  };
  const optionalWeight = (layer: KerasLayer, suffix: string, present: boolean): QuantizedWeight | undefined => (present ? weight(layer, suffix) : undefined);

  const values = new Map<string, Value>();
  let inputSize = 0;
  let classes = 0;

  /** A layer's own activation (Conv2D, Dense): linear, relu or softmax. */
  const activation = (layer: KerasLayer, value: Value): Value => {
    const kind = layer.config.activation;
    if (kind === undefined || kind === 'linear') return value;
    if (kind === 'relu') return { name: graph.op('Relu', [value.name], {}, `${layer.name}/relu`), rank: value.rank };
    if (kind === 'softmax') return { name: graph.op('Softmax', [value.name], { axis: value.rank === 4 ? 1 : -1 }, `${layer.name}/softmax`), rank: value.rank };
    throw new Error(`${layer.name}: activation ${String(kind)}`);
  };

  for (const layer of layers) {
    if (layer.inbound_nodes.length > 1) throw new Error(`${layer.name}: a layer called more than once`);
    const inbound = (layer.inbound_nodes[0] ?? []).map(([name, nodeIndex, tensorIndex]) => {
      const value = values.get(name);
      if (!value || nodeIndex !== 0 || tensorIndex !== 0) throw new Error(`${layer.name}: reads ${name}[${nodeIndex}][${tensorIndex}], which is not built yet`);
      return value;
    });
    const only = (): Value => {
      if (inbound.length !== 1) throw new Error(`${layer.name}: ${layer.class_name} with ${inbound.length} inputs`);
      return inbound[0]!;
    };
    const config = layer.config;
    let out: Value;
    switch (layer.class_name) {
      case 'InputLayer': {
        const shape = config.batch_input_shape as (number | null)[];
        if (shape.length !== 4 || shape[1] !== shape[2] || shape[3] !== 3) throw new Error(`${layer.name}: input shape ${JSON.stringify(shape)}`);
        inputSize = shape[1]!;
        out = { name: imageInput(graph, names.input, inputSize), rank: 4 };
        break;
      }
      case 'ZeroPadding2D': {
        checkChannelsLast(layer);
        const [[top, bottom], [left, right]] = config.padding as [[number, number], [number, number]];
        out = { name: graph.op('Pad', [only().name, graph.int64s(`${layer.name}/pads`, [0, 0, top, left, 0, 0, bottom, right])], { mode: 'constant' }, layer.name), rank: 4 };
        break;
      }
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        checkChannelsLast(layer);
        const options: ConvOptions = { strides: pair(config.strides, layer.name), dilations: pair(config.dilation_rate, layer.name), padding: paddingOf(layer) };
        const useBias = config.use_bias === true;
        const conv =
          layer.class_name === 'Conv2D'
            ? conv2d(graph, layer.name, only().name, weight(layer, 'kernel'), optionalWeight(layer, 'bias', useBias), options)
            : depthwiseConv2d(graph, layer.name, only().name, weight(layer, 'depthwise_kernel'), optionalWeight(layer, 'bias', useBias), options);
        out = activation(layer, { name: conv, rank: 4 });
        break;
      }
      case 'BatchNormalization': {
        const input = only();
        channelAxis(layer, config.axis, input.rank);
        if (input.rank !== 4) throw new Error(`${layer.name}: BatchNormalization on a rank-${input.rank} tensor`);
        const variance = weight(layer, 'moving_variance');
        const channels = variance.shape[0]!;
        const q = (w: QuantizedWeight): string => graph.quantized(w.name, w.codes, w.shape, w.min, w.scale);
        const gamma = config.scale === false ? graph.floats(`${layer.name}/gamma`, new Float32Array(channels).fill(1), [channels]) : q(weight(layer, 'gamma'));
        const beta = config.center === false ? graph.floats(`${layer.name}/beta`, new Float32Array(channels), [channels]) : q(weight(layer, 'beta'));
        out = {
          name: graph.op('BatchNormalization', [input.name, gamma, beta, q(weight(layer, 'moving_mean')), q(variance)], { epsilon: { float: Number(config.epsilon) } }, layer.name),
          rank: 4,
        };
        break;
      }
      case 'ReLU': {
        const { max_value: max, negative_slope: slope, threshold } = config;
        if ((slope ?? 0) !== 0 || (threshold ?? 0) !== 0) throw new Error(`${layer.name}: ReLU with negative_slope ${String(slope)}, threshold ${String(threshold)}`);
        const input = only();
        if (max === 6) out = { name: relu6(graph, layer.name, input.name), rank: input.rank };
        else if (max === null || max === undefined) out = { name: graph.op('Relu', [input.name], {}, layer.name), rank: input.rank };
        else throw new Error(`${layer.name}: ReLU with max_value ${String(max)}`);
        break;
      }
      case 'Activation':
        out = activation(layer, only());
        break;
      case 'Add': {
        if (inbound.length < 2) throw new Error(`${layer.name}: Add of ${inbound.length} inputs`);
        out = { name: graph.op(inbound.length === 2 ? 'Add' : 'Sum', inbound.map((v) => v.name), {}, layer.name), rank: inbound[0]!.rank };
        break;
      }
      case 'Concatenate': {
        const rank = inbound[0]!.rank;
        out = { name: graph.op('Concat', inbound.map((v) => v.name), { axis: channelAxis(layer, config.axis, rank) }, layer.name), rank };
        break;
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        checkChannelsLast(layer);
        const size = pair(config.pool_size, layer.name);
        const strides = config.strides === null || config.strides === undefined ? size : pair(config.strides, layer.name);
        out = { name: pool(graph, layer.name, layer.class_name === 'MaxPooling2D' ? 'max' : 'average', only().name, size, strides, paddingOf(layer)), rank: 4 };
        break;
      }
      case 'GlobalAveragePooling2D': {
        checkChannelsLast(layer);
        const pooled = graph.op('GlobalAveragePool', [only().name], {}, `${layer.name}/pool`);
        out = { name: graph.op('Flatten', [pooled], { axis: 1 }, layer.name), rank: 2 };
        break;
      }
      case 'Flatten': {
        const input = only();
        out = input.rank === 2 ? input : { name: flattenNhwc(graph, layer.name, input.name), rank: 2 };
        break;
      }
      case 'Dense': {
        const input = only();
        if (input.rank !== 2) throw new Error(`${layer.name}: Dense on a rank-${input.rank} tensor`);
        const kernel = weight(layer, 'kernel');
        classes = kernel.shape[1]!;
        out = activation(layer, { name: dense(graph, layer.name, input.name, kernel, optionalWeight(layer, 'bias', config.use_bias === true)), rank: 2 });
        break;
      }
      case 'Dropout':
        // Inference: the identity.
        out = only();
        break;
      default:
        throw new Error(`${layer.name}: the converter does not know the Keras layer ${layer.class_name}`);
    }
    values.set(layer.name, out);
  }

  const unused = [...weights.keys()].filter((name) => !used.has(name));
  if (unused.length > 0) throw new Error(`Weights no layer reads: ${unused.join(', ')}`);
  const result = values.get(outputs[0]![0]);
  if (!result || result.rank !== 2) throw new Error(`The output layer ${outputs[0]![0]} is not a [batch, classes] tensor`);
  const output = graph.op('Identity', [result.name], {}, names.output);
  return { input: names.input, output, inputSize, classes };
}
