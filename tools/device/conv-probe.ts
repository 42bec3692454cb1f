// onnxruntime's Conv on a provider against the CPU provider's, on single convolutions of several input-channel counts:
// the smallest reproduction of the WebGPU result that made tools/mini/export.py widen the mini UNet's first conv (18
// input channels came out wrong on an NVIDIA H200 over Vulkan with onnxruntime-node 1.30; 16, 17, 19, 20 right).
// Prints one JSON array: per shape, the largest difference relative to the CPU output's largest magnitude.
//   node --import tsx tools/device/conv-probe.ts [webgpu]
import * as ort from 'onnxruntime-node';
import { FLOAT, GraphBuilder } from '../../test/support/onnx-builder.ts';
import { difference, noise } from './arrays.ts';

const provider = process.argv[2] ?? 'webgpu';

/** [input channels, kernel side, height = width, output channels, input made by a Concat as in the mini UNet] */
const SHAPES: readonly [number, number, number, number, boolean][] = [
  [3, 3, 16, 64, false], [4, 3, 16, 64, false], [8, 3, 16, 64, false], [16, 3, 16, 64, false], [17, 3, 16, 64, false],
  [18, 3, 16, 64, true], [18, 3, 32, 64, false], [18, 3, 16, 32, false], [18, 1, 16, 64, false], [19, 3, 16, 64, false],
  [20, 3, 16, 64, false], [24, 3, 16, 64, false], [34, 3, 16, 64, false], [64, 3, 16, 64, false], [66, 3, 8, 128, false],
];

const rows: unknown[] = [];
for (const [cin, k, side, cout, viaConcat] of SHAPES) {
  const g = new GraphBuilder();
  const input = g.input('x', FLOAT, [2, cin, side, side]);
  const x = viaConcat
    ? g.op('Concat', [g.op('Slice', [input, g.int64([0]), g.int64([16]), g.int64([1])]), g.op('Slice', [input, g.int64([16]), g.int64([cin]), g.int64([1])])], { axis: 1 })
    : input;
  const w = g.constant(noise(cout * cin * k * k, 7), [cout, cin, k, k]);
  const b = g.constant(noise(cout, 8), [cout]);
  const half = (k - 1) / 2;
  g.output(g.op('Conv', [x, w, b], { kernel_shape: [k, k], pads: [half, half, half, half] }, 'y'), FLOAT, [2, cout, side, side]);
  const bytes = Buffer.from(g.build());
  const feeds = { x: new ort.Tensor('float32', noise(2 * cin * side * side, 3), [2, cin, side, side]) };
  const outputs: Float32Array[] = [];
  for (const p of ['cpu', provider]) {
    const session = await ort.InferenceSession.create(bytes, { executionProviders: [p], logSeverityLevel: 3 });
    outputs.push(Float32Array.from((await session.run(feeds)).y!.data as Float32Array));
    await session.release();
  }
  rows.push({ cin, k, side, cout, viaConcat, relMax: Number(difference(outputs[0]!, outputs[1]!).relMax.toExponential(2)) });
}
console.log(JSON.stringify(rows));
