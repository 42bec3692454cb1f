// node --import tsx tools/nsfw-onnx/convert.ts [--out models/nsfw] [MobileNetV2 MobileNetV2Mid InceptionV3]
//
// Builds the ONNX graphs the NSFW classifier runs from the models nsfwjs ships in its npm package (topology and
// uint8 weights as stored there; nothing is downloaded, nothing retrained). The graph's input is the image exactly
// as nsfwjs' infer feeds its model (RGB bytes / 255, NHWC, [batch, size, size, 3]); its output the five class
// probabilities in nsfwjs' class order. Prints one JSON line per model. src/moderation/nsfw-parity.test.ts holds the
// result to nsfwjs' own scores.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { convertGraphModel } from './from-graph.ts';
import { convertLayersModel, type ConvertedGraph } from './from-layers.ts';
import { nsfwjsClassNames, readBundledModel } from './nsfwjs-bundle.ts';
import { OnnxGraph } from './onnx-graph.ts';

/** The configurable model names (src/moderation/config.ts) and their folder in nsfwjs' dist/models. */
const MODELS: Readonly<Record<string, string>> = { MobileNetV2: 'mobilenet_v2', MobileNetV2Mid: 'mobilenet_v2_mid', InceptionV3: 'inception_v3' };

const INPUT_NAME = 'image';
const OUTPUT_NAME = 'probabilities';

const { values: args, positionals } = parseArgs({ allowPositionals: true, options: { out: { type: 'string', default: 'models/nsfw' } } });

const classNames = nsfwjsClassNames();

function convert(name: string, folder: string): { bytes: Uint8Array; converted: ConvertedGraph; nsfwjsVersion: string; format: string } {
  const bundle = readBundledModel(folder);
  const graph = new OnnxGraph();
  const names = { input: INPUT_NAME, output: OUTPUT_NAME };
  const converted =
    bundle.format === 'graph-model'
      ? convertGraphModel(graph, bundle.topology, bundle.weights, names)
      : convertLayersModel(graph, bundle.topology, bundle.weights, names);
  if (converted.classes !== classNames.length) throw new Error(`${name} has ${converted.classes} outputs; nsfwjs names ${classNames.length} classes`);
  graph.output(OUTPUT_NAME, ['batch', converted.classes], `class probabilities: ${classNames.join(', ')}`);
  const bytes = graph.build({
    name,
    docString: `nsfwjs ${bundle.nsfwjsVersion} ${name} (dist/models/${folder}, a tfjs ${bundle.format}), converted by tools/nsfw-onnx/convert.ts`,
    properties: {
      source: `nsfwjs@${bundle.nsfwjsVersion} dist/models/${folder}`,
      licence: 'MIT (nsfwjs, Copyright (c) 2019 Infinite Red, Inc.)',
      input: `${INPUT_NAME}: float32 [batch, ${converted.inputSize}, ${converted.inputSize}, 3], RGB bytes / 255 (NHWC)`,
      classes: classNames.join(','),
    },
  });
  return { bytes, converted, nsfwjsVersion: bundle.nsfwjsVersion, format: bundle.format };
}

const chosen = positionals.length > 0 ? positionals : Object.keys(MODELS);
mkdirSync(args.out, { recursive: true });
for (const name of chosen) {
  const folder = MODELS[name];
  if (!folder) throw new Error(`Unknown model ${name}; one of ${Object.keys(MODELS).join(', ')}`);
  const { bytes, converted, nsfwjsVersion, format } = convert(name, folder);
  const file = join(args.out, `${folder}.onnx`);
  writeFileSync(file, bytes);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  process.stdout.write(`${JSON.stringify({ model: name, file: relative(process.cwd(), file), bytes: bytes.length, sha256, nsfwjs: nsfwjsVersion, format, inputSize: converted.inputSize })}\n`);
}
