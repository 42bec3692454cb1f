import type { webApi } from '@slack/bolt';
import type { ResumeDecision } from '../../engine/engine.ts';
import type { JobHandle } from '../../engine/job-handle.ts';
import type { JobJournal, JobRecord } from '../../engine/journal.ts';
import type { Logger } from '../../logging.ts';
import type { Role } from '../../config/schema.ts';
import type { Actor, CommandRequest, Locale, Place } from '../core/command.ts';
import type { BotCore, DeliveryEnvelope } from '../core/core.ts';
import { parseCommandText } from '../core/grammar.ts';
import type { CommandOptions } from '../core/options.ts';
import type { ReplySink } from '../core/reply.ts';
import { errorText, text } from '../core/texts.ts';
import { renderCard, renderNote, renderPending } from './blocks.ts';
import { deliveryOf, imageThread, type SlackDelivery } from './delivery.ts';
import { imageFilesOf } from './images.ts';
import { threadMessages } from './thread.ts';
import { createJobSink } from './job-sink.ts';
import type { Notifier } from './notify.ts';
import { safeError } from './safe-error.ts';
import type { UserDirectory } from './users.ts';

export const PLATFORM = 'slack';

/** Who asked, resolved (language, admin rights), and where. */
export interface Requester {
  readonly actor: Actor;
  readonly place: Place;
}

/** Where a new job's card goes, and how to tell the asker something privately. */
export interface Origin {
  readonly channel: string;
  /** Post the card in this thread; null → top-level (the card's own thread then gets the images). */
  readonly threadTs: string | null;
  readonly notify: Notifier;
}

export interface DispatcherDeps {
  readonly core: BotCore;
  readonly client: webApi.WebClient;
  readonly users: UserDirectory;
  readonly log: Logger;
  readonly secrets: readonly (string | null)[];
  /** The bot's own user id (auth.test), to recognise its files. */
  readonly botUserId: string;
}

interface OpenJob {
  readonly handle: JobHandle;
  readonly finished: Promise<void>;
}

/**
 * The one place that does what every Slack listener needs after its ack: resolve the user (language, admin), refuse
 * bad input privately, post the job's card before the job is queued (so the journal knows the card, and a restart
 * can continue it), hand the command to the core, clean up after refusals, and delete a job's messages.
 */
export class SlackDispatcher {
  readonly #deps: DispatcherDeps;
  readonly #open = new Map<string, OpenJob>();
  #paused = false;

  constructor(deps: DispatcherDeps) {
    this.#deps = deps;
  }

  get journal(): JobJournal {
    return this.#deps.core.engine.journal;
  }

  get botUserId(): string {
    return this.#deps.botUserId;
  }

  get paused(): boolean {
    return this.#paused;
  }

  pause(): void {
    this.#paused = true;
  }

  async requester(userId: string, teamId: string | undefined, channel: string, fallbackName?: string): Promise<Requester> {
    const user = await this.#deps.users.get(userId);
    const name = user.name ?? fallbackName;
    const actor: Actor = { platform: PLATFORM, userId, locale: user.locale, isAdmin: user.isAdmin, ...(name ? { name } : {}) };
    // Slack has no NSFW channel flag, so a flagged image is always withheld here.
    const place: Place = { platform: PLATFORM, channelId: channel, channelIsNsfw: false, ...(teamId ? { guildId: teamId } : {}) };
    return { actor, place };
  }

  /** The user's language within a deadline (a modal must open within 3 s of the click); English past it. */
  async localeWithin(userId: string, ms: number): Promise<Locale> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<Locale>((resolve) => {
      timer = setTimeout(() => resolve('en'), ms);
    });
    try {
      return await Promise.race([this.#deps.users.get(userId).then((u) => u.locale), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The grammar check alone: the refusal's text, or undefined. */
  precheck(command: CommandRequest, actor: Actor): string | undefined {
    const refusal = this.#deps.core.precheck(command, actor);
    return refusal && (refusal.kind === 'error' || refusal.kind === 'notice') ? refusal.text : undefined;
  }

  /** An edit's instruction checked before its image is looked for or downloaded (the check never reads the image). */
  precheckEdit(text: string, options: CommandOptions, actor: Actor): string | undefined {
    return this.precheck({ kind: 'edit', text, options, image: { jobId: 'unresolved', index: 0 } }, actor);
  }

  /** Runs a listener's work; anything unexpected is logged and the user told, so no click goes unanswered. */
  async guard(userId: string, notify: Notifier, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.#deps.log.error({ err: safeError(error, this.#deps.secrets) }, 'Slack listener failed');
      const user = await this.#deps.users.get(userId);
      await this.tell({ notify }, text(user.locale, 'error.internal'));
    }
  }

  /** Says something privately; a failure to say it is logged, never thrown back into a listener. */
  async tell(origin: Pick<Origin, 'notify'>, message: string): Promise<void> {
    try {
      await origin.notify(message);
    } catch (error) {
      this.#deps.log.warn({ err: safeError(error, this.#deps.secrets) }, 'could not send an ephemeral reply');
    }
  }

  async submit(command: CommandRequest, who: Requester, origin: Origin): Promise<void> {
    const { actor, place } = who;
    if (this.#paused) return this.tell(origin, text(actor.locale, 'error.shutting-down'));
    if (command.kind === 'cancel' || command.kind === 'delete') return this.#ownerAction(command, who, origin);
    const refusal = this.precheck(command, actor);
    if (refusal !== undefined) return this.tell(origin, refusal);

    const { client, core, log } = this.#deps;
    const by = actor.name ?? null;
    const prompt = this.#promptOf(command, who);
    let ts: string;
    try {
      const card = renderPending({ locale: actor.locale, by, prompt });
      const posted = await client.chat.postMessage({ channel: origin.channel, ...(origin.threadTs ? { thread_ts: origin.threadTs } : {}), text: card.text, blocks: card.blocks });
      if (!posted.ts) throw new Error('chat.postMessage returned no ts');
      ts = posted.ts;
    } catch (error) {
      const safe = safeError(error, this.#deps.secrets);
      log.warn({ err: safe, channel: origin.channel }, 'could not post the job card');
      const notMember = safe.slackError === 'not_in_channel' || safe.slackError === 'channel_not_found';
      return this.tell(origin, notMember ? text(actor.locale, 'slack.not-in-channel') : text(actor.locale, 'error.internal'));
    }

    const delivery: SlackDelivery = { v: 1, channel: origin.channel, ts, threadTs: origin.threadTs, by };
    const outcome = await core.run(command, actor, place, this.#sink(delivery, actor.locale, prompt), delivery);
    switch (outcome.kind) {
      case 'queued':
        this.#track(outcome.handle, outcome.finished);
        return;
      case 'refused':
        await this.#call('chat.delete', () => client.chat.delete({ channel: origin.channel, ts }));
        return this.tell(origin, outcome.reply.kind === 'error' ? outcome.reply.text : errorText(actor.locale, outcome.error));
      default:
        log.error({ kind: outcome.kind }, 'unexpected outcome for a generation command');
        await this.#call('chat.delete', () => client.chat.delete({ channel: origin.channel, ts }));
    }
  }

  /** Start-up recovery: continue a job's card where the journal says it is. */
  resume(record: JobRecord): ResumeDecision {
    const delivery = deliveryOf(record);
    if (!delivery) return { resume: false, reason: 'its Slack message is unknown' };
    const locale = localeOf(record);
    return {
      resume: true,
      attach: (handle) => this.#track(handle, this.#deps.core.follow(handle, this.#sink(delivery, locale, record.spec.userPrompt))),
    };
  }

  /** Best effort: a note in the job's thread (or privately in its channel), and a card that no longer offers Cancel. */
  async reportLost(record: JobRecord): Promise<void> {
    const locale = localeOf(record);
    const reason = record.error?.params?.reason ?? record.error?.message ?? '';
    const line = text(locale, 'recovered.failed', { job: record.id, reason });
    const delivery = deliveryOf(record);
    const { client } = this.#deps;
    if (delivery) {
      const card = renderCard({ kind: 'final', jobId: record.id, outcome: 'failed', text: line }, { locale, by: delivery.by, prompt: record.spec.userPrompt });
      await this.#call('chat.update', () => client.chat.update({ channel: delivery.channel, ts: delivery.ts, text: card.text, blocks: card.blocks }));
      const note = renderNote(line);
      await this.#call('chat.postMessage', () => client.chat.postMessage({ channel: delivery.channel, thread_ts: imageThread(delivery), text: note.text, blocks: note.blocks }));
      return;
    }
    const channel = (record.delivery as Partial<DeliveryEnvelope> | null)?.channel;
    if (typeof channel === 'string' && record.owner.platform === PLATFORM) {
      const card = renderCard({ kind: 'final', jobId: record.id, outcome: 'failed', text: line }, { locale, by: null, prompt: record.spec.userPrompt });
      await this.#call('chat.postEphemeral', () => client.chat.postEphemeral({ channel, user: record.owner.userId, text: card.text, blocks: card.blocks }));
    }
  }

  /** Waits until the messages of every job that has finished are delivered (jobs still waiting stay in the journal). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#open.values()].filter((job) => job.handle.finished).map((job) => job.finished));
  }

  #track(handle: JobHandle, finished: Promise<void>): void {
    this.#open.set(handle.id, { handle, finished });
    void finished.finally(() => this.#open.delete(handle.id));
  }

  #sink(delivery: SlackDelivery, locale: Locale, prompt: string): ReplySink {
    const sink = createJobSink(this.#deps.client, delivery, { locale, prompt });
    return async (reply) => {
      try {
        await sink(reply);
      } catch (error) {
        // The core logs sink failures; it must see one without the request (and its token) attached.
        throw safeError(error, this.#deps.secrets);
      }
    };
  }

  /** The prompt to show on a card before the core has said anything (flags removed, or the parent's prompt). */
  #promptOf(command: CommandRequest, who: Requester): string {
    const typed = (role: Role, text: string): string => {
      const parsed = parseCommandText(text, role);
      return parsed.ok ? parsed.value.prompt : text;
    };
    switch (command.kind) {
      case 'draft':
      case 'edit':
        return typed(command.kind, command.text);
      case 'refine': {
        const prompt = typed('refine', command.text ?? '');
        if (prompt) return prompt;
        if (command.image && 'jobId' in command.image) return this.#candidatePrompt(command.image.jobId, command.image.index);
        const owner = { platform: who.actor.platform, userId: who.actor.userId };
        return this.journal.latestDone(owner, 'draft', who.place.channelId)?.spec.userPrompt ?? '';
      }
      case 'vary':
        return this.#candidatePrompt(command.jobId, command.index);
      case 'reroll':
        return this.journal.get(command.jobId)?.spec.userPrompt ?? '';
      default:
        return '';
    }
  }

  #candidatePrompt(jobId: string, index: number): string {
    const record = this.journal.get(jobId);
    return record?.result?.images.find((i) => i.index === index)?.prompt ?? record?.spec.userPrompt ?? '';
  }

  async #ownerAction(command: Extract<CommandRequest, { kind: 'cancel' | 'delete' }>, who: Requester, origin: Origin): Promise<void> {
    const { actor, place } = who;
    const outcome = await this.#deps.core.run(command, actor, place, async () => undefined);
    switch (outcome.kind) {
      case 'refused':
        return this.tell(origin, outcome.reply.kind === 'error' ? outcome.reply.text : errorText(actor.locale, outcome.error));
      case 'cancelled':
        // The job's own sink turns its card into "Cancelled."
        return;
      case 'delete': {
        const deleted = await this.#deleteMessages(outcome.record);
        return this.tell(origin, deleted ? text(actor.locale, 'done.deleted') : text(actor.locale, 'error.internal'));
      }
      default:
        this.#deps.log.error({ kind: outcome.kind }, 'unexpected outcome for an owner action');
    }
  }

  /** Deletes a job's card and the images the bot uploaded for it (found by their names in the job's thread). */
  async #deleteMessages(record: JobRecord): Promise<boolean> {
    const delivery = deliveryOf(record);
    if (!delivery) return false;
    const { client } = this.#deps;
    const thread = await this.#call('conversations.replies', () => threadMessages(client, delivery.channel, imageThread(delivery)));
    if (!thread) return false;
    const prefix = `${record.id}-`;
    const files = thread.flatMap((m) => imageFilesOf(m)).filter((f) => f.user === this.#deps.botUserId && f.id && f.name?.startsWith(prefix));
    let ok = true;
    for (const file of files) ok = (await this.#call('files.delete', () => client.files.delete({ file: file.id! }))) !== undefined && ok;
    return (await this.#call('chat.delete', () => client.chat.delete({ channel: delivery.channel, ts: delivery.ts }))) !== undefined && ok;
  }

  /** A best-effort Web API call: failures are logged (without secrets) and come back as undefined. */
  async #call<T>(method: string, call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (error) {
      this.#deps.log.warn({ err: safeError(error, this.#deps.secrets), method }, 'Slack call failed');
      return undefined;
    }
  }
}

function localeOf(record: JobRecord): Locale {
  const locale = (record.delivery as Partial<DeliveryEnvelope> | null)?.locale;
  return locale === 'zh-CN' ? 'zh-CN' : 'en';
}
