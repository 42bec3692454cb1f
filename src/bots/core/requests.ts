import { readFile } from 'node:fs/promises';
import type { Role } from '../../config/schema.ts';
import type { JobHistory, JobRecord } from '../../engine/history.ts';
import { readTextChunks } from '../../engine/image/png-text.ts';
import type { GenerationRequest, ImageInput } from '../../engine/request.ts';
import { fail, ok, type Result } from '../../result.ts';
import { fetchImage, type FetchPolicy } from './attachments.ts';
import { scopeOf, type ImageSource, type ParsedCommand, type Who } from './command.ts';
import { readDelivery } from './delivery-envelope.ts';
import type { UserError } from './errors.ts';
import type { CommandOptions } from './options.ts';

type Resolved<T> = Result<T, UserError>;

export interface RequestContext {
  readonly history: JobHistory;
  /** Where attachment URLs may be downloaded from; none → URL sources are refused. */
  readonly fetchPolicy?: FetchPolicy | undefined;
}

/** A candidate of an earlier result: its stored file and what made it. */
function candidate(history: JobHistory, jobId: string, index: number): Resolved<{ record: JobRecord; path: string; prompt: string; noise: JobRecord['spec']['candidates'][number]['noise'] }> {
  const record = history.get(jobId);
  const image = record?.result?.images.find((i) => i.index === index);
  if (!record || !image) return fail({ code: 'expired-button' });
  if (image.withheld) return fail({ code: 'input-blocked', message: 'withheld candidate' });
  // Delivered but never kept (the disk was full): it has to come back as an upload.
  if (image.path === null) return fail({ code: 'missing-image', message: 'candidate not stored' });
  return ok({ record, path: image.path, prompt: image.prompt, noise: image.noise });
}

/** The candidates a result delivered (never a withheld one), in order. */
const deliveredOf = (record: JobRecord | undefined): number[] => record?.result?.images.filter((i) => !i.withheld).map((i) => i.index) ?? [];

/**
 * Which candidates of a whole result an edit starts from: the one `pick` names (1-based), else every one it delivered
 * — one job, one source per candidate, one grid back.
 */
function candidatesOf(history: JobHistory, jobId: string, pick: number | undefined): Resolved<number[]> {
  const record = history.get(jobId);
  if (!record?.result) return fail({ code: 'expired-button' });
  const count = record.result.images.length;
  if (pick === undefined) {
    const delivered = deliveredOf(record);
    return delivered.length > 0 ? ok(delivered) : fail({ code: 'input-blocked', message: 'every candidate withheld' });
  }
  if (pick > count) return fail({ code: 'no-such-candidate', params: { n: pick, count } });
  return ok([pick - 1]);
}

type Image = { input: ImageInput; prompt: string | null; parent: { jobId: string; index: number } | null };

/** An image source as engine input, plus the prompt that made it when this bot made it. */
async function imageOf(ctx: RequestContext, source: ImageSource): Promise<Resolved<Image>> {
  if ('jobId' in source) {
    // A whole result where one image is wanted: its first delivered candidate.
    const index = source.index ?? deliveredOf(ctx.history.get(source.jobId))[0] ?? 0;
    const found = candidate(ctx.history, source.jobId, index);
    if (!found.ok) return found;
    return ok({ input: { path: found.value.path }, prompt: found.value.prompt, parent: { jobId: source.jobId, index } });
  }
  let bytes: Uint8Array;
  if ('url' in source) {
    if (!ctx.fetchPolicy) return fail({ code: 'attachment-host' });
    const fetched = await fetchImage(source.url, ctx.fetchPolicy);
    if (!fetched.ok) return fetched;
    bytes = fetched.value.bytes;
  } else {
    bytes = source.bytes;
  }
  return ok({ input: { bytes }, prompt: promptInPng(bytes), parent: null });
}

/** The actor's newest result in this channel, of one of the roles (a done job always delivered something). */
function latest(history: JobHistory, who: Who, roles: readonly Role[]): ImageSource | undefined {
  const owner = { platform: who.actor.platform, userId: who.actor.userId };
  const found = history.latestDone({ owner, roles, scope: scopeOf(who.place) });
  return found ? { jobId: found.id } : undefined;
}

/** The prompt of an edit: an image this bot made has a known prompt, and the instruction edits it. */
const editPrompt = (made: string | null, instruction: string): string => (made && instruction ? `${made}, ${instruction}` : instruction || made || '');

/**
 * A parsed command → the engine's request: its images resolved (a candidate of an earlier result, an upload, a
 * download under the adapter's policy, or the asker's latest result in the channel) and the prompt it carries (the
 * parent's prompt for a refine without one, the parent's prompt and the instruction for an edit of one of ours).
 */
export async function requestFor(command: ParsedCommand, who: Who, ctx: RequestContext): Promise<Resolved<GenerationRequest>> {
  const { actor } = who;
  const owner = actor.name === undefined ? { platform: actor.platform, userId: actor.userId } : { platform: actor.platform, userId: actor.userId, name: actor.name };
  switch (command.kind) {
    case 'draft':
      return ok({ role: 'draft', owner, prompt: command.prompt, ...engineOptions(command.options) });
    case 'refine': {
      const source = command.image ?? latest(ctx.history, who, ['draft']);
      if (!source) return fail({ code: 'no-draft' });
      const image = await imageOf(ctx, source);
      if (!image.ok) return image;
      const parentSpec = image.value.parent ? ctx.history.get(image.value.parent.jobId)?.spec : undefined;
      return ok({
        role: 'refine',
        owner,
        prompt: command.prompt || image.value.prompt || '',
        image: image.value.input,
        ...(parentSpec && command.options.no === undefined && !command.prompt ? { negativePrompt: parentSpec.negativePrompt } : {}),
        ...(image.value.parent ? { parent: image.value.parent } : {}),
        ...engineOptions(command.options),
      });
    }
    case 'edit': {
      const source = command.image ?? latest(ctx.history, who, ['draft', 'refine', 'edit']);
      if (!source) return fail({ code: 'no-image' });
      const mask = command.mask ? await imageOf(ctx, command.mask) : undefined;
      if (mask && !mask.ok) return mask;
      const common = { role: 'edit', owner, ...(mask ? { mask: mask.value.input } : {}), ...engineOptions(command.options) } as const;
      if ('jobId' in source && source.index === undefined) {
        const indices = candidatesOf(ctx.history, source.jobId, command.pick);
        if (!indices.ok) return indices;
        const images: Image[] = [];
        for (const index of indices.value) {
          const image = await imageOf(ctx, { jobId: source.jobId, index });
          if (!image.ok) return image;
          images.push(image.value);
        }
        if (images.length > 1) {
          const sources = images.map((image) => ({ image: image.input, prompt: editPrompt(image.prompt, command.prompt), parentIndex: image.parent!.index }));
          return ok({ ...common, prompt: command.prompt || sources[0]!.prompt, sources, parent: { jobId: source.jobId } });
        }
        const [only] = images;
        return ok({ ...common, prompt: editPrompt(only!.prompt, command.prompt), image: only!.input, parent: only!.parent! });
      }
      const image = await imageOf(ctx, source);
      if (!image.ok) return image;
      return ok({ ...common, prompt: editPrompt(image.value.prompt, command.prompt), image: image.value.input, ...(image.value.parent ? { parent: image.value.parent } : {}) });
    }
    case 'vary': {
      const chosen = candidate(ctx.history, command.jobId, command.index);
      if (!chosen.ok) return chosen;
      const { spec } = chosen.value.record;
      return ok({
        role: 'draft',
        action: 'vary',
        owner,
        prompt: chosen.value.prompt,
        negativePrompt: spec.negativePrompt,
        vary: { noise: chosen.value.noise, strength: command.strength },
        count: spec.candidates.length,
        width: spec.width,
        height: spec.height,
        ...(spec.role === 'draft' ? { steps: spec.steps, guidance: spec.guidance } : {}),
        parent: { jobId: command.jobId, index: command.index },
      });
    }
    case 'upscale': {
      const chosen = candidate(ctx.history, command.jobId, command.index);
      if (!chosen.ok) return chosen;
      const { record, path, prompt, noise } = chosen.value;
      return ok({
        role: 'refine',
        action: 'upscale',
        upscale: true,
        owner,
        prompt,
        negativePrompt: record.spec.negativePrompt,
        image: { path },
        noises: [noise],
        parent: { jobId: command.jobId, index: command.index },
      });
    }
    case 'reroll': {
      const record = ctx.history.get(command.jobId);
      if (!record) return fail({ code: 'expired-button' });
      return ok({ ...rerollOf(record, owner), action: 'reroll' });
    }
    case 'enhance':
    case 'original': {
      // Enhance rewrites the user's own words (an enhanced result's original), not a rewrite again.
      const record = ctx.history.get(command.jobId);
      const enhancedFrom = record ? readDelivery(record).enhancedFrom : null;
      const prompt = command.kind === 'original' ? enhancedFrom : (enhancedFrom ?? record?.spec.userPrompt);
      if (!record || !prompt) return fail({ code: 'expired-button' });
      return ok({ ...redraftOf(record, owner, prompt), action: command.kind });
    }
    case 'suggestion':
      // The core reads the stored suggestion first and drafts it as a draft command.
      return fail({ code: 'expired-suggestion' });
  }
}

/** The bytes of an image source: an upload, a download under the adapter's policy, or a stored candidate of ours. */
export async function imageBytesOf(ctx: RequestContext, source: ImageSource): Promise<Resolved<Uint8Array>> {
  const image = await imageOf(ctx, source);
  if (!image.ok) return image;
  const input = image.value.input;
  if ('bytes' in input) return ok(input.bytes);
  try {
    return ok(new Uint8Array(await readFile(input.path)));
  } catch {
    return fail({ code: 'missing-image', message: 'stored candidate unreadable' });
  }
}

/**
 * A draft of `prompt` with an earlier job's settings and seed (so the picture changes only as the prompt does): its
 * size, count, style, negative prompt and chaos, and its steps and guidance when it was a draft.
 */
function redraftOf(record: JobRecord, owner: GenerationRequest['owner'], prompt: string): GenerationRequest {
  const { spec } = record;
  return {
    role: 'draft',
    owner,
    prompt,
    ...choicesOf(spec),
    seed: spec.seed,
    ...(spec.role === 'draft' ? { steps: spec.steps, guidance: spec.guidance } : {}),
    parent: { jobId: record.id },
  };
}

/**
 * What a person chose for a job that a redraft or a reroll keeps: negative prompt, style, size, chaos, and the count
 * (a prompt matrix's count comes from its prompts again).
 */
function choicesOf(spec: JobRecord['spec']): Partial<GenerationRequest> {
  const isMatrix = new Set(spec.candidates.map((c) => c.prompt)).size > 1;
  return {
    ...(spec.userNegativePrompt !== null ? { negativePrompt: spec.userNegativePrompt } : {}),
    ...(spec.style !== null ? { style: spec.style } : {}),
    ...(isMatrix ? {} : { count: spec.candidates.length }),
    chaos: spec.chaos,
    width: spec.width,
    height: spec.height,
  };
}

/** The prompt in a PNG this bot made (its text chunk); null for anyone else's image. */
function promptInPng(bytes: Uint8Array): string | null {
  try {
    const chunk = readTextChunks(Buffer.from(bytes))['zimage-bot'];
    return chunk ? ((JSON.parse(chunk) as { prompt?: string }).prompt ?? null) : null;
  } catch {
    // Not one of ours (or not a PNG): no known prompt.
    return null;
  }
}

/** The same job again with fresh noise: every parameter the user chose, none of the seeds. */
function rerollOf(record: JobRecord, owner: GenerationRequest['owner']): GenerationRequest {
  const { spec } = record;
  return {
    role: spec.role,
    owner,
    prompt: spec.userPrompt,
    ...choicesOf(spec),
    steps: spec.steps,
    guidance: spec.guidance,
    ...(spec.role !== 'draft' ? { strength: spec.strength } : {}),
    ...(spec.image ? { image: { path: spec.image } } : {}),
    ...(spec.mask?.kind === 'image' ? { mask: { path: spec.mask.path } } : {}),
    ...(spec.mask?.kind === 'region' ? { region: regionText(spec.mask.region) } : {}),
    parent: { jobId: record.id },
  };
}

function regionText(region: { x: number; y: number; w: number; h: number }): string {
  return [region.x, region.y, region.w, region.h].map((v) => String(Math.round(v * 10000) / 100)).join(',');
}

/** Grammar options → the engine's request fields. */
function engineOptions(options: CommandOptions): Partial<GenerationRequest> {
  const out: Record<string, unknown> = {};
  if (options.seed !== undefined) out.seed = options.seed;
  if (options.count !== undefined) out.count = options.count;
  if (options.chaos !== undefined) out.chaos = options.chaos;
  if (options.ar !== undefined) out.aspectRatio = options.ar;
  if (options.style !== undefined) out.style = options.style;
  if (options.no !== undefined) out.negativePrompt = options.no;
  if (options.steps !== undefined) out.steps = options.steps;
  if (options.guidance !== undefined) out.guidance = options.guidance;
  if (options.strength !== undefined) out.strength = options.strength;
  if (options.region !== undefined) out.region = options.region;
  return out as Partial<GenerationRequest>;
}
