// A classifier-thread runner module (NsfwClassifier's `runner` option) for the fault tests: the real ONNX model, but
// the thread dies (process.exit inside a worker thread ends that thread only) on every CRASH_EVERY-th image after the
// start-up warm-up, with the image in flight — as a classifier thread that crashes under load would.
import { loadNsfwRunner as loadOnnx } from '../../src/moderation/nsfw-onnx.ts';
import type { LoadNsfwRunner } from '../../src/moderation/nsfw-protocol.ts';

const CRASH_EVERY = 4;

export const loadNsfwRunner: LoadNsfwRunner = async (model) => {
  const runner = await loadOnnx(model);
  let images = -1;
  return {
    ...runner,
    execution: 'onnx, crashing',
    classify: async (pixels) => {
      images += 1;
      if (images > 0 && images % CRASH_EVERY === 0) process.exit(9);
      return runner.classify(pixels);
    },
  };
};
