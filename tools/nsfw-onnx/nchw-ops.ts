// The operations both converters emit, on NCHW tensors (ONNX's layout) from TensorFlow's NHWC weights.
import { transposeCodes, type QuantizedWeight } from './nsfwjs-bundle.ts';
import type { OnnxGraph } from './onnx-graph.ts';

export type Padding = 'same' | 'valid';

export interface ConvOptions {
  readonly strides: readonly [number, number];
  readonly dilations: readonly [number, number];
  readonly padding: Padding;
}

/**
 * TensorFlow's 'same' puts the odd pixel of padding after the image, as ONNX's SAME_UPPER does. 'valid' is no
 * padding at all, written as zero pads rather than auto_pad VALID: onnxruntime merges a Pad into the convolution
 * after it only when that convolution's auto_pad is NOTSET.
 */
function padAttributes(padding: Padding): { auto_pad: string } | { pads: number[] } {
  return padding === 'same' ? { auto_pad: 'SAME_UPPER' } : { pads: [0, 0, 0, 0] };
}

function checkShape(weight: QuantizedWeight, rank: number, what: string): void {
  if (weight.shape.length !== rank) throw new Error(`${weight.name}: a ${what} of shape [${weight.shape.join(', ')}]`);
}

function bias(graph: OnnxGraph, weight: QuantizedWeight | undefined, channels: number): string[] {
  if (!weight) return [];
  if (weight.shape.length !== 1 || weight.shape[0] !== channels) throw new Error(`${weight.name}: a bias of shape [${weight.shape.join(', ')}] for ${channels} channels`);
  return [graph.quantized(weight.name, weight.codes, weight.shape, weight.min, weight.scale)];
}

/** Conv2D: a [kh, kw, in, out] kernel becomes ONNX's [out, in, kh, kw]. */
export function conv2d(graph: OnnxGraph, name: string, input: string, kernel: QuantizedWeight, biasWeight: QuantizedWeight | undefined, options: ConvOptions): string {
  checkShape(kernel, 4, 'convolution kernel');
  const w = transposeCodes(kernel, [3, 2, 0, 1]);
  const weight = graph.quantized(kernel.name, w.codes, w.shape, kernel.min, kernel.scale);
  return graph.op(
    'Conv',
    [input, weight, ...bias(graph, biasWeight, w.shape[0]!)],
    { kernel_shape: w.shape.slice(2), strides: [...options.strides], dilations: [...options.dilations], ...padAttributes(options.padding) },
    name,
  );
}

/**
 * DepthwiseConv2D: a [kh, kw, in, multiplier] kernel is a grouped convolution with one group per input channel;
 * TensorFlow's output channel c·multiplier + m is ONNX's group c, filter m, so the kernel becomes [in·mult, 1, kh, kw].
 */
export function depthwiseConv2d(graph: OnnxGraph, name: string, input: string, kernel: QuantizedWeight, biasWeight: QuantizedWeight | undefined, options: ConvOptions): string {
  checkShape(kernel, 4, 'depthwise kernel');
  const [kh, kw, channels, multiplier] = kernel.shape as [number, number, number, number];
  const w = transposeCodes(kernel, [2, 3, 0, 1]);
  const weight = graph.quantized(kernel.name, w.codes, [channels * multiplier, 1, kh, kw], kernel.min, kernel.scale);
  return graph.op(
    'Conv',
    [input, weight, ...bias(graph, biasWeight, channels * multiplier)],
    { group: channels, kernel_shape: [kh, kw], strides: [...options.strides], dilations: [...options.dilations], ...padAttributes(options.padding) },
    name,
  );
}

/** Dense / MatMul: x [batch, in] · kernel [in, out] (+ bias). */
export function dense(graph: OnnxGraph, name: string, input: string, kernel: QuantizedWeight, biasWeight: QuantizedWeight | undefined): string {
  checkShape(kernel, 2, 'dense kernel');
  const weight = graph.quantized(kernel.name, kernel.codes, kernel.shape, kernel.min, kernel.scale);
  return graph.op('Gemm', [input, weight, ...bias(graph, biasWeight, kernel.shape[1]!)], {}, name);
}

export function pool(graph: OnnxGraph, name: string, kind: 'max' | 'average', input: string, size: readonly number[], strides: readonly number[], padding: Padding): string {
  // count_include_pad stays 0: TensorFlow averages over the pixels inside the image only.
  return graph.op(kind === 'max' ? 'MaxPool' : 'AveragePool', [input], { kernel_shape: [...size], strides: [...strides], ...padAttributes(padding) }, name);
}

/** min(max(x, 0), 6): Keras' ReLU(max_value=6) and TensorFlow's Relu6. */
export function relu6(graph: OnnxGraph, name: string, input: string): string {
  return graph.op('Clip', [input, graph.floats(`${name}/min`, [0], []), graph.floats(`${name}/max`, [6], [])], {}, name);
}

/** The image input: NHWC as nsfwjs feeds its models, transposed once to NCHW for every layer after it. */
export function imageInput(graph: OnnxGraph, name: string, size: number): string {
  const input = graph.input(name, ['batch', size, size, 3], `RGB, NHWC, ${size}×${size}, each byte divided by 255 (nsfwjs' own preprocessing)`);
  return graph.op('Transpose', [input], { perm: [0, 3, 1, 2] }, `${name}/nchw`);
}

/** Flattens an NCHW tensor in TensorFlow's NHWC element order, as the Dense layer after it was trained on. */
export function flattenNhwc(graph: OnnxGraph, name: string, input: string): string {
  const nhwc = graph.op('Transpose', [input], { perm: [0, 2, 3, 1] }, `${name}/nhwc`);
  return graph.op('Flatten', [nhwc], { axis: 1 }, name);
}
