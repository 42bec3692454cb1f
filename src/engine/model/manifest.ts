import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { engineError, EngineFailure } from '../errors.ts';

/**
 * The model directory contract: a `model.json` that names the files and tensors, so the same code serves the shipped
 * mini model, test fixtures and the real Z-Image ONNX export. README § Models documents every field.
 */
const file = z.string().min(1);
const tensor = z.string().min(1);

export const manifestSchema = z
  .object({
    format: z.literal('zimage-model/1'),
    name: z.string().min(1),
    description: z.string().default(''),
    license: z.string().default(''),
    tokenizer: z
      .object({
        file,
        /** Optional tokenizer_config.json beside tokenizer.json. */
        config: file.optional(),
        template: z.string().includes('{prompt}'),
        maxLength: z.number().int().positive(),
        /** Token used to pad a batch of prompts (its positions are masked and then dropped). */
        padToken: z.string().min(1).default('<|endoftext|>'),
      })
      .strict(),
    textEncoder: z
      .object({
        file,
        inputIds: tensor,
        attentionMask: tensor,
        output: tensor,
        hiddenSize: z.number().int().positive(),
        /** Most prompts per call; absent = all of a job's prompts in one padded batch, 1 = one by one. */
        maxBatch: z.number().int().positive().optional(),
      })
      .strict(),
    transformer: z
      .object({
        file,
        latents: tensor,
        timestep: tensor,
        textFeatures: tensor,
        /** Optional int64 [B,S] mask input: lets prompts of different lengths share one batch. */
        textMask: tensor.optional(),
        output: tensor,
        /** 5 = [B,16,1,h,w] (Z-Image); 4 = [B,16,h,w]. */
        latentRank: z.union([z.literal(4), z.literal(5)]).default(5),
        /** Largest batch the graph takes; 1 runs candidates (and CFG branches) one after another. */
        maxBatch: z.number().int().positive().default(1),
      })
      .strict(),
    vaeDecoder: z
      .object({
        file,
        input: tensor,
        output: tensor,
        /** Output pixels per latent cell (8 for Z-Image; the mini model's decoder upsamples 16). */
        upscale: z.number().int().positive().default(8),
        maxBatch: z.number().int().positive().default(1),
      })
      .strict(),
    vaeEncoder: z
      .object({
        file,
        input: tensor,
        /** The latent mean, or with `moments` the mean and log-variance stacked on the channel axis (2×channels). */
        output: tensor,
        /** A separate output holding the posterior's log-variance. */
        logvar: tensor.optional(),
        /** `output` holds [mean, log-variance] on the channel axis, as diffusers' encoder before its Gaussian. */
        moments: z.boolean().default(false),
        /** Input pixels per latent cell. */
        downscale: z.number().int().positive().default(8),
        maxBatch: z.number().int().positive().default(1),
      })
      .strict()
      .refine((e) => !(e.moments && e.logvar), { message: 'give either logvar or moments, not both' })
      .optional(),
    latent: z
      .object({
        channels: z.number().int().positive(),
        scalingFactor: z.number().positive(),
        shiftFactor: z.number(),
      })
      .strict(),
    scheduler: z.object({ shift: z.number().positive() }).strict(),
    /** What the model is meant to be sampled with; config profiles override each value (null there = this). */
    defaults: z
      .object({
        steps: z.number().int().positive(),
        minSteps: z.number().int().positive(),
        maxSteps: z.number().int().positive(),
        guidance: z.number().min(0),
        /** Distilled to sample without classifier-free guidance (Turbo): its guidance is 0. */
        distilled: z.boolean(),
        /** How a refine of one of its drafts runs best, where that differs from the values above. */
        refine: z
          .object({
            strength: z.number().gt(0).max(1).optional(),
            steps: z.number().int().positive().optional(),
            guidance: z.number().min(0).optional(),
            /** The schedule's shift for a refine: a lower one spends more of its steps at low noise, on detail. */
            shift: z.number().positive().optional(),
            /**
             * How much of a refine's starting noise is read back from its source (the kept steps run backwards)
             * rather than drawn from the seed: 0 = plain SDEdit, 1 = every candidate from the same start. Local
             * pipeline only (docs/sampling.md § 5).
             */
            inversion: z.number().min(0).max(1).optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .refine((d) => d.minSteps <= d.steps && d.steps <= d.maxSteps, { message: 'needs minSteps ≤ steps ≤ maxSteps' })
      .refine((d) => !d.distilled || (d.guidance === 0 && !d.refine?.guidance), { message: 'of a distilled model needs guidance 0' })
      .refine((d) => d.refine?.steps === undefined || (d.minSteps <= d.refine.steps && d.refine.steps <= d.maxSteps), {
        message: 'needs minSteps ≤ refine.steps ≤ maxSteps',
      }),
    image: z
      .object({
        nativeWidth: z.number().int().positive(),
        nativeHeight: z.number().int().positive(),
        /** Output sizes must be multiples of this (Z-Image: 16 = patch 2 × VAE 8). */
        multiple: z.number().int().positive(),
        minSide: z.number().int().positive(),
        maxSide: z.number().int().positive(),
      })
      .strict(),
    training: z.unknown().optional(),
  })
  .strict();

export type Manifest = z.infer<typeof manifestSchema>;

/** A validated manifest with absolute file paths. */
export interface ModelDirectory {
  readonly dir: string;
  readonly manifest: Manifest;
  readonly files: {
    readonly tokenizer: string;
    readonly tokenizerConfig: string | undefined;
    readonly textEncoder: string;
    readonly transformer: string;
    readonly vaeDecoder: string;
    readonly vaeEncoder: string | undefined;
  };
}

function refuse(message: string, params: Record<string, string>): never {
  throw new EngineFailure(engineError('model-error', message, params));
}

/** Reads and validates `<dir>/model.json` and checks that every file it names exists. Throws EngineFailure. */
export function loadModelDirectory(dirPath: string): ModelDirectory {
  const dir = resolve(dirPath);
  const manifestPath = join(dir, 'model.json');
  if (!existsSync(manifestPath)) refuse(`Model directory ${dir} has no model.json`, { file: manifestPath });
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (error) {
    refuse(`${manifestPath} is not valid JSON: ${(error as Error).message}`, { file: manifestPath });
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.map(String).join('.');
    refuse(`${manifestPath}: "${key}" ${issue.message}`, { file: manifestPath, key });
  }
  const manifest = parsed.data;
  const need = (name: string, relative: string): string => {
    const path = join(dir, relative);
    if (!existsSync(path) || !statSync(path).isFile()) {
      refuse(`Model ${manifest.name}: ${name} file ${relative} is missing from ${dir}`, { file: path });
    }
    return path;
  };
  const { image } = manifest;
  if (image.nativeWidth % image.multiple !== 0 || image.nativeHeight % image.multiple !== 0) {
    refuse(`${manifestPath}: image.nativeWidth/nativeHeight must be multiples of image.multiple`, { file: manifestPath });
  }
  return {
    dir,
    manifest,
    files: {
      tokenizer: need('tokenizer', manifest.tokenizer.file),
      tokenizerConfig: manifest.tokenizer.config ? need('tokenizer config', manifest.tokenizer.config) : undefined,
      textEncoder: need('text encoder', manifest.textEncoder.file),
      transformer: need('transformer', manifest.transformer.file),
      vaeDecoder: need('VAE decoder', manifest.vaeDecoder.file),
      vaeEncoder: manifest.vaeEncoder ? need('VAE encoder', manifest.vaeEncoder.file) : undefined,
    },
  };
}
