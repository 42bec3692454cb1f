// A tfjs 'graph-model' (a TensorFlow GraphDef in JSON, already fused by the tfjs converter) as an ONNX graph. Only
// the ops nsfwjs' MobileNetV2Mid uses are known; any other op is an error naming it.
import type { ConvertedGraph } from './from-layers.ts';
import { conv2d, dense, depthwiseConv2d, imageInput, pool, relu6, type ConvOptions, type Padding } from './nchw-ops.ts';
import type { QuantizedWeight } from './nsfwjs-bundle.ts';
import type { OnnxGraph } from './onnx-graph.ts';

interface AttrValue {
  readonly s?: string;
  readonly i?: string;
  readonly b?: boolean;
  readonly list?: { readonly i?: readonly string[]; readonly s?: readonly string[] };
  readonly shape?: { readonly dim?: readonly { readonly size: string }[] };
}

interface GraphNode {
  readonly name: string;
  readonly op: string;
  readonly input?: readonly string[];
  readonly attr?: Readonly<Record<string, AttrValue>>;
}

/** A tensor in the graph being built: its rank (4: NCHW image tensors) or a constant not yet emitted. */
type Value = { readonly kind: 'tensor'; readonly name: string; readonly rank: number } | { readonly kind: 'const'; readonly weight: QuantizedWeight };

const text = (base64: string): string => Buffer.from(base64, 'base64').toString('utf8');

function attr(node: GraphNode, key: string): AttrValue {
  const value = node.attr?.[key];
  if (!value) throw new Error(`${node.name}: no attribute ${key}`);
  return value;
}

const strings = (node: GraphNode, key: string): string[] => (attr(node, key).list?.s ?? []).map(text);
const ints = (node: GraphNode, key: string): number[] => (attr(node, key).list?.i ?? []).map(Number);

/** NHWC [1, h, w, 1] attributes (strides, dilations, ksize) as ONNX's [h, w]. */
function spatial(node: GraphNode, key: string): [number, number] {
  const [n, h, w, c] = ints(node, key);
  if (n !== 1 || c !== 1 || h === undefined || w === undefined) throw new Error(`${node.name}: ${key} ${JSON.stringify(ints(node, key))}`);
  return [h, w];
}

function nhwcOnly(node: GraphNode): void {
  const format = node.attr?.data_format?.s;
  if (format !== undefined && text(format) !== 'NHWC') throw new Error(`${node.name}: data_format ${text(format)}`);
}

function paddingOf(node: GraphNode): Padding {
  const padding = text(attr(node, 'padding').s ?? '');
  if (padding === 'SAME') return 'same';
  if (padding === 'VALID') return 'valid';
  throw new Error(`${node.name}: padding ${padding}`);
}

export function convertGraphModel(graph: OnnxGraph, topology: unknown, weights: ReadonlyMap<string, QuantizedWeight>, names: { input: string; output: string }): ConvertedGraph {
  const nodes = (topology as { node?: readonly GraphNode[] }).node;
  if (!Array.isArray(nodes)) throw new Error('Not a TensorFlow graph: no node list');
  const values = new Map<string, Value>();
  const used = new Set<string>();
  let input: string | undefined;
  let inputSize = 0;
  let classes = 0;
  let output: string | undefined;

  const read = (node: GraphNode, index: number): Value => {
    const source = node.input?.[index];
    const value = source === undefined ? undefined : values.get(source.replace(/:0$/, ''));
    if (!value) throw new Error(`${node.name}: input ${index} (${source}) is not built yet`);
    return value;
  };
  const tensor = (node: GraphNode, index: number): { name: string; rank: number } => {
    const value = read(node, index);
    if (value.kind === 'tensor') return value;
    used.add(value.weight.name);
    return { name: graph.quantized(value.weight.name, value.weight.codes, value.weight.shape, value.weight.min, value.weight.scale), rank: value.weight.shape.length };
  };
  const constant = (node: GraphNode, index: number): QuantizedWeight => {
    const value = read(node, index);
    if (value.kind !== 'const') throw new Error(`${node.name}: input ${index} must be a constant`);
    used.add(value.weight.name);
    return value.weight;
  };
  /** The fused ops after a convolution or MatMul: BiasAdd first, then at most one activation. */
  const fused = (node: GraphNode): { activation: string | undefined } => {
    const ops = strings(node, 'fused_ops');
    if (ops[0] !== 'BiasAdd' || ops.length > 2 || Number(attr(node, 'num_args').i) !== 1) throw new Error(`${node.name}: fused ops ${ops.join(', ')}`);
    return { activation: ops[1] };
  };
  const activate = (node: GraphNode, value: string, activation: string | undefined): string => {
    if (activation === undefined) return value;
    if (activation === 'Relu6') return relu6(graph, `${node.name}/Relu6`, value);
    if (activation === 'Relu') return graph.op('Relu', [value], {}, `${node.name}/Relu`);
    throw new Error(`${node.name}: fused activation ${activation}`);
  };
  const set = (node: GraphNode, name: string, rank: number): void => void values.set(node.name, { kind: 'tensor', name, rank });

  for (const node of nodes) {
    switch (node.op) {
      case 'Const': {
        const weight = weights.get(node.name);
        if (!weight) throw new Error(`${node.name}: a constant without weight data`);
        values.set(node.name, { kind: 'const', weight });
        break;
      }
      case 'Placeholder': {
        if (input !== undefined) throw new Error(`${node.name}: a second input`);
        const dims = (attr(node, 'shape').shape?.dim ?? []).map((d) => Number(d.size));
        if (dims.length !== 4 || dims[1] !== dims[2] || dims[3] !== 3) throw new Error(`${node.name}: input shape ${JSON.stringify(dims)}`);
        inputSize = dims[1]!;
        input = names.input;
        set(node, imageInput(graph, names.input, inputSize), 4);
        break;
      }
      case 'Mul':
      case 'Sub':
      case 'AddV2': {
        const a = tensor(node, 0);
        const b = tensor(node, 1);
        // Element-wise with a scalar or a same-shaped tensor: the layout does not matter.
        if (a.rank !== 0 && b.rank !== 0 && a.rank !== b.rank) throw new Error(`${node.name}: ${node.op} of rank ${a.rank} and ${b.rank}`);
        const op = node.op === 'AddV2' ? 'Add' : node.op;
        set(node, graph.op(op, [a.name, b.name], {}, node.name), Math.max(a.rank, b.rank));
        break;
      }
      case '_FusedConv2D':
      case 'FusedDepthwiseConv2dNative': {
        nhwcOnly(node);
        if (node.attr?.explicit_paddings?.list?.i?.length) throw new Error(`${node.name}: explicit paddings`);
        const { activation } = fused(node);
        const options: ConvOptions = { strides: spatial(node, 'strides'), dilations: spatial(node, 'dilations'), padding: paddingOf(node) };
        const build = node.op === '_FusedConv2D' ? conv2d : depthwiseConv2d;
        const conv = build(graph, node.name, tensor(node, 0).name, constant(node, 1), constant(node, 2), options);
        set(node, activate(node, conv, activation), 4);
        break;
      }
      case 'AvgPool':
      case 'MaxPool': {
        nhwcOnly(node);
        set(node, pool(graph, node.name, node.op === 'AvgPool' ? 'average' : 'max', tensor(node, 0).name, spatial(node, 'ksize'), spatial(node, 'strides'), paddingOf(node)), 4);
        break;
      }
      case 'Squeeze': {
        // NHWC's spatial axes 1, 2 are NCHW's 2, 3.
        const axes = ints(node, 'squeeze_dims');
        const source = tensor(node, 0);
        if (source.rank !== 4 || axes.join() !== '1,2') throw new Error(`${node.name}: Squeeze ${JSON.stringify(axes)} of a rank-${source.rank} tensor`);
        set(node, graph.op('Squeeze', [source.name, graph.int64s(`${node.name}/axes`, [2, 3])], {}, node.name), 2);
        break;
      }
      case '_FusedMatMul': {
        if (attr(node, 'transpose_a').b || attr(node, 'transpose_b').b) throw new Error(`${node.name}: a transposed MatMul`);
        const { activation } = fused(node);
        const kernel = constant(node, 1);
        classes = kernel.shape[1]!;
        set(node, activate(node, dense(graph, node.name, tensor(node, 0).name, kernel, constant(node, 2)), activation), 2);
        break;
      }
      case 'Softmax': {
        const source = tensor(node, 0);
        if (source.rank !== 2) throw new Error(`${node.name}: Softmax of a rank-${source.rank} tensor`);
        set(node, graph.op('Softmax', [source.name], { axis: -1 }, node.name), 2);
        break;
      }
      case 'Identity': {
        if (output !== undefined) throw new Error(`${node.name}: a second output`);
        const source = tensor(node, 0);
        output = graph.op('Identity', [source.name], {}, names.output);
        set(node, output, source.rank);
        break;
      }
      default:
        throw new Error(`${node.name}: the converter does not know the TensorFlow op ${node.op}`);
    }
  }

  const unused = [...weights.keys()].filter((name) => !used.has(name));
  if (unused.length > 0) throw new Error(`Constants no op reads: ${unused.join(', ')}`);
  if (input === undefined || output === undefined) throw new Error('The graph has no Placeholder input or no Identity output');
  return { input, output, inputSize, classes };
}
