import type { Actor, CommandRequest, ImageSource, Place } from '../core/command.ts';
import { commandFromButton } from '../core/buttons.ts';
import type { DeliveryEnvelope } from '../core/core.ts';
import { OPTIONS } from '../core/options.ts';
import type { Reply, ReplySink } from '../core/reply.ts';
import { errorText, text } from '../core/texts.ts';
import type { ResumeDecision } from '../../engine/engine.ts';
import type { JobRecord } from '../../engine/journal.ts';
import type { Runtime } from '../../runtime.ts';
import { cardFromRecord, cardFromReply, cardMetaOf, isJobReply, type CardMeta } from './cards.ts';
import type { StudioChannel, Tab } from './channel.ts';
import { commandFromComposer, type ComposerRefusal } from './composer.ts';
import type { DeletedJobs } from './deleted-jobs.ts';
import type { StudioMedia } from './media.ts';
import type { CommandMessage, ServerMessage } from './protocol.ts';
import { byteSize, type UploadStore } from './uploads.ts';

export const STUDIO_PLATFORM = 'studio';

/** The studio is one channel, and never an NSFW one: flagged candidates are withheld (the core shows the tile). */
export const STUDIO_PLACE: Place = { platform: STUDIO_PLATFORM, channelId: 'studio', channelIsNsfw: false };

/** The studio's delivery data in the journal: a marker that the job is ours (every tab sees every card). */
export interface StudioDelivery {
  readonly studio: 1;
}

const DELIVERY: StudioDelivery = { studio: 1 };

const isStudioDelivery = (data: unknown): data is StudioDelivery =>
  typeof data === 'object' && data !== null && (data as Partial<StudioDelivery>).studio === 1;

export interface StudioBotDeps {
  readonly runtime: Runtime;
  readonly channel: StudioChannel;
  readonly media: StudioMedia;
  readonly uploads: UploadStore;
  readonly deleted: DeletedJobs;
}

/**
 * The studio's side of the core: tab messages → CommandRequests for `core.run`; the core's replies → cards pushed
 * to every tab, refusals only to the tab that asked.
 */
export class StudioBot {
  readonly #deps: StudioBotDeps;
  /** Card headers of live jobs, looked up once per job. */
  readonly #metas = new Map<string, CardMeta>();
  #paused = false;

  constructor(deps: StudioBotDeps) {
    this.#deps = deps;
  }

  /** What a tab sees when it connects: the channel's history, live jobs at their latest state, and the help. */
  welcome(tab: Tab): ServerMessage {
    const { runtime, deleted } = this.#deps;
    const now = Date.now();
    const cards = runtime.engine.journal
      .recent(runtime.config.studio.history, STUDIO_PLATFORM)
      .filter((record) => !deleted.has(record.id) && isStudioDelivery((record.delivery as DeliveryEnvelope | null)?.data))
      .reverse()
      .map((record) => cardFromRecord(record, runtime.engine.job(record.id), now));
    const options = OPTIONS.map((o) => ({ flag: `--${o.name}`, description: o.description[tab.locale] }));
    const maxBytes = this.#deps.uploads.maxBytes;
    const tooLarge = errorText(tab.locale, { code: 'attachment-too-large', params: { max: byteSize(maxBytes) } });
    return { t: 'welcome', userId: tab.userId, name: tab.name, cards, options, upload: { maxBytes, tooLarge } };
  }

  /** A message typed in the composer, with its reply target or uploads. */
  async command(tab: Tab, message: CommandMessage): Promise<void> {
    const image: ImageSource | undefined = message.replyTo ?? this.#upload(message.upload, tab);
    const mask = this.#upload(message.mask, tab);
    if ((message.upload && !image) || (message.mask && !mask)) return this.#refuse(tab, message.ref, errorText(tab.locale, { code: 'attachment-fetch' }));
    const composed = commandFromComposer({ text: message.text, ...(image ? { image } : {}), ...(mask ? { mask } : {}) });
    if (!composed.ok) return this.#refuse(tab, message.ref, this.#refusalText(tab, composed.refusal));
    await this.#run(tab, message.ref, composed.command);
  }

  /** A pressed button: its id says what to do (state lives in the journal). */
  async button(tab: Tab, message: { ref: number; id: string }): Promise<void> {
    const command = commandFromButton(message.id);
    if (!command) return this.#refuse(tab, message.ref, errorText(tab.locale, { code: 'expired-button' }));
    await this.#run(tab, message.ref, command);
  }

  /** A studio job found unfinished at start-up: re-attach it, so its card finishes in every tab. */
  resume(record: JobRecord): ResumeDecision {
    const envelope = record.delivery as DeliveryEnvelope | null;
    if (record.owner.platform !== STUDIO_PLATFORM || !isStudioDelivery(envelope?.data)) return { resume: false, reason: 'not a studio job' };
    if (this.#deps.deleted.has(record.id)) return { resume: false, reason: 'deleted in the studio' };
    return {
      resume: true,
      attach: (handle) => {
        void this.#deps.runtime.core.follow(handle, this.#sink(undefined));
      },
    };
  }

  /** Stop taking new commands; jobs already queued still finish and are shown. */
  pause(): void {
    this.#paused = true;
  }

  async #run(tab: Tab, ref: number, command: CommandRequest): Promise<void> {
    const { runtime, channel, deleted } = this.#deps;
    const actor: Actor = { platform: STUDIO_PLATFORM, userId: tab.userId, name: tab.name, locale: tab.locale };
    if (this.#paused) return this.#refuse(tab, ref, errorText(tab.locale, { code: 'shutting-down', message: 'the studio is stopping' }));
    const early = runtime.core.precheck(command, actor);
    if (early) return this.#refuse(tab, ref, early.text);
    const outcome = await runtime.core.run(command, actor, STUDIO_PLACE, this.#sink(tab), DELIVERY);
    switch (outcome.kind) {
      case 'refused':
        return this.#refuse(tab, ref, outcome.reply.text);
      case 'queued':
        tab.send({ t: 'ack', ref, jobId: outcome.jobId });
        return;
      case 'cancelled':
        tab.send({ t: 'ack', ref, jobId: outcome.jobId });
        return;
      case 'delete':
        deleted.add(outcome.jobId);
        this.#metas.delete(outcome.jobId);
        channel.broadcast({ t: 'removed', jobId: outcome.jobId });
        tab.send({ t: 'ack', ref, jobId: outcome.jobId });
        return;
    }
  }

  /** Job replies become cards for every tab; anything else (a refusal) goes to the tab that asked, if any. */
  #sink(asker: Tab | undefined): ReplySink {
    return async (reply: Reply): Promise<void> => {
      const { channel, media, deleted } = this.#deps;
      if (!isJobReply(reply)) {
        asker?.send(reply.kind === 'error' ? { t: 'error', ref: null, text: reply.text } : { t: 'notice', text: reply.text });
        return;
      }
      if (deleted.has(reply.jobId)) return;
      const meta = this.#meta(reply.jobId);
      if (!meta) return;
      if (reply.kind === 'result' && reply.image && reply.candidates.length > 1) media.rememberGrid(reply.jobId, reply.image.png);
      channel.broadcast({ t: 'card', card: cardFromReply(meta, reply) });
      if (reply.kind !== 'status') this.#metas.delete(reply.jobId);
    };
  }

  #meta(jobId: string): CardMeta | undefined {
    let meta = this.#metas.get(jobId);
    if (!meta) {
      const { engine } = this.#deps.runtime;
      const record = engine.job(jobId)?.record ?? engine.journal.get(jobId);
      if (!record) return undefined;
      meta = cardMetaOf(record);
      this.#metas.set(jobId, meta);
    }
    return meta;
  }

  #upload(id: string | undefined, tab: Tab): ImageSource | undefined {
    if (id === undefined) return undefined;
    const bytes = this.#deps.uploads.take(id, tab.userId);
    return bytes ? { bytes } : undefined;
  }

  #refuse(tab: Tab, ref: number, message: string): void {
    tab.send({ t: 'error', ref, text: message });
  }

  #refusalText(tab: Tab, refusal: ComposerRefusal): string {
    switch (refusal.kind) {
      case 'core':
        return errorText(tab.locale, refusal.error);
      case 'unknown-command':
        return text(tab.locale, 'studio.unknown-command', { command: refusal.command });
      case 'image-not-for-draft':
        return text(tab.locale, 'studio.image-not-for-draft');
    }
  }
}
