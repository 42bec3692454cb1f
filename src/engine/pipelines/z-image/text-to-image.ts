import type { PipelineContext, PipelineOutput } from '../../pipeline.ts';
import type { JobSpec } from '../../request.ts';
import type { ModelBundle } from './model-bundle.ts';
import { toOutput } from './output.ts';
import { denoise, prepare, type TaskOptions } from './sampling.ts';

/** txt2img: the draft role (Turbo, no CFG) and any text-only job. */
export async function textToImage(bundle: ModelBundle, spec: JobSpec, context: PipelineContext, options: TaskOptions): Promise<PipelineOutput> {
  const started = performance.now();
  // 1. check inputs: done by the engine (resolveRequest) before queueing.
  // 2–4. encode prompts, prepare noise latents, schedule
  const prepared = await prepare(bundle, spec);
  const latents = prepared.noises.map((n) => n.slice());
  // 5. denoising loop
  const denoiseStart = performance.now();
  const stepMs = await denoise({ denoiser: bundle.denoiser, preview: { map: bundle.preview, intervalMs: options.previewIntervalMs }, spec, prepared, latents, start: 0, context });
  const denoiseMs = performance.now() - denoiseStart;
  // 6. decode
  const decodeStart = performance.now();
  const frames = await bundle.vae.decode(latents, prepared.shape);
  return toOutput(bundle, spec, frames, {
    textEncodeMs: prepared.textEncodeMs,
    denoiseMs,
    decodeMs: performance.now() - decodeStart,
    encodeMs: 0,
    totalMs: performance.now() - started,
    stepMs,
  }, prepared.truncated);
}
