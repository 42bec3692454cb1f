import type { PipelineContext, PipelineOutput } from '../../pipeline.ts';
import type { JobSpec } from '../../request.ts';
import type { ModelBundle } from './model-bundle.ts';
import { denoiseAndDecode, prepare, type TaskOptions } from './sampling.ts';

/** txt2img: the draft role (Turbo, no CFG) and any text-only job. */
export async function textToImage(bundle: ModelBundle, spec: JobSpec, context: PipelineContext, options: TaskOptions): Promise<PipelineOutput> {
  const started = performance.now();
  // Inputs were checked by the engine before queueing. Prompts, noise latents, schedule:
  const prepared = await prepare(bundle, spec);
  const latents = prepared.noises.map((n) => n.slice());
  return denoiseAndDecode(bundle, spec, context, options, { started, prepared, latents, start: 0, encodeMs: 0 });
}
