import type { PipelineOutput, PipelineTimings, SourceLatents } from '../../pipeline.ts';
import type { JobSpec } from '../../request.ts';
import type { ModelBundle } from './model-bundle.ts';
import type { RgbFrame } from './vae.ts';

/** The output every task returns: one RGB frame per candidate with its prompt and noise. */
export function toOutput(
  bundle: ModelBundle,
  spec: JobSpec,
  frames: readonly RgbFrame[],
  timings: PipelineTimings,
  truncated: PipelineOutput['truncated'],
  origins?: readonly SourceLatents[],
): PipelineOutput {
  return {
    candidates: frames.map((frame, index) => ({
      index,
      width: frame.width,
      height: frame.height,
      data: frame.data,
      prompt: spec.candidates[index]!.prompt,
      noise: spec.candidates[index]!.noise,
      ...(origins ? { sourceLatents: origins[index]! } : {}),
    })),
    timings,
    truncated,
    provider: bundle.provider,
  };
}
