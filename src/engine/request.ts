/*
 * A request, the job spec it becomes, and the one function that turns the first into the second (over 300 lines on
 * purpose): every range, size, mask and remote-backend check happens in resolveRequest, in one place, whichever
 * backend will run the job, and the types it checks stand beside it.
 */
import type { ProfileConfig, Role } from '../config/schema.ts';
import { engineError, fail, ok, type EngineError, type Result } from './errors.ts';
import { candidateNoises, MAX_SEED, varyNoises, type NoiseSpec, type VaryStrength } from './noise-spec.ts';
import { expandPromptMatrix } from './prompt/matrix.ts';
import { applyStyle, type StyleCatalog } from './prompt/styles.ts';
import { parseRegion, type Region } from './region.ts';
import { keptSteps, noDenoisingSteps, samplingSettings, type ModelDefaults } from './sampling-settings.ts';

export type { ModelDefaults } from './sampling-settings.ts';
import { checkSize, parseAspectRatio, sizeForAspectRatio, type SizeRules } from './sizes.ts';

export interface JobOwner {
  readonly platform: string;
  readonly userId: string;
  readonly name?: string;
}

export const userKeyOf = (owner: JobOwner): string => `${owner.platform}:${owner.userId}`;

/** An input image: bytes from an upload, or a file the bot stored earlier (a previous result). */
export type ImageInput = { readonly bytes: Uint8Array } | { readonly path: string };

/** What an adapter or the CLI asks for. Everything optional falls back to the role's profile. */
export interface GenerationRequest {
  readonly role: Role;
  readonly owner: JobOwner;
  readonly prompt: string;
  readonly negativePrompt?: string;
  readonly style?: string;
  readonly seed?: number;
  readonly count?: number;
  readonly chaos?: number;
  readonly steps?: number;
  readonly guidance?: number;
  readonly aspectRatio?: string;
  readonly width?: number;
  readonly height?: number;
  readonly strength?: number;
  readonly image?: ImageInput;
  /**
   * One source per candidate (an edit of every candidate of a grid): each candidate starts from its own image with
   * its own prompt; the count is theirs. Instead of `image`.
   */
  readonly sources?: readonly CandidateSource[];
  readonly mask?: ImageInput;
  readonly region?: string;
  /** Vary one candidate of an earlier result: its noise and prompt come from there. */
  readonly vary?: { readonly noise: NoiseSpec; readonly strength: VaryStrength };
  /** Fixed noises (reroll of a job with the same parameters, or a refine that keeps a candidate's noise). */
  readonly noises?: readonly NoiseSpec[];
  readonly parent?: { readonly jobId: string; readonly index?: number };
  /** What made it (a press of Vary, Reroll…); the role's own command when absent. */
  readonly action?: JobAction;
  /**
   * Upscale `image` with the upscale workflow (upscale-request.ts) instead of generating: the result is that image at
   * the workflow's scale. Only a backend with an upscale model serves it; nothing else of the request applies.
   */
  readonly upscale?: boolean;
}

/**
 * What made a job: a command (draft, refine, edit) or a press on an earlier result (vary, reroll, refine, edit,
 * upscale; enhance: its prompt rewritten by the prompt assistant; original: the original prompt of an enhanced one).
 */
export type JobAction = 'draft' | 'refine' | 'edit' | 'vary' | 'reroll' | 'upscale' | 'enhance' | 'original';

/**
 * What the main thread knows of a model without loading it. Every backend fills it the same way, so the ranges and
 * defaults of a request are checked in one place (resolveRequest) whatever runs the job.
 */
export interface ModelInfo {
  readonly dir: string;
  readonly name: string;
  readonly size: SizeRules;
  readonly shift: number;
  readonly canEncode: boolean;
  readonly defaults: ModelDefaults;
  /** Set when the role runs on a remote backend (ComfyUI): what it cannot do, refused here by name. */
  readonly remote?: RemoteTraits;
}

/**
 * What a role's model can do on a remote backend, whose workflows do not express every knob of the local pipeline.
 * A knob it cannot express is refused with the backend's name, never ignored.
 */
export interface RemoteTraits {
  /** The backend as users read its name (ComfyUI). */
  readonly backend: string;
  /** Chaos below 100: candidates' noises blended, which needs the noise itself. */
  readonly chaos: boolean;
  /** Vary: an img2img path for a candidate (the draft role). */
  readonly vary: boolean;
  /** A strength other than 1 (the workflow takes a denoise). */
  readonly strength: boolean;
  /** The edit role: whether an edit without a mask or region runs (an instruction workflow is configured). */
  readonly unmasked: boolean;
  /** The edit role with a mask or a region: that workflow's model, or null when none is configured. */
  readonly masked: ModelInfo | null;
}

/** A candidate's own starting point, in a job that edits several images at once. */
export interface CandidateSource {
  readonly image: ImageInput;
  readonly prompt: string;
  /** Which candidate of the parent job it is (the job's lineage, candidate by candidate). */
  readonly parentIndex?: number;
}

export interface Candidate {
  readonly prompt: string;
  readonly noise: NoiseSpec;
  /** Its own stored source image, when the job's candidates start from different images. */
  readonly image?: string;
  /** Which candidate of the parent job it started from, when not the job's one parent candidate. */
  readonly parentIndex?: number;
}

/**
 * The edit area: a stored mask image or a region. `composite`: the decoded result is also pasted over the source
 * through a feathered copy of the mask, so pixels outside it stay exactly the source's (the profile's maskComposite).
 */
export type MaskSpec = ({ readonly kind: 'image'; readonly path: string } | { readonly kind: 'region'; readonly region: Region }) & {
  readonly composite: boolean;
};

/** A request resolved against its profile and model: everything the pipeline needs, nothing left to defaults. */
export interface JobSpec {
  readonly role: Role;
  readonly modelDir: string;
  readonly modelName: string;
  readonly width: number;
  readonly height: number;
  readonly steps: number;
  readonly guidance: number;
  readonly shift: number;
  /** 1 for text-to-image. */
  readonly strength: number;
  /** The share of an img2img start's noise read back from the source instead of drawn from the seed (0: SDEdit). */
  readonly inversion: number;
  readonly cfgTruncation: number;
  readonly cfgNormalization: number;
  /** The negative prompt after the style preset's was merged in. */
  readonly negativePrompt: string;
  /** The negative prompt as the user gave it (null: the profile's). */
  readonly userNegativePrompt: string | null;
  readonly seed: number;
  readonly chaos: number;
  readonly style: string | null;
  readonly userPrompt: string;
  readonly candidates: readonly Candidate[];
  /** Stored input image (PNG under DATA_DIR), for refine and edit. */
  readonly image: string | null;
  readonly mask: MaskSpec | null;
  /**
   * A Vary job: the candidate it varies, stored, and how strongly. The local pipeline varies the candidate's noise
   * (its `candidates` say how); a remote backend, which has no access to the noise, re-noises the image itself.
   */
  readonly vary?: { readonly image: string | null; readonly strength: VaryStrength };
  /** An upscale job: `image` enlarged by an upscale model; width and height are the output's. */
  readonly upscale?: UpscaleSpec;
}

/** What an upscale runs: the model, its scale (output side ÷ input side), and the size of the image it enlarges. */
export interface UpscaleSpec {
  readonly model: string;
  readonly scale: number;
  readonly input: { readonly width: number; readonly height: number };
}

export interface ResolveContext {
  readonly profile: ProfileConfig;
  readonly model: ModelInfo;
  readonly limits: { readonly maxCount: number; readonly maxPromptChars: number; readonly maxSide: number };
  readonly styles: StyleCatalog;
  readonly randomSeed: () => number;
  /** Paths of stored inputs; the engine stores uploads before resolving. */
  readonly imagePath: string | null;
  /** Each candidate's own source, in order, when the request has `sources`. */
  readonly sourcePaths?: readonly string[];
  readonly maskPath: string | null;
  /** A Vary's candidate as stored (null when it was not kept); absent for other requests. */
  readonly varyImage?: string | null;
  /** Width / height of the input image: refine and edit keep its aspect ratio unless told otherwise. */
  readonly imageAspect: number | null;
  readonly defaultCount: number;
}

/** A setting outside [min, max] (`why` says whose range it is), or undefined. */
function range(setting: string, value: number | undefined, min: number, max: number, integer: boolean, why = ''): EngineError | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    return engineError('out-of-range', `${setting} must be ${integer ? 'a whole number ' : ''}from ${min} to ${max}${why}, got ${value}`, {
      setting,
      value: String(value),
      min,
      max,
    });
  }
  return undefined;
}

/** A knob the role's remote backend cannot express, refused with the backend's name (see RemoteTraits). */
function remoteRefusal(request: GenerationRequest, roleModel: ModelInfo, model: ModelInfo, masked: boolean, varyImage: string | null | undefined): EngineError | undefined {
  const remote = roleModel.remote;
  if (!remote) return undefined;
  const refuse = (knob: string, why: string): EngineError =>
    engineError('backend-unsupported', `${knob} is not available on ${remote.backend}: ${why}`, { knob, backend: remote.backend });
  if (request.role === 'edit' && masked && !remote.masked) return refuse('masked-edit', 'no inpaint workflow is configured (comfyui.workflows.inpaint)');
  if (request.role === 'edit' && !masked && !remote.unmasked) {
    return refuse('unmasked-edit', 'no instruction-edit workflow is configured (comfyui.workflows.edit); give a mask or a region');
  }
  if (request.chaos !== undefined && request.chaos < 100 && !remote.chaos) {
    return refuse('chaos', "chaos below 100 blends the candidates' starting noise, which a workflow cannot; there every candidate has its own seed, as at chaos 100");
  }
  if (request.vary !== undefined && !remote.vary) return refuse('vary', 'no vary workflow is configured (comfyui.workflows.vary)');
  if (request.vary !== undefined && varyImage === null) return engineError('missing-image', 'The candidate to vary is no longer stored; upload it to /edit or /refine instead');
  if (request.strength !== undefined && request.strength !== 1 && !(model.remote ?? remote).strength) {
    return refuse('strength', `the ${model.name} workflow always redraws the whole image from the instruction`);
  }
  return undefined;
}

export function resolveRequest(request: GenerationRequest, ctx: ResolveContext): Result<JobSpec> {
  const { profile, limits } = ctx;
  // On a remote backend an edit inside a mask or region runs its own workflow, with its own model and ranges.
  const masked = request.role === 'edit' && (request.mask !== undefined || request.region !== undefined);
  const model = masked && ctx.model.remote?.masked ? ctx.model.remote.masked : ctx.model;
  const prompt = request.prompt.trim();
  if (prompt.length === 0) return fail(engineError('empty-prompt', 'The prompt is empty'));
  if ([...prompt].length > limits.maxPromptChars) {
    return fail(
      engineError('prompt-too-long', `The prompt has ${[...prompt].length} characters; the limit is ${limits.maxPromptChars}`, {
        length: [...prompt].length,
        max: limits.maxPromptChars,
      }),
    );
  }
  const sampling = samplingSettings(request.role, profile, model);
  const noGuidance = sampling.maxGuidance === 0 ? ` (${model.name} is distilled to run without guidance)` : '';
  const rangeError =
    range('count', request.count, 1, limits.maxCount, true) ??
    range('seed', request.seed, 0, MAX_SEED, true) ??
    range('chaos', request.chaos, 0, 100, false) ??
    range('steps', request.steps, sampling.minSteps, sampling.maxSteps, true, ` for ${model.name}`) ??
    range('guidance', request.guidance, 0, sampling.maxGuidance, false, noGuidance) ??
    range('strength', request.strength, 0, 1, false);
  if (rangeError) return fail(rangeError);
  const remoteError = remoteRefusal(request, ctx.model, model, masked, ctx.varyImage);
  if (remoteError) return fail(remoteError);

  if (request.role === 'draft' && (request.image || request.sources || request.mask || request.region)) {
    return fail(engineError('invalid-request', 'A draft starts from text only; use refine or edit with an image'));
  }
  if (request.sources && (request.image || request.sources.length === 0 || request.sources.length > limits.maxCount)) {
    return fail(engineError('invalid-request', `Give one image, or from 1 to ${limits.maxCount} sources (one per candidate)`));
  }
  const sourcePaths = request.sources ? (ctx.sourcePaths ?? []) : [];
  const imagePath = ctx.imagePath ?? sourcePaths[0] ?? null;
  if (request.role !== 'draft' && imagePath === null) {
    return fail(engineError('missing-image', `${request.role} needs an image to start from`, { role: request.role }));
  }
  if (request.role !== 'draft' && !model.canEncode) {
    return fail(
      engineError('model-error', `Model ${model.name} has no VAE encoder, so it cannot ${request.role} an image`, { model: model.name }),
    );
  }
  if (request.role !== 'edit' && (request.mask || request.region)) {
    return fail(engineError('invalid-request', 'Only edit takes a mask or a region'));
  }
  if (request.mask && request.region) return fail(engineError('invalid-request', 'Give a mask or a region, not both'));

  let mask: MaskSpec | null = null;
  if (request.region !== undefined) {
    const region = parseRegion(request.region);
    if (!region.ok) return region;
    mask = { kind: 'region', region: region.value, composite: profile.maskComposite };
  } else if (ctx.maskPath !== null) {
    mask = { kind: 'image', path: ctx.maskPath, composite: profile.maskComposite };
  }

  const steps = request.steps ?? sampling.steps;
  // A remote workflow that takes no denoise (an instruction model) runs at strength 1: the spec says what ran.
  const fixedStrength = request.role === 'draft' || (model.remote !== undefined && !model.remote.strength);
  const strength = fixedStrength ? 1 : (request.strength ?? (mask ? profile.maskStrength : sampling.strength));
  if (keptSteps(steps, strength) < 1) return fail(noDenoisingSteps(steps, strength));

  let size: { width: number; height: number };
  if (request.width !== undefined || request.height !== undefined) {
    const checked = checkSize(request.width ?? model.size.nativeWidth, request.height ?? model.size.nativeHeight, model.size, limits.maxSide);
    if (!checked.ok) return checked;
    size = checked.value;
  } else if (request.aspectRatio !== undefined) {
    const ratio = parseAspectRatio(request.aspectRatio);
    if (!ratio.ok) return ratio;
    size = sizeForAspectRatio(ratio.value, model.size, limits.maxSide);
  } else if (ctx.imageAspect !== null) {
    size = sizeForAspectRatio(ctx.imageAspect, model.size, limits.maxSide);
  } else {
    size = { width: model.size.nativeWidth, height: model.size.nativeHeight };
  }

  let style = undefined;
  if (request.style !== undefined) {
    style = ctx.styles.find(request.style);
    if (!style) {
      return fail(
        engineError('unknown-style', `Unknown style "${request.style}"; choose one of ${ctx.styles.presets.map((p) => p.name).join(', ')}`, {
          value: request.style,
          allowed: ctx.styles.presets.map((p) => p.name).join(', '),
        }),
      );
    }
  }

  // A grid edit: each candidate's prompt is its own source's; otherwise the prompt matrix decides.
  const prompts = request.sources ? ok(request.sources.map((s) => s.prompt)) : expandPromptMatrix(prompt, limits.maxCount);
  if (!prompts.ok) return prompts;
  const isMatrix = prompts.value.length > 1;
  if (isMatrix && request.count !== undefined && request.count !== prompts.value.length) {
    return fail(
      engineError('invalid-request', `The prompt matrix makes ${prompts.value.length} prompts, so it sets the count; drop --count`, {
        value: prompts.value.length,
      }),
    );
  }

  const seed = request.seed ?? ctx.randomSeed();
  const chaos = request.chaos ?? 100;
  const count = isMatrix ? prompts.value.length : (request.noises?.length ?? request.count ?? ctx.defaultCount);
  const userNegative = request.negativePrompt ?? profile.negativePrompt;
  const styled = prompts.value.map((p) => applyStyle(style, p, userNegative));
  let noises: readonly NoiseSpec[];
  if (request.noises !== undefined) {
    if (request.noises.length !== count) return fail(engineError('invalid-request', 'noises must match the candidate count'));
    noises = request.noises;
  } else if (request.vary !== undefined) {
    noises = varyNoises(request.vary.noise, seed, count, request.vary.strength);
  } else {
    noises = candidateNoises(seed, count, chaos);
  }

  return ok({
    role: request.role,
    modelDir: model.dir,
    modelName: model.name,
    width: size.width,
    height: size.height,
    steps,
    guidance: request.guidance ?? sampling.guidance,
    shift: sampling.shift,
    strength,
    // Tuned with the model's own strength: at that strength however it was asked for (a reroll names it), else SDEdit.
    inversion: strength === sampling.strength ? sampling.inversion : 0,
    cfgTruncation: profile.cfgTruncation,
    cfgNormalization: profile.cfgNormalization,
    negativePrompt: styled[0]!.negative,
    userNegativePrompt: request.negativePrompt ?? null,
    seed,
    chaos,
    style: style?.name ?? null,
    userPrompt: prompt,
    candidates: noises.map((noise, i) => {
      const from = request.sources?.[i];
      return { prompt: styled[isMatrix ? i : 0]!.prompt, noise, ...(sourcePaths[i] ? { image: sourcePaths[i] } : {}), ...(from?.parentIndex !== undefined ? { parentIndex: from.parentIndex } : {}) };
    }),
    image: imagePath,
    mask,
    ...(request.vary !== undefined ? { vary: { image: ctx.varyImage ?? null, strength: request.vary.strength } } : {}),
  });
}
