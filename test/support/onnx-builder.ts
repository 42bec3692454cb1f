import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** ONNX element types used by the fixtures. */
export const FLOAT = 1;
export const INT64 = 7;
export const FLOAT16 = 10;

type Dim = number | string;
type AttributeValue = number | readonly number[] | string | { readonly floats: readonly number[] };

/**
 * A small ONNX graph builder for test fixtures (built with onnx-proto, run with onnxruntime-node), so the
 * pipelines are tested against real graphs with the model contract's exact tensor names and shapes.
 */
export class GraphBuilder {
  readonly #nodes: onnxProto.onnx.INodeProto[] = [];
  readonly #initializers: onnxProto.onnx.ITensorProto[] = [];
  readonly #inputs: onnxProto.onnx.IValueInfoProto[] = [];
  readonly #outputs: onnxProto.onnx.IValueInfoProto[] = [];
  #counter = 0;

  #valueInfo(name: string, elemType: number, dims: readonly Dim[]): onnxProto.onnx.IValueInfoProto {
    return {
      name,
      type: {
        tensorType: {
          elemType,
          shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
        },
      },
    };
  }

  input(name: string, elemType: number, dims: readonly Dim[]): string {
    this.#inputs.push(this.#valueInfo(name, elemType, dims));
    return name;
  }

  output(name: string, elemType: number, dims: readonly Dim[]): void {
    this.#outputs.push(this.#valueInfo(name, elemType, dims));
  }

  /** A float32 initializer. */
  constant(values: ArrayLike<number>, dims: readonly number[]): string {
    const name = `c${this.#counter++}`;
    const data = Float32Array.from(values as ArrayLike<number>);
    this.#initializers.push({ name, dims: [...dims], dataType: FLOAT, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  int64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const name = `c${this.#counter++}`;
    const data = BigInt64Array.from(values, (v) => BigInt(v));
    this.#initializers.push({ name, dims: [...dims], dataType: INT64, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  op(opType: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}, output?: string): string {
    const out = output ?? `t${this.#counter++}`;
    const attribute = Object.entries(attributes).map(([name, value]): onnxProto.onnx.IAttributeProto => {
      if (typeof value === 'string') return { name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(value) };
      if (typeof value === 'number') {
        return Number.isInteger(value) ? { name, type: onnx.AttributeProto.AttributeType.INT, i: value } : { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: value };
      }
      if ('floats' in value) return { name, type: onnx.AttributeProto.AttributeType.FLOATS, floats: [...value.floats] };
      return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: [...(value as readonly number[])] };
    });
    this.#nodes.push({ opType, input: [...inputs], output: [out], attribute, name: `n${this.#nodes.length}` });
    return out;
  }

  build(opset = 17): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'zimage-bot test fixtures',
      opsetImport: [{ domain: '', version: opset }],
      graph: { name: 'fixture', node: this.#nodes, initializer: this.#initializers, input: this.#inputs, output: this.#outputs },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
