import type { Assistant } from '../../assistant/assistant.ts';
import { notConfigured } from '../../assistant/errors.ts';
import type { Role } from '../../config/schema.ts';
import type { AdmittedJob, Engine } from '../../engine/engine.ts';
import type { JobHistory, JobRecord } from '../../engine/history.ts';
import type { JobHandle } from '../../engine/job-handle.ts';
import type { StyleCatalog } from '../../engine/prompt/styles.ts';
import type { SamplingSettings } from '../../engine/sampling-settings.ts';
import type { Logger } from '../../logging.ts';
import type { GenerationRequest } from '../../engine/request.ts';
import type { ModerationPolicy } from '../../moderation/verdict.ts';
import { fail, ok, type Result } from '../../result.ts';
import { ChatAssistant, isPromptMatrix } from './assistant.ts';
import { precheckDownload, type FetchPolicy } from './attachments.ts';
import { type Actor, type CommandRequest, type ImageSource, type JobCommand, type Locale, ownsOrAdministers, type ParsedCommand, type Place, scopeOf, type Who } from './command.ts';
import { imageBytesOf, requestFor } from './requests.ts';
import type { UserError } from './errors.ts';
import { parseCommandText } from './grammar.ts';
import { followJob } from './lifecycle.ts';
import type { CommandOptions } from './options.ts';
import type { Reply, ReplySink } from './reply.ts';
import { renderSuggestions } from './render.ts';
import { Team, type TeamDeps } from './team.ts';
import type { DeliveryEnvelope } from './delivery-envelope.ts';

export { readDelivery, type DeliveryEnvelope } from './delivery-envelope.ts';

export interface CoreDeps {
  readonly engine: Engine;
  readonly policyFor: (place: Place) => ModerationPolicy;
  readonly log: Logger;
  /** Status edits at most this often. */
  readonly statusIntervalMs: number;
  /** What channel and personal settings may hold; absent: counts up to 4, and only `block` for channels to choose. */
  readonly settings?: TeamDeps['settings'];
  /** A result whose votes changed is edited at most this often (default 3 s). */
  readonly voteEditIntervalMs?: number;
  /** The prompt assistant; absent or not configured: --enhance, Enhance and describe are refused with the setup line. */
  readonly assistant?: Assistant;
}

/** What a prepared job shows before it runs (or, with `task`, what a card shows before a describe answers). */
export interface ShownJob {
  readonly role: Role;
  /** The prompt as the user will see it on the job's card (flags removed, or the parent's prompt). */
  readonly prompt: string;
  readonly locale: Locale;
  /** The card is for a describe: its suggestions, not a job, will follow on it. */
  readonly task?: 'describe';
}

/** A command resolved and checked by the engine, ready to queue. */
export interface PreparedCommand {
  readonly shown: ShownJob;
  readonly who: Who;
  readonly job: AdmittedJob;
  /**
   * Its prompt is still to be rewritten by the prompt assistant (`--enhance`, Enhance): `BotCore.enhance` does it and
   * checks the job again. The request checked here carries the user's own prompt.
   */
  readonly enhance?: { readonly original: string; readonly request: GenerationRequest };
  /** The prompt was rewritten from this one: the journal keeps it, and the result offers it back. */
  readonly enhancedFrom?: string;
}

type SuggestionsReply = Extract<Reply, { kind: 'suggestions' }>;

export interface SubmittedJob {
  readonly handle: JobHandle;
  /** Resolves once the job's final reply has gone to the sink. */
  readonly finished: Promise<void>;
}

type Resolved<T> = Result<T, UserError>;

/**
 * The platform-neutral bot, in three steps: `parse` (synchronous: the text and options), `prepare` (the images
 * and the prompt resolved, every check the engine makes), `submit` (queued, its life rendered into a sink). Owner
 * actions (`cancel`, `delete`) and pausing are here too. It never touches a platform API; core/flow.ts drives an
 * adapter's port through these steps. Over 300 lines on purpose: the steps share their look-ups and checks; the team
 * features (team.ts) and the assistant (assistant.ts) live apart.
 */
export class BotCore {
  readonly #deps: CoreDeps;

  /** Votes, the board, lineage and settings: what a team builds on the jobs. */
  readonly team: Team;

  /** The prompt assistant: whether it is configured (platforms offer its features only then), enhance, describe. */
  readonly assistant: ChatAssistant;

  constructor(deps: CoreDeps) {
    this.#deps = deps;
    this.assistant = new ChatAssistant({ assistant: deps.assistant, engine: deps.engine });
    this.team = new Team({
      engine: deps.engine,
      log: deps.log,
      policyFor: deps.policyFor,
      settings: deps.settings,
      voteEditIntervalMs: deps.voteEditIntervalMs,
      canEnhance: (record) => this.assistant.canEnhance(record),
    });
  }

  /** Every job, read-only. */
  get history(): JobHistory {
    return this.#deps.engine.history;
  }

  /** The style presets `--style` takes. */
  get styles(): StyleCatalog {
    return this.#deps.engine.styles;
  }

  /** A role's steps range and defaults, as its profile and model set them (for a platform's option limits). */
  sampling(role: Role): SamplingSettings {
    return this.#deps.engine.sampling(role);
  }

  /** A job that is waiting or running, with its latest event. */
  live(jobId: string): JobHandle | undefined {
    return this.#deps.engine.job(jobId);
  }

  /** True while new jobs are refused (the process is pausing or shutting down). */
  get paused(): boolean {
    return !this.#deps.engine.accepting;
  }

  /** One switch for the whole process: every platform refuses new jobs while paused; running jobs go on. */
  pause(): void {
    this.#deps.engine.pause();
  }

  resume(): void {
    this.#deps.engine.resume();
  }

  /** The text and options of a job command, and what can be known of its attachments without downloading them. */
  parse(command: JobCommand, fetchPolicy?: FetchPolicy): Resolved<ParsedCommand> {
    if (this.paused) return fail({ code: 'shutting-down', message: 'paused' });
    switch (command.kind) {
      case 'vary':
      case 'upscale':
      case 'reroll':
      case 'suggestion':
        return ok(command);
      case 'enhance':
        return this.assistant.configured ? ok(command) : fail(notConfigured());
      case 'original':
        return ok(command);
      case 'draft': {
        const parsed = parseOptions('draft', command.text, command.options ?? {});
        if (!parsed.ok) return parsed;
        // Never a draft quietly unenhanced: without an assistant, --enhance is refused with how to turn it on.
        if (parsed.value.options.enhance && !this.assistant.configured) return fail(notConfigured());
        if (parsed.value.options.enhance && isPromptMatrix(parsed.value.prompt)) return fail({ code: 'enhance-matrix' });
        return ok({ kind: 'draft', ...parsed.value });
      }
      case 'refine': {
        const parsed = parseOptions('refine', command.text ?? '', command.options ?? {});
        if (!parsed.ok) return parsed;
        const refusal = command.image && sourceRefusal(command.image, fetchPolicy);
        if (refusal) return fail(refusal);
        return ok({ kind: 'refine', ...parsed.value, ...(command.image ? { image: command.image } : {}) });
      }
      case 'edit': {
        const { text, pick } = candidatePick(command.text);
        if (pick !== undefined && command.candidate !== undefined && pick !== command.candidate) {
          return fail({ code: 'duplicate-flag', params: { flag: `#${pick}` } });
        }
        const parsed = parseOptions('edit', text, command.options ?? {});
        if (!parsed.ok) return parsed;
        for (const source of [command.image, command.mask]) {
          const refusal = source && sourceRefusal(source, fetchPolicy);
          if (refusal) return fail(refusal);
        }
        const chosen = pick ?? command.candidate;
        return ok({
          kind: 'edit',
          ...parsed.value,
          ...(command.image ? { image: command.image } : {}),
          ...(command.mask ? { mask: command.mask } : {}),
          ...(chosen !== undefined ? { pick: chosen } : {}),
        });
      }
    }
  }

  /**
   * Downloads and resolves the images and the prompt, then asks the engine for every check it makes. A draft takes
   * its defaults from the person's settings, then the channel's; a press on someone else's result is refused where
   * the channel keeps its results' buttons to their owners.
   */
  async prepare(command: ParsedCommand, who: Who, fetchPolicy?: FetchPolicy): Promise<Resolved<PreparedCommand>> {
    const pressed = this.team.pressRefusal(command, who);
    if (pressed) return fail(pressed);
    if (command.kind === 'suggestion') {
      // A Draft press on describe's suggestions: that prompt, drafted as if typed.
      const prompt = this.assistant.suggestion(command.setId, command.index, who);
      if (!prompt.ok) return prompt;
      command = { kind: 'draft', prompt: prompt.value, options: {} };
    }
    if (command.kind === 'draft') command = { ...command, options: this.team.draftOptions(command.options, who) };
    const request = await requestFor(command, who, { history: this.history, fetchPolicy });
    if (!request.ok) return request;
    // A rewrite to come is checked with the user's prompt first, so a bad flag or a full queue is said before the wait.
    const checked = await this.#deps.engine.check(request.value);
    if (!checked.ok) return checked;
    const shown = { role: request.value.role, prompt: checked.value.spec.userPrompt, locale: who.actor.locale };
    const enhance = command.kind === 'enhance' || (command.kind === 'draft' && command.options.enhance === true);
    return ok({ shown, who, job: checked.value, ...(enhance ? { enhance: { original: request.value.prompt, request: request.value } } : {}) });
  }

  /**
   * The prompt assistant's rewrite of a prepared job's prompt, checked by the engine again as the job to queue. A
   * prepared job with nothing to rewrite comes back as it is.
   */
  async enhance(prepared: PreparedCommand): Promise<Resolved<PreparedCommand>> {
    const step = prepared.enhance;
    if (!step) return ok(prepared);
    const rewritten = await this.assistant.enhance(step.original, prepared.who);
    if (!rewritten.ok) return rewritten;
    const request = { ...step.request, prompt: rewritten.value.prompt };
    const checked = await this.#deps.engine.check(request);
    if (!checked.ok) return checked;
    return ok({
      shown: { ...prepared.shown, prompt: checked.value.spec.userPrompt },
      who: prepared.who,
      job: checked.value,
      enhancedFrom: rewritten.value.original,
    });
  }

  /**
   * Why a describe of `image` is refused before anything is downloaded (no assistant, pausing, the attachment's host
   * or declared size); undefined when it may go on.
   */
  describeRefusal(image: ImageSource, fetchPolicy?: FetchPolicy): UserError | undefined {
    if (!this.assistant.configured) return notConfigured();
    if (this.paused) return { code: 'shutting-down', message: 'paused' };
    return sourceRefusal(image, fetchPolicy);
  }

  /**
   * Up to four prompts for an image (an upload, an attachment downloaded under the adapter's policy, a candidate of
   * ours), stored for their Draft buttons, as the reply a platform shows.
   */
  async describe(image: ImageSource, who: Who, fetchPolicy?: FetchPolicy): Promise<Resolved<SuggestionsReply>> {
    const refusal = this.describeRefusal(image, fetchPolicy);
    if (refusal) return fail(refusal);
    const bytes = await imageBytesOf({ history: this.history, fetchPolicy }, image);
    if (!bytes.ok) return bytes;
    const described = await this.assistant.describe(bytes.value, who);
    if (!described.ok) return described;
    return ok(renderSuggestions(who.actor.locale, described.value.id, described.value.prompts, described.value.withheld));
  }

  /** Queues a prepared job; its life is rendered into the sink from the first event on. */
  async submit(prepared: PreparedCommand, delivery: unknown, sink: ReplySink): Promise<Resolved<SubmittedJob>> {
    if (prepared.enhance) {
      // A caller that skipped the rewrite still gets it: a job asked to be enhanced never runs unenhanced.
      const enhanced = await this.enhance(prepared);
      if (!enhanced.ok) return enhanced;
      prepared = enhanced.value;
    }
    const { who } = prepared;
    const envelope: DeliveryEnvelope = {
      locale: who.actor.locale,
      place: who.place,
      data: delivery,
      ...(prepared.enhancedFrom !== undefined ? { enhancedFrom: prepared.enhancedFrom } : {}),
    };
    const submitted = await this.#deps.engine.submit(prepared.job, { scope: scopeOf(who.place), delivery: envelope, policy: this.team.policy(who.place) });
    if (!submitted.ok) return submitted;
    return ok({ handle: submitted.value, finished: this.follow(submitted.value, sink) });
  }

  /** Renders a job's lifecycle into a sink (also for jobs recovered after a restart). */
  follow(handle: JobHandle, sink: ReplySink): Promise<void> {
    const record = handle.record;
    return followJob(
      handle,
      this.team.viewOf(record),
      sink,
      { minIntervalMs: this.#deps.statusIntervalMs, log: this.#deps.log },
    );
  }

  /** Changes a journaled job's adapter data (its envelope stays the core's): a message that moved, a token dropped. */
  updateDelivery(jobId: string, change: (data: unknown) => unknown): void {
    // The journal's copy first: the live record is the one the job was queued with.
    const record = this.history.get(jobId) ?? this.live(jobId)?.record;
    const envelope = record?.delivery as DeliveryEnvelope | null | undefined;
    if (envelope) this.#deps.engine.updateDelivery(jobId, { ...envelope, data: change(envelope.data) });
  }

  /** The same for every job of a platform whose data `change` rewrites (returns something for); how many were. */
  rewriteDeliveries(platform: string, change: (data: unknown) => unknown): number {
    return this.#deps.engine.rewriteDeliveries(platform, (delivery) => {
      const envelope = delivery as Partial<DeliveryEnvelope> | null;
      const changed = envelope && 'data' in envelope ? change(envelope.data) : undefined;
      return changed === undefined ? undefined : { ...envelope, data: changed };
    });
  }

  /** Cancel: the job's owner, or an admin where the job was asked for. The job's own sink then shows it cancelled. */
  cancel(jobId: string, who: Who): Resolved<JobRecord> {
    const record = this.#ownedBy(jobId, who);
    if (!record.ok) return record;
    const cancelled = this.#deps.engine.cancel(jobId);
    return cancelled.ok ? record : cancelled;
  }

  /**
   * Delete: the owner, or an admin where the job was asked for, may remove its messages; the record says where. Its
   * votes go with it, so a deleted result leaves the board.
   */
  delete(jobId: string, who: Who): Resolved<JobRecord> {
    const record = this.#ownedBy(jobId, who);
    if (!record.ok) return record;
    const cleared = this.team.clearVotes(jobId);
    return cleared.ok ? record : cleared;
  }

  /**
   * The job, if `who` may act on it: its owner, or an admin of the workspace (guild, Slack team) it was asked in —
   * an admin elsewhere is nobody here.
   */
  #ownedBy(jobId: string, who: Who): Resolved<JobRecord> {
    const record = this.history.get(jobId) ?? this.live(jobId)?.record;
    if (!record) return fail({ code: 'unknown-job' });
    return ownsOrAdministers(record, who) ? ok(record) : fail({ code: 'not-owner' });
  }
}

/** The grammar over the text, merged with the platform's own options (a slash command's); a flag given both ways must agree. */
function parseOptions(role: Role, text: string, slash: CommandOptions): Resolved<{ prompt: string; options: CommandOptions }> {
  const parsed = parseCommandText(text, role);
  if (!parsed.ok) return parsed;
  const options: CommandOptions = { ...slash };
  for (const [key, value] of Object.entries(parsed.value.options)) {
    const current = (slash as Record<string, unknown>)[key];
    if (current !== undefined && current !== value) return fail({ code: 'duplicate-flag', params: { flag: `--${key}` } });
    (options as Record<string, unknown>)[key] = value;
  }
  return ok({ prompt: parsed.value.prompt, options });
}

/**
 * `#2 make it blue` (or `＃2`, as a Chinese keyboard types it) picks candidate 2 of a result with several; the rest is
 * the instruction. One rule on every platform, decided here.
 */
function candidatePick(text: string): { text: string; pick?: number } {
  const match = /^\s*[#＃]([1-9１-９])\s*([\s\S]*)$/u.exec(text);
  return match ? { text: match[2]!, pick: Number(match[1]!.normalize('NFKC')) } : { text };
}

/** An attachment refused before anything is downloaded (its host, its declared size). */
function sourceRefusal(source: ImageSource, fetchPolicy: FetchPolicy | undefined): UserError | undefined {
  if (!('url' in source)) return undefined;
  return fetchPolicy ? precheckDownload(source.url, source.declaredBytes, fetchPolicy) : { code: 'attachment-host' };
}

