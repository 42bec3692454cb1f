import { PipelineCancelled, type CreatePipeline, type PipelineOutput } from '../../src/engine/pipeline.ts';
import { keptSteps } from '../../src/engine/sampling-settings.ts';

/**
 * Test double for the inference pipeline: no model, deterministic flat images whose colour comes from each
 * candidate's seed. It blocks its thread for `stepMs` per step (as onnxruntime's session.run does), reports progress
 * and honours cancellation between steps. Directives in the prompt steer it: `[crash]` kills the worker thread,
 * `[fail]` throws, `[step=N]` sets the step time.
 */
export interface FakePipelineOptions {
  readonly stepMs?: number;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
const blockFor = (ms: number): void => {
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms);
};

const seedOf = (noise: unknown): number => {
  const n = noise as { seed: number };
  return n.seed;
};

export const createPipeline: CreatePipeline = async ({ options }) => {
  const defaults = (options ?? {}) as FakePipelineOptions;
  return {
    async run(spec, context): Promise<PipelineOutput> {
      const started = performance.now();
      const prompt = spec.candidates[0]?.prompt ?? '';
      if (prompt.includes('[crash]')) process.exit(3);
      if (prompt.includes('[fail]')) throw new Error('the fake pipeline was told to fail');
      const stepMs = Number(/\[step=(\d+)\]/.exec(prompt)?.[1] ?? defaults.stepMs ?? 0);
      const total = spec.image === null ? spec.steps : keptSteps(spec.steps, spec.strength);
      const stepTimes: number[] = [];
      for (let step = 1; step <= total; step++) {
        if (context.cancelled()) throw new PipelineCancelled();
        const t = performance.now();
        blockFor(stepMs);
        stepTimes.push(performance.now() - t);
        context.onProgress(step, total);
        // Let queued messages (none are needed for cancel, which is a shared flag) and timers breathe.
        await Promise.resolve();
      }
      const candidates = spec.candidates.map((candidate, index) => {
        const data = new Uint8Array(spec.width * spec.height * 3);
        const seed = seedOf(candidate.noise) ?? index;
        for (let i = 0; i < data.length; i += 3) {
          data[i] = (seed * 37) % 256;
          data[i + 1] = (seed * 91) % 256;
          data[i + 2] = (seed * 53) % 256;
        }
        return { index, width: spec.width, height: spec.height, data, prompt: candidate.prompt, noise: candidate.noise };
      });
      const totalMs = performance.now() - started;
      return {
        candidates,
        truncated: [],
        provider: 'fake',
        timings: { textEncodeMs: 0, denoiseMs: totalMs, decodeMs: 0, encodeMs: 0, totalMs, stepMs: stepTimes },
      };
    },
    async dispose() {},
  };
};
