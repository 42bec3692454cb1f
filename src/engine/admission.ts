import { randomBytes, randomInt } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import type { Config, Role } from '../config/schema.ts';
import { engineError, fail, ok, storageError, type EngineError, type Result } from './errors.ts';
import { normalizeInputImage } from './image/input.ts';
import { MAX_SEED } from './noise-spec.ts';
import { expandPromptMatrix } from './prompt/matrix.ts';
import { resolveRequest, userKeyOf, type GenerationRequest, type ImageInput, type JobAction, type JobOwner, type JobSpec, type ModelInfo } from './request.ts';
import { jobCost } from './sampling-settings.ts';
import type { StyleCatalog } from './prompt/styles.ts';
import type { JobHistory } from './history.ts';
import { noUpscaleModel, resolveUpscale, upscaleCost, type UpscaleModel } from './upscale-request.ts';

/** Checks the engine runs on a request before it is accepted, supplied by moderation. */
export interface AdmissionChecks {
  /** The prompt filter: an error refuses the prompt. */
  readonly promptCheck?: (prompt: string) => EngineError | undefined;
  /** Judges input images (refine/edit) before any GPU time is spent on them. */
  readonly inputCheck?: (image: { width: number; height: number; data: Uint8Array }) => Promise<EngineError | undefined>;
}

export interface AdmissionOptions extends AdmissionChecks {
  readonly config: Readonly<Config>;
  readonly models: Readonly<Record<Role, ModelInfo>>;
  readonly styles: StyleCatalog;
  /** How many jobs wait, in all and per user (the caps). */
  readonly waiting: { readonly size: number; sizeOf(userKey: string): number };
  readonly randomSeed?: () => number;
  /** Earlier jobs: where a Vary's candidate is stored (a remote backend re-noises that image). */
  readonly history?: JobHistory;
  /** The configured upscale workflow's model; absent or null: upscale requests are refused. */
  readonly upscale?: UpscaleModel | null;
}

/** A request that passed every check: resolved, costed, its uploads decoded and judged, nothing written yet. */
export interface AdmittedJob {
  readonly id: string;
  readonly owner: JobOwner;
  readonly userKey: string;
  readonly spec: JobSpec;
  readonly cost: number;
  readonly parentId: string | null;
  readonly parentIndex: number | null;
  readonly action: JobAction;
  /** Normalised uploads, written under DATA_DIR/inputs once the job is accepted. */
  readonly uploads: readonly { readonly path: string; readonly png: Buffer }[];
}

interface CheckedImage {
  /** Where it is (a stored result) or will be stored (an upload, once the job is accepted). */
  readonly path: string;
  readonly width: number;
  readonly height: number;
  /** The normalised upload to write; null for a file that is already stored. */
  readonly png: Buffer | null;
}

const newJobId = (): string => randomBytes(8).toString('base64url').replace(/[-_]/g, 'x').slice(0, 10);

/**
 * Admission: everything that decides whether a request may become a job — the caps, the prompt filter, the input
 * images (decoded, size-capped, judged by the classifier in memory) and the request resolved against its profile
 * and model. It changes nothing: a refusal leaves no trace in the queue, the journal or on disk.
 */
export class Admission {
  readonly #options: AdmissionOptions;
  readonly #reserved = new Map<string, number>();
  #reservedTotal = 0;

  constructor(options: AdmissionOptions) {
    this.#options = options;
  }

  async check(request: GenerationRequest): Promise<Result<AdmittedJob>> {
    const { config, models } = this.#options;
    const role = request.role;
    const profile = config.profiles[role];
    const model = models[role];
    if (!profile || !model) return fail(engineError('unknown-role', `Unknown role "${String(role)}"`, { value: String(role) }));

    const userKey = userKeyOf(request.owner);
    const capError = this.capError(userKey);
    if (capError) return fail(capError);
    for (const prompt of [request.prompt, ...(request.sources ?? []).map((s) => s.prompt)]) {
      const promptError = this.#promptError(prompt);
      if (promptError) return fail(promptError);
    }

    const id = newJobId();
    if (request.upscale === true) return this.#checkUpscale(id, userKey, request);
    const inputs = await this.#checkInputs(id, request.image ?? request.sources?.[0]?.image, request.mask);
    if (!inputs.ok) return inputs;
    const { mask } = inputs.value;
    const sources: CheckedImage[] = [];
    for (const [i, source] of (request.sources ?? []).entries()) {
      if (i === 0 && inputs.value.image) {
        sources.push(inputs.value.image);
        continue;
      }
      const checked = await this.#checkInput(`${id}-${i}`, source.image, 'image');
      if (!checked.ok) return checked;
      sources.push(checked.value);
    }
    const image = request.sources ? null : inputs.value.image;
    const resolved = resolveRequest(request, {
      profile,
      model,
      limits: config.limits,
      styles: this.#options.styles,
      randomSeed: this.#options.randomSeed ?? (() => randomInt(0, MAX_SEED)),
      imagePath: image?.path ?? null,
      ...(request.sources ? { sourcePaths: sources.map((s) => s.path) } : {}),
      maskPath: mask?.path ?? null,
      ...(request.vary ? { varyImage: this.#varyImage(request) } : {}),
      imageAspect: image ? image.width / image.height : sources[0] ? sources[0].width / sources[0].height : null,
      defaultCount: role === 'draft' ? config.limits.maxCount : 1,
    });
    if (!resolved.ok) return resolved;
    const uploads = [image, ...sources, mask].flatMap((input) => (input?.png ? [{ path: input.path, png: input.png }] : []));
    return ok({
      id,
      owner: request.owner,
      userKey,
      spec: resolved.value,
      cost: jobCost(resolved.value),
      parentId: request.parent?.jobId ?? null,
      parentIndex: request.parent?.index ?? null,
      action: request.action ?? request.role,
      uploads,
    });
  }

  /** An upscale: its image checked as any input is, then resolved against the upscale workflow (upscale-request.ts). */
  async #checkUpscale(id: string, userKey: string, request: GenerationRequest): Promise<Result<AdmittedJob>> {
    const { config, history } = this.#options;
    const model = this.#options.upscale ?? null;
    if (model === null) return fail(noUpscaleModel(request.role));
    const checked = request.image ? await this.#checkInput(id, request.image, 'image') : undefined;
    if (checked && !checked.ok) return checked;
    const image = checked?.value ?? null;
    const parent = request.parent ? (history?.get(request.parent.jobId)?.spec ?? null) : null;
    const resolved = resolveUpscale(request, { model, maxSide: config.limits.maxSide, image, parent });
    if (!resolved.ok) return resolved;
    return ok({
      id,
      owner: request.owner,
      userKey,
      spec: resolved.value,
      cost: upscaleCost(resolved.value),
      parentId: request.parent?.jobId ?? null,
      parentIndex: request.parent?.index ?? null,
      action: request.action ?? 'upscale',
      uploads: image?.png ? [{ path: image.path, png: image.png }] : [],
    });
  }

  /**
   * Every prompt the job would draw: the prompt as typed and each one its matrix expands to (`a {nu|xx}de` is two
   * prompts, one of them refused). Only positive prompts: a negative prompt lists exactly the words people want kept
   * out ("nude, nsfw"), and it is never expanded.
   */
  #promptError(prompt: string): EngineError | undefined {
    const check = this.#options.promptCheck;
    if (!check) return undefined;
    const expanded = expandPromptMatrix(prompt, this.#options.config.limits.maxCount);
    for (const each of [prompt, ...(expanded.ok ? expanded.value : [])]) {
      const refusal = check(each);
      if (refusal) return refusal;
    }
    return undefined;
  }

  /** A Vary's candidate as stored: its parent job's result, candidate `parent.index`; null when it was not kept. */
  #varyImage(request: GenerationRequest): string | null {
    const parent = request.parent;
    if (!parent || parent.index === undefined) return null;
    const image = this.#options.history?.get(parent.jobId)?.result?.images.find((i) => i.index === parent.index);
    return image?.path ?? null;
  }

  /**
   * Holds a waiting slot for an admitted job from its last cap check until it is queued (or refused), so requests
   * of one user that arrive together cannot all pass the check before any of them is counted.
   */
  reserve(userKey: string): EngineError | (() => void) {
    const refusal = this.capError(userKey);
    if (refusal) return refusal;
    this.#reserved.set(userKey, (this.#reserved.get(userKey) ?? 0) + 1);
    this.#reservedTotal += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#reserved.get(userKey) ?? 1) - 1;
      if (left > 0) this.#reserved.set(userKey, left);
      else this.#reserved.delete(userKey);
      this.#reservedTotal -= 1;
    };
  }

  /** The waiting caps, per user and in all, counting the slots held by jobs on their way into the queue. */
  capError(userKey: string): EngineError | undefined {
    const { maxWaitingPerUser, maxWaitingTotal } = this.#options.config.queue;
    const { waiting } = this.#options;
    if (waiting.sizeOf(userKey) + (this.#reserved.get(userKey) ?? 0) >= maxWaitingPerUser) {
      return engineError('user-queue-full', `You already have ${maxWaitingPerUser} jobs waiting; wait for one to start`, {
        max: maxWaitingPerUser,
      });
    }
    if (waiting.size + this.#reservedTotal >= maxWaitingTotal) {
      return engineError('queue-full', `The queue is full (${maxWaitingTotal} jobs); try again shortly`, { max: maxWaitingTotal });
    }
    return undefined;
  }

  /** Writes an accepted job's uploads where its spec says they are; a full or read-only disk is a clear refusal. */
  async store(job: AdmittedJob): Promise<Result<void>> {
    try {
      for (const upload of job.uploads) {
        await mkdir(dirname(upload.path), { recursive: true, mode: 0o700 });
        await writeFile(upload.path, upload.png, { mode: 0o600 });
      }
      return ok(undefined);
    } catch (error) {
      return fail(storageError(error));
    }
  }

  async #checkInputs(
    id: string,
    image: ImageInput | undefined,
    mask: ImageInput | undefined,
  ): Promise<Result<{ image: CheckedImage | null; mask: CheckedImage | null }>> {
    const checked = { image: null as CheckedImage | null, mask: null as CheckedImage | null };
    for (const what of ['image', 'mask'] as const) {
      const input = what === 'image' ? image : mask;
      if (input === undefined) continue;
      const result = await this.#checkInput(id, input, what);
      if (!result.ok) return result;
      checked[what] = result.value;
    }
    const { image: i, mask: m } = checked;
    if (i && m && (i.width !== m.width || i.height !== m.height)) {
      return fail(
        engineError('bad-mask', `The mask is ${m.width}×${m.height}; it must match the image, ${i.width}×${i.height}`, {
          mask: `${m.width}x${m.height}`,
          image: `${i.width}x${i.height}`,
        }),
      );
    }
    return ok(checked);
  }

  /** One upload, normalised (or a stored result's size), input images judged before any GPU time is spent. */
  async #checkInput(id: string, input: ImageInput, what: 'image' | 'mask'): Promise<Result<CheckedImage>> {
    if ('path' in input) {
      try {
        const meta = await sharp(input.path).metadata();
        return ok({ path: input.path, width: meta.width ?? 0, height: meta.height ?? 0, png: null });
      } catch {
        return fail(engineError('missing-image', 'The earlier image is no longer stored; upload it again'));
      }
    }
    const { config, inputCheck } = this.#options;
    const normalized = await normalizeInputImage(input.bytes, config.limits, what);
    if (!normalized.ok) return normalized;
    if (what === 'image' && inputCheck) {
      const { data, info } = await sharp(normalized.value.png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const refusal = await inputCheck({ width: info.width, height: info.height, data });
      if (refusal) return fail(refusal);
    }
    const path = join(config.dataDir, 'inputs', `${id}-${what}.png`);
    return ok({ path, width: normalized.value.width, height: normalized.value.height, png: normalized.value.png });
  }
}
