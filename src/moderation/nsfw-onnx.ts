import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { NSFW_INPUT_SIZE, type NsfwModelName } from './config.ts';
import { ModerationSetupError } from './errors.ts';
import type { LoadNsfwRunner } from './nsfw-protocol.ts';
import type { NsfwClass, NsfwScores } from './verdict.ts';

/**
 * nsfwjs' models as ONNX graphs (models/nsfw, built from the files nsfwjs ships by tools/nsfw-onnx/convert.ts and
 * held to nsfwjs' own scores by nsfw-parity.test.ts), run by onnxruntime, which folds the BatchNorms and fuses the
 * paddings and activations into the convolutions when it loads a graph.
 */
const NSFW_MODEL_DIR = fileURLToPath(new URL('../../models/nsfw/', import.meta.url));

const FILES: Readonly<Record<NsfwModelName, string>> = {
  MobileNetV2: 'mobilenet_v2.onnx',
  MobileNetV2Mid: 'mobilenet_v2_mid.onnx',
  InceptionV3: 'inception_v3.onnx',
};

/** The order of the graphs' output (nsfwjs' NSFW_CLASSES). */
const CLASS_ORDER: readonly NsfwClass[] = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'];
const INPUT = 'image';
const OUTPUT = 'probabilities';

/**
 * One thread. Measured on two cores: MobileNetV2 runs fastest on one (4.1 ms an image; 4.8 ms on two, 8.2 ms with
 * the pool's threads spinning), and MobileNetV2Mid gains little from two (6.3 against 7.8 ms for 1.5× the CPU).
 * InceptionV3 would (33 against 60 ms) but takes both cores to do it; on one, the classifier never takes a core
 * from the inference worker.
 */
const INTRA_OP_THREADS = 1;

function nsfwModelFile(name: NsfwModelName): string {
  const file = FILES[name];
  if (file === undefined) throw new ModerationSetupError(`Unknown NSFW model ${JSON.stringify(name)}`);
  return `${NSFW_MODEL_DIR}${file}`;
}

function checkPixels(pixels: Uint8Array, size: number): void {
  if (pixels.length !== size * size * 3) throw new Error(`Expected ${size}×${size}×3 pixels, got ${pixels.length} bytes`);
}

/** Opens one model on onnxruntime's CPU provider (the classifier thread's default runner). */
export const loadNsfwRunner: LoadNsfwRunner = async (name) => {
  const file = nsfwModelFile(name);
  const size = NSFW_INPUT_SIZE[name];
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(file, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: INTRA_OP_THREADS,
      interOpNumThreads: 1,
      logSeverityLevel: 3,
    });
  } catch (error) {
    throw new ModerationSetupError(`Cannot load the NSFW model ${name} (${file}): ${(error as Error).message}`);
  }
  if (!session.inputNames.includes(INPUT) || !session.outputNames.includes(OUTPUT)) {
    await session.release();
    throw new ModerationSetupError(`${file} is not an NSFW classifier graph: it needs input "${INPUT}" and output "${OUTPUT}"`);
  }
  return {
    inputSize: size,
    execution: 'onnx',
    backend: 'onnxruntime-cpu',
    classify: async (pixels) => {
      checkPixels(pixels, size);
      // nsfwjs' preprocessing: bytes scaled to [0, 1], NHWC, a batch of one (the graph transposes to NCHW itself).
      const input = new Float32Array(pixels.length);
      for (let i = 0; i < pixels.length; i++) input[i] = pixels[i]! / 255;
      const result = await session.run({ [INPUT]: new ort.Tensor('float32', input, [1, size, size, 3]) }, [OUTPUT]);
      const values = result[OUTPUT]!.data as Float32Array;
      return Object.fromEntries(CLASS_ORDER.map((cls, i) => [cls, values[i] ?? Number.NaN])) as NsfwScores;
    },
    dispose: () => void session.release(),
  };
};
