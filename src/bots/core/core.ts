import type { Role } from '../../config/schema.ts';
import type { Engine } from '../../engine/engine.ts';
import { readTextChunks } from '../../engine/image/png-text.ts';
import type { JobHandle } from '../../engine/job-handle.ts';
import type { JobRecord } from '../../engine/journal.ts';
import type { GenerationRequest, ImageInput } from '../../engine/request.ts';
import type { Logger } from '../../logging.ts';
import type { ModerationPolicy } from '../../moderation/verdict.ts';
import type { Actor, CommandRequest, ImageSource, Locale, Place } from './command.ts';
import type { CoreError, UserError } from './errors.ts';
import { parseCommandText } from './grammar.ts';
import { followJob } from './lifecycle.ts';
import type { CommandOptions } from './options.ts';
import type { Reply, ReplySink } from './reply.ts';
import { errorText } from './texts.ts';

export interface CoreDeps {
  readonly engine: Engine;
  readonly policyFor: (place: Place) => ModerationPolicy;
  readonly log: Logger;
  /** Status edits at most this often. */
  readonly statusIntervalMs: number;
}

/** What the core keeps in the journal's delivery column, around the adapter's own data. */
export interface DeliveryEnvelope<T = unknown> {
  /** Kept at the top level: the journal finds a user's latest draft in a channel by it. */
  readonly channel: string;
  readonly locale: Locale;
  readonly place: Place;
  readonly data: T;
}

export type CoreOutcome =
  | { readonly kind: 'refused'; readonly error: UserError; readonly reply: Reply }
  | { readonly kind: 'queued'; readonly jobId: string; readonly handle: JobHandle; readonly finished: Promise<void> }
  | { readonly kind: 'cancelled'; readonly jobId: string }
  | { readonly kind: 'delete'; readonly jobId: string; readonly record: JobRecord };

const refused = (locale: Locale, error: UserError): CoreOutcome => ({ kind: 'refused', error, reply: { kind: 'error', text: errorText(locale, error) } });

type Resolved<T> = { ok: true; value: T } | { ok: false; error: UserError };

/**
 * The platform-neutral bot: parse → validate → enqueue → follow. Adapters hand it CommandRequests and a sink that
 * renders Replies; it never touches a platform API.
 */
export class BotCore {
  readonly #deps: CoreDeps;

  constructor(deps: CoreDeps) {
    this.#deps = deps;
  }

  get engine(): Engine {
    return this.#deps.engine;
  }

  /** Fast, synchronous checks (the grammar) so an adapter can refuse before deferring. */
  precheck(command: CommandRequest, actor: Actor): Reply | undefined {
    if (command.kind !== 'draft' && command.kind !== 'refine' && command.kind !== 'edit') return undefined;
    const parsed = this.#options(command.kind, command.text ?? '', command.options ?? {});
    return parsed.ok ? undefined : { kind: 'error', text: errorText(actor.locale, parsed.error) };
  }

  /** Runs a command. Refusals come back as an error Reply for the adapter to show privately. */
  async run(command: CommandRequest, actor: Actor, place: Place, sink: ReplySink, platformDelivery: unknown = null): Promise<CoreOutcome> {
    try {
      switch (command.kind) {
        case 'cancel':
        case 'delete':
          return this.#ownerAction(command.kind, command.jobId, actor);
        default: {
          const request = await this.#request(command, actor, place);
          if (!request.ok) return refused(actor.locale, request.error);
          const delivery: DeliveryEnvelope = { channel: place.channelId, locale: actor.locale, place, data: platformDelivery };
          const submitted = await this.#deps.engine.submit(request.value, { delivery, policy: this.#deps.policyFor(place) });
          if (!submitted.ok) return refused(actor.locale, submitted.error);
          const handle = submitted.value;
          return { kind: 'queued', jobId: handle.id, handle, finished: this.follow(handle, sink) };
        }
      }
    } catch (error) {
      this.#deps.log.error({ err: error, command: command.kind }, 'command failed');
      return refused(actor.locale, { code: 'internal', message: 'internal error' });
    }
  }

  /** Renders a job's lifecycle into a sink (also for jobs recovered after a restart). */
  follow(handle: JobHandle, sink: ReplySink): Promise<void> {
    const record = handle.record;
    const envelope = record.delivery as DeliveryEnvelope | null;
    return followJob(
      handle,
      { jobId: record.id, parentId: record.parentId, role: record.role, prompt: record.spec.userPrompt, locale: envelope?.locale ?? 'en' },
      sink,
      { minIntervalMs: this.#deps.statusIntervalMs, log: this.#deps.log },
    );
  }

  #ownerAction(kind: 'cancel' | 'delete', jobId: string, actor: Actor): CoreOutcome {
    const record = this.#deps.engine.journal.get(jobId);
    if (!record) return refused(actor.locale, { code: 'unknown-job' });
    const isOwner = record.owner.platform === actor.platform && record.owner.userId === actor.userId;
    if (!isOwner && !actor.isAdmin) return refused(actor.locale, { code: 'not-owner' });
    if (kind === 'delete') return { kind: 'delete', jobId, record };
    const cancelled = this.#deps.engine.cancel(jobId);
    return cancelled.ok ? { kind: 'cancelled', jobId } : refused(actor.locale, cancelled.error);
  }

  #options(role: Role, text: string, slash: CommandOptions): Resolved<{ prompt: string; options: CommandOptions }> {
    const parsed = parseCommandText(text, role);
    if (!parsed.ok) return parsed;
    const options: CommandOptions = { ...slash };
    for (const [key, value] of Object.entries(parsed.value.options)) {
      const current = (slash as Record<string, unknown>)[key];
      if (current !== undefined && current !== value) return { ok: false, error: { code: 'duplicate-flag', params: { flag: `--${key}` } } };
      (options as Record<string, unknown>)[key] = value;
    }
    return { ok: true, value: { prompt: parsed.value.prompt, options } };
  }

  /** A candidate of an earlier result: its stored file and what made it. */
  #candidate(jobId: string, index: number): Resolved<{ record: JobRecord; path: string; prompt: string; noise: JobRecord['spec']['candidates'][number]['noise'] }> {
    const record = this.#deps.engine.journal.get(jobId);
    const image = record?.result?.images.find((i) => i.index === index);
    if (!record || !image) return { ok: false, error: { code: 'expired-button' } satisfies CoreError };
    if (image.withheld || image.path === null) return { ok: false, error: { code: 'input-blocked', message: 'withheld candidate' } };
    return { ok: true, value: { record, path: image.path, prompt: image.prompt, noise: image.noise } };
  }

  /** An image source as engine input, plus the prompt that made it when this bot made it. */
  #image(source: ImageSource): Resolved<{ input: ImageInput; prompt: string | null; parent: { jobId: string; index: number } | null }> {
    if ('bytes' in source) {
      let prompt: string | null = null;
      try {
        const chunk = readTextChunks(Buffer.from(source.bytes))['zimage-bot'];
        if (chunk) prompt = (JSON.parse(chunk) as { prompt?: string }).prompt ?? null;
      } catch {
        // Not one of ours (or not a PNG): no known prompt.
      }
      return { ok: true, value: { input: { bytes: source.bytes }, prompt, parent: null } };
    }
    const candidate = this.#candidate(source.jobId, source.index);
    if (!candidate.ok) return candidate;
    return { ok: true, value: { input: { path: candidate.value.path }, prompt: candidate.value.prompt, parent: { jobId: source.jobId, index: source.index } } };
  }

  async #request(command: Exclude<CommandRequest, { kind: 'cancel' | 'delete' }>, actor: Actor, place: Place): Promise<Resolved<GenerationRequest>> {
    const owner = actor.name === undefined ? { platform: actor.platform, userId: actor.userId } : { platform: actor.platform, userId: actor.userId, name: actor.name };
    switch (command.kind) {
      case 'draft': {
        const parsed = this.#options('draft', command.text, command.options ?? {});
        if (!parsed.ok) return parsed;
        return { ok: true, value: { role: 'draft', owner, prompt: parsed.value.prompt, ...engineOptions(parsed.value.options) } };
      }
      case 'refine': {
        const parsed = this.#options('refine', command.text ?? '', command.options ?? {});
        if (!parsed.ok) return parsed;
        let source = command.image;
        if (!source) {
          const latest = this.#deps.engine.journal.latestDone(owner, 'draft', place.channelId);
          const index = latest?.result?.images.find((i) => !i.withheld)?.index;
          if (!latest || index === undefined) return { ok: false, error: { code: 'no-draft' } };
          source = { jobId: latest.id, index };
        }
        const image = this.#image(source);
        if (!image.ok) return image;
        const parentSpec = image.value.parent ? this.#deps.engine.journal.get(image.value.parent.jobId)?.spec : undefined;
        const prompt = parsed.value.prompt || image.value.prompt || '';
        return {
          ok: true,
          value: {
            role: 'refine',
            owner,
            prompt,
            image: image.value.input,
            ...(parentSpec && parsed.value.options.no === undefined && !parsed.value.prompt ? { negativePrompt: parentSpec.negativePrompt } : {}),
            ...(image.value.parent ? { parent: image.value.parent } : {}),
            ...engineOptions(parsed.value.options),
          },
        };
      }
      case 'edit': {
        const parsed = this.#options('edit', command.text, command.options ?? {});
        if (!parsed.ok) return parsed;
        const image = this.#image(command.image);
        if (!image.ok) return image;
        const mask = command.mask ? this.#image(command.mask) : undefined;
        if (mask && !mask.ok) return mask;
        const instruction = parsed.value.prompt;
        // An image this bot made: its prompt is known, and the instruction edits it.
        const prompt = image.value.prompt && instruction ? `${image.value.prompt}, ${instruction}` : instruction || image.value.prompt || '';
        return {
          ok: true,
          value: {
            role: 'edit',
            owner,
            prompt,
            image: image.value.input,
            ...(mask ? { mask: mask.value.input } : {}),
            ...(image.value.parent ? { parent: image.value.parent } : {}),
            ...engineOptions(parsed.value.options),
          },
        };
      }
      case 'vary': {
        const candidate = this.#candidate(command.jobId, command.index);
        if (!candidate.ok) return candidate;
        const { spec } = candidate.value.record;
        return {
          ok: true,
          value: {
            role: 'draft',
            owner,
            prompt: candidate.value.prompt,
            negativePrompt: spec.negativePrompt,
            vary: { noise: candidate.value.noise, strength: command.strength },
            count: spec.candidates.length,
            width: spec.width,
            height: spec.height,
            ...(spec.role === 'draft' ? { steps: spec.steps, guidance: spec.guidance } : {}),
            parent: { jobId: command.jobId, index: command.index },
          },
        };
      }
      case 'reroll': {
        const record = this.#deps.engine.journal.get(command.jobId);
        if (!record) return { ok: false, error: { code: 'expired-button' } };
        const { spec } = record;
        const isMatrix = new Set(spec.candidates.map((c) => c.prompt)).size > 1;
        return {
          ok: true,
          value: {
            role: spec.role,
            owner,
            prompt: spec.userPrompt,
            ...(spec.userNegativePrompt !== null ? { negativePrompt: spec.userNegativePrompt } : {}),
            ...(spec.style !== null ? { style: spec.style } : {}),
            ...(isMatrix ? {} : { count: spec.candidates.length }),
            chaos: spec.chaos,
            steps: spec.steps,
            guidance: spec.guidance,
            width: spec.width,
            height: spec.height,
            ...(spec.role !== 'draft' ? { strength: spec.strength } : {}),
            ...(spec.image ? { image: { path: spec.image } } : {}),
            ...(spec.mask?.kind === 'image' ? { mask: { path: spec.mask.path } } : {}),
            ...(spec.mask?.kind === 'region' ? { region: regionText(spec.mask.region) } : {}),
            parent: { jobId: record.id },
          },
        };
      }
    }
  }
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
