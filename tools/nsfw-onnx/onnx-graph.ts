// A small ONNX graph writer for the converters: named nodes and tensors (so the graph reads like the model it came
// from), uint8 weights kept as nsfwjs ships them and dequantised inside the graph, which onnxruntime folds to
// float32 constants when it loads the session.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export const FLOAT = 1;
const UINT8 = 2;
const INT64 = 7;

/** A number is an INT attribute when it is an integer; `{ float }` forces FLOAT (an epsilon of 1 stays a float). */
type AttributeValue = number | { readonly float: number } | readonly number[] | string;

export interface GraphMetadata {
  readonly name: string;
  readonly docString: string;
  readonly properties: Readonly<Record<string, string>>;
}

export class OnnxGraph {
  readonly #nodes: onnxProto.onnx.INodeProto[] = [];
  readonly #initializers: onnxProto.onnx.ITensorProto[] = [];
  readonly #inputs: onnxProto.onnx.IValueInfoProto[] = [];
  readonly #outputs: onnxProto.onnx.IValueInfoProto[] = [];
  readonly #names = new Set<string>();

  /** A name not used yet, based on `base`. */
  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.#names.has(name); i++) name = `${base}_${i}`;
    this.#names.add(name);
    return name;
  }

  #valueInfo(name: string, dims: readonly (number | string)[], docString: string): onnxProto.onnx.IValueInfoProto {
    return {
      name,
      docString,
      type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
    };
  }

  input(name: string, dims: readonly (number | string)[], docString: string): string {
    this.#names.add(name);
    this.#inputs.push(this.#valueInfo(name, dims, docString));
    return name;
  }

  output(name: string, dims: readonly (number | string)[], docString: string): void {
    this.#outputs.push(this.#valueInfo(name, dims, docString));
  }

  floats(base: string, values: ArrayLike<number>, dims: readonly number[]): string {
    const name = this.fresh(base);
    const data = Float32Array.from(values);
    this.#initializers.push({ name, dims: [...dims], dataType: FLOAT, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  int64s(base: string, values: readonly number[]): string {
    const name = this.fresh(base);
    const data = BigInt64Array.from(values, (v) => BigInt(v));
    this.#initializers.push({ name, dims: [values.length], dataType: INT64, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  /**
   * A float32 weight stored as its uint8 codes: value = codes · scale + min, computed by Cast → Mul → Add on
   * constants, which onnxruntime's constant folding turns into one float32 initializer at load time.
   */
  quantized(base: string, codes: Uint8Array, dims: readonly number[], min: number, scale: number): string {
    const stored = this.fresh(`${base}/codes`);
    this.#initializers.push({ name: stored, dims: [...dims], dataType: UINT8, rawData: codes });
    const asFloat = this.op('Cast', [stored], { to: FLOAT }, `${base}/float`);
    const scaled = this.op('Mul', [asFloat, this.floats(`${base}/scale`, [scale], [])], {}, `${base}/scaled`);
    return this.op('Add', [scaled, this.floats(`${base}/min`, [min], [])], {}, base);
  }

  /** Adds a node; its one output is named after `base`. */
  op(opType: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}, base: string = opType): string {
    const output = this.fresh(base);
    const attribute = Object.entries(attributes).map(([name, value]): onnxProto.onnx.IAttributeProto => {
      if (typeof value === 'string') return { name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(value) };
      if (typeof value === 'number') {
        return Number.isInteger(value) ? { name, type: onnx.AttributeProto.AttributeType.INT, i: value } : { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: value };
      }
      if ('float' in value) return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: value.float };
      return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: [...value] };
    });
    this.#nodes.push({ opType, input: [...inputs], output: [output], attribute, name: output });
    return output;
  }

  build(metadata: GraphMetadata, opset = 17): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'zimage-bot tools/nsfw-onnx',
      docString: metadata.docString,
      opsetImport: [{ domain: '', version: opset }],
      metadataProps: Object.entries(metadata.properties).map(([key, value]) => ({ key, value })),
      graph: { name: metadata.name, node: this.#nodes, initializer: this.#initializers, input: this.#inputs, output: this.#outputs },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
