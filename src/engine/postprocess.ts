import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { ImageModerator, ModerationPolicy, ModerationVerdict } from '../moderation/verdict.ts';
import { isStorageFailure } from './errors.ts';
import { composeGrid } from './image/grid.ts';
import { withTextChunks } from './image/png-text.ts';
import type { DeliveredImage } from './job-handle.ts';
import { describeNoise } from './noise-spec.ts';
import type { RawCandidate } from './pipeline.ts';
import type { JobSpec } from './request.ts';

export interface PostprocessInput {
  readonly jobId: string;
  readonly spec: JobSpec;
  readonly candidates: readonly RawCandidate[];
  readonly policy: ModerationPolicy;
  readonly moderator: ImageModerator;
  /** Folder for this job's delivered PNGs. */
  readonly outputDir: string;
}

/**
 * The parameters a PNG carries, in the "parameters" convention other tools read, plus JSON for machines. Nothing
 * run-specific (no job id, no time): the same seed and parameters give a byte-identical file (a refine or edit: from
 * the same start, `sourceLatents`).
 */
function parameterChunks(spec: JobSpec, candidate: RawCandidate): Record<string, string> {
  const inverted = spec.image !== null && spec.inversion > 0;
  const params = {
    prompt: candidate.prompt,
    negativePrompt: spec.negativePrompt,
    seed: describeNoise(candidate.noise),
    steps: spec.steps,
    guidance: spec.guidance,
    shift: spec.shift,
    strength: spec.strength,
    size: `${candidate.width}x${candidate.height}`,
    model: spec.modelName,
    role: spec.role,
    style: spec.style,
    index: candidate.index,
    // A refine or edit: whether it started from its source's remembered latents or the encoder's (different pixels).
    ...(candidate.sourceLatents ? { sourceLatents: candidate.sourceLatents } : {}),
    // A refine whose start's noise was partly read back from its source (different pixels from the same seed).
    ...(inverted ? { inversion: spec.inversion } : {}),
    // An upscale keeps what drew the picture and says what enlarged it.
    ...(spec.upscale ? { upscale: { model: spec.upscale.model, scale: spec.upscale.scale } } : {}),
  };
  const enlarged = spec.upscale ? `, Upscale: ${spec.upscale.model} x${spec.upscale.scale}` : spec.image ? `, Denoising strength: ${spec.strength}${inverted ? `, Noise inversion: ${spec.inversion}` : ''}` : '';
  const line = `${candidate.prompt}\nNegative prompt: ${spec.negativePrompt}\nSteps: ${spec.steps}, Sampler: flow-match Euler, CFG scale: ${spec.guidance}, Seed: ${params.seed}, Size: ${params.size}, Model: ${spec.modelName}, Shift: ${spec.shift}${enlarged}`;
  return { parameters: line, 'zimage-bot': JSON.stringify(params), Software: 'zimage-bot' };
}

async function judge(moderator: ImageModerator, candidate: RawCandidate): Promise<ModerationVerdict> {
  try {
    return await moderator.judge(candidate);
  } catch (error) {
    // Fail closed: an image nobody could judge is not posted.
    return { flagged: true, reason: 'unavailable', rule: `classifier error: ${(error as Error).message}` };
  }
}

/**
 * Runs a write under DATA_DIR; false when the disk is full or read-only. The image is then delivered all the same,
 * only not kept (Refine and Vary of it will ask for it again), rather than failing a finished job.
 */
async function storing(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (isStorageFailure(error)) return false;
    throw error;
  }
}

/**
 * PNG encoding and moderation of one job's candidates, on the main thread's libuv pool and the moderation worker,
 * never on the inference worker. Each candidate is judged on its own: a flagged one is withheld (or, where the
 * channel allows, marked as a spoiler) and the rest are delivered. A withheld image is never encoded or stored.
 */
export async function postprocess(input: PostprocessInput): Promise<{ images: DeliveredImage[]; grid: Buffer | null }> {
  const stored = await storing(() => mkdir(input.outputDir, { recursive: true, mode: 0o700 }));
  const images = await Promise.all(
    input.candidates.map(async (candidate): Promise<DeliveredImage> => {
      const verdict = await judge(input.moderator, candidate);
      const withheld = verdict.flagged && (input.policy === 'block' || verdict.reason === 'unavailable');
      const base = {
        index: candidate.index,
        verdict,
        prompt: candidate.prompt,
        noise: candidate.noise,
        width: candidate.width,
        height: candidate.height,
      };
      if (withheld) return { ...base, png: null, path: null, withheld: true, spoiler: false };
      const encoded = await sharp(candidate.data, { raw: { width: candidate.width, height: candidate.height, channels: 3 } })
        .png({ compressionLevel: 6 })
        .toBuffer();
      const png = withTextChunks(encoded, parameterChunks(input.spec, candidate));
      const path = join(input.outputDir, `${candidate.index}.png`);
      const kept = stored && (await storing(() => writeFile(path, png, { mode: 0o600 })));
      return { ...base, png, path: kept ? path : null, withheld: false, spoiler: verdict.flagged };
    }),
  );
  const first = images[0];
  const grid =
    images.length > 1 && first
      ? await composeGrid(
          images.map((image) => ({ png: image.png })),
          first.width,
          first.height,
        )
      : null;
  return { images, grid };
}
