// A classifier-thread runner module (NsfwClassifier's `runner` option) for tests: the real ONNX model, slowed down.
// Every image after the start-up warm-up is classified REPEATS times over, so the thread spends seconds inside
// onnxruntime's native run — where worker.terminate() would abort the whole process — and overruns any short timeout.
import { loadNsfwRunner as loadOnnx } from '../../src/moderation/nsfw-onnx.ts';
import type { LoadNsfwRunner } from '../../src/moderation/nsfw-protocol.ts';
import type { NsfwScores } from '../../src/moderation/verdict.ts';

const REPEATS = 300;

export const loadNsfwRunner: LoadNsfwRunner = async (model) => {
  const runner = await loadOnnx(model);
  let warmedUp = false;
  return {
    ...runner,
    execution: 'onnx, slowed down',
    classify: async (pixels) => {
      if (!warmedUp) {
        warmedUp = true;
        return runner.classify(pixels);
      }
      let scores: NsfwScores | undefined;
      for (let i = 0; i < REPEATS; i++) scores = await runner.classify(pixels);
      return scores!;
    },
  };
};
