import type { CreatePipeline, Pipeline, PipelineContext, PipelineOutput } from '../../pipeline.ts';
import type { JobSpec } from '../../request.ts';
import { imageToImage } from './image-to-image.ts';
import { inpaint } from './inpaint.ts';
import { closeModelBundle, openModelBundle, type ModelBundle } from './model-bundle.ts';
import { textToImage } from './text-to-image.ts';

export interface ZImagePipelineOptions {
  /** Model directories to load when the worker starts (errors surface at start-up, not on the first job). */
  readonly preload: readonly string[];
  /** Models kept loaded at once; the least recently used is released beyond this. */
  readonly maxLoaded: number;
  /** Live previews at most this often (ms); 0 after every step but the last. */
  readonly previewIntervalMs: number;
  /**
   * MiB of recent outputs' latents each loaded model keeps (64 by default: 64 images at Z-Image's 1024², thousands at
   * the mini model's 256²); 0 keeps none, so every refine and edit encodes its source.
   */
  readonly latentMemoMiB: number;
}

/**
 * The Z-Image pipelines on onnxruntime-node, one instance per inference worker: text-to-image, image-to-image and
 * inpaint over whichever model directory a job names (the shipped mini model, test fixtures, the real weights).
 */
export const createPipeline: CreatePipeline = async ({ device, options, log }) => {
  const { preload = [], maxLoaded = 2, previewIntervalMs = 600, latentMemoMiB = 64 } = (options ?? {}) as Partial<ZImagePipelineOptions>;
  if (!(latentMemoMiB >= 0)) throw new RangeError(`Expected latentMemoMiB to be a number ≥ 0, got ${latentMemoMiB}`);
  const taskOptions = { previewIntervalMs };
  const loaded = new Map<string, Promise<ModelBundle>>();

  const bundleFor = async (dir: string): Promise<ModelBundle> => {
    let bundle = loaded.get(dir);
    if (bundle) {
      loaded.delete(dir); // re-insert: most recently used last
      loaded.set(dir, bundle);
      return bundle;
    }
    bundle = openModelBundle(dir, device, log, Math.round(latentMemoMiB * 2 ** 20));
    loaded.set(dir, bundle);
    bundle.catch(() => loaded.delete(dir));
    while (loaded.size > maxLoaded) {
      const [oldest, evicted] = loaded.entries().next().value as [string, Promise<ModelBundle>];
      loaded.delete(oldest);
      void evicted.then(closeModelBundle, () => undefined);
      log('info', 'released model', { dir: oldest });
    }
    return bundle;
  };

  for (const dir of preload) {
    const bundle = await bundleFor(dir);
    log('info', 'model loaded', { dir, name: bundle.model.manifest.name, provider: bundle.provider });
  }

  const pipeline: Pipeline = {
    async run(spec: JobSpec, context: PipelineContext): Promise<PipelineOutput> {
      const bundle = await bundleFor(spec.modelDir);
      if (spec.image === null) return textToImage(bundle, spec, context, taskOptions);
      if (spec.mask !== null) return inpaint(bundle, spec, context, taskOptions);
      return imageToImage(bundle, spec, context, taskOptions);
    },
    async dispose() {
      const bundles = await Promise.allSettled(loaded.values());
      loaded.clear();
      await Promise.all(bundles.map((b) => (b.status === 'fulfilled' ? closeModelBundle(b.value) : undefined)));
    },
  };
  return pipeline;
};
