import type { JobRecord } from '../../engine/history.ts';
import type { ResumeDecision } from '../../engine/recovery.ts';
import type { Runtime } from '../../runtime.ts';
import { commandFromButton } from '../core/buttons.ts';
import type { Actor, CommandRequest, ImageSource, Place } from '../core/command.ts';
import { readDelivery } from '../core/core.ts';
import type { UserError } from '../core/errors.ts';
import { runCommand, type ChatPort } from '../core/flow.ts';
import { OPTIONS } from '../core/options.ts';
import type { Reply, ReplySink } from '../core/reply.ts';
import { errorText } from '../core/texts.ts';
import { cardFromRecord, cardFromReply, cardMetaOf, isJobReply, type CardMeta } from './cards.ts';
import type { StudioChannel, Tab } from './channel.ts';
import { commandFromComposer } from './composer.ts';
import type { DeletedJobs } from './deleted-jobs.ts';
import type { StudioMedia } from './media.ts';
import type { CommandMessage, ServerMessage } from './protocol.ts';
import type { UploadStore } from './uploads.ts';
import { formatBytes } from '../core/bytes.ts';

export const STUDIO_PLATFORM = 'studio';

/** The studio is one channel, and never an NSFW one: flagged candidates are withheld (the core shows the tile). */
export const STUDIO_PLACE: Place = { platform: STUDIO_PLATFORM, channelId: 'studio', channelIsNsfw: false };

/** The studio's delivery data in the journal: a marker that the job is ours (every tab sees every card). */
export interface StudioDelivery {
  readonly studio: 1;
}

const DELIVERY: StudioDelivery = { studio: 1 };

const isStudioJob = (record: JobRecord): boolean => {
  const data = readDelivery(record).data;
  return record.owner.platform === STUDIO_PLATFORM && typeof data === 'object' && data !== null && (data as Partial<StudioDelivery>).studio === 1;
};

export interface StudioBotDeps {
  readonly runtime: Runtime;
  readonly channel: StudioChannel;
  readonly media: StudioMedia;
  readonly uploads: UploadStore;
  readonly deleted: DeletedJobs;
}

/**
 * The studio's side of the core: tab messages → commands run through the core's flow; the core's replies → cards
 * pushed to every tab, refusals only to the tab that asked.
 */
export class StudioBot {
  readonly #deps: StudioBotDeps;
  /** Card headers of live jobs, looked up once per job. */
  readonly #metas = new Map<string, CardMeta>();

  constructor(deps: StudioBotDeps) {
    this.#deps = deps;
  }

  /** What a tab sees when it connects: the channel's history, live jobs at their latest state, and the help. */
  welcome(tab: Tab): ServerMessage {
    const { runtime, deleted, uploads } = this.#deps;
    const { core } = runtime;
    const now = Date.now();
    const cards = core.history
      .recent({ limit: runtime.config.studio.history, platform: STUDIO_PLATFORM })
      .filter((record) => !deleted.has(record.id) && isStudioJob(record))
      .reverse()
      .map((record) => cardFromRecord(record, core.live(record.id), now));
    const options = OPTIONS.map((o) => ({ flag: `--${o.name}`, description: o.description[tab.locale] }));
    const tooLarge = errorText(tab.locale, { code: 'attachment-too-large', params: { max: formatBytes(uploads.maxBytes) } });
    return { t: 'welcome', userId: tab.userId, name: tab.name, cards, options, upload: { maxBytes: uploads.maxBytes, tooLarge } };
  }

  /** A message typed in the composer, with its reply target or uploads. */
  async command(tab: Tab, message: CommandMessage): Promise<void> {
    const image: ImageSource | undefined = message.replyTo ?? this.#upload(message.upload, tab);
    const mask = this.#upload(message.mask, tab);
    if ((message.upload && !image) || (message.mask && !mask)) return this.#refuse(tab, message.ref, { code: 'attachment-fetch' });
    const composed = commandFromComposer({ text: message.text, ...(image ? { image } : {}), ...(mask ? { mask } : {}) });
    if (!composed.ok) return this.#refuse(tab, message.ref, composed.error);
    await this.#run(tab, message.ref, composed.value);
  }

  /** A pressed button: its id says what to do (state lives in the journal). */
  async button(tab: Tab, message: { ref: number; id: string }): Promise<void> {
    const command = commandFromButton(message.id);
    if (!command) return this.#refuse(tab, message.ref, { code: 'expired-button' });
    await this.#run(tab, message.ref, command);
  }

  /** A studio job found unfinished at start-up: re-attach it, so its card finishes in every tab. */
  resume(record: JobRecord): ResumeDecision {
    if (!isStudioJob(record)) return { resume: false, reason: 'not a studio job' };
    if (this.#deps.deleted.has(record.id)) return { resume: false, reason: 'deleted in the studio' };
    return { resume: true, attach: (handle) => void this.#deps.runtime.core.follow(handle, this.#sink(undefined)) };
  }

  async #run(tab: Tab, ref: number, command: CommandRequest): Promise<void> {
    const { runtime, channel, deleted } = this.#deps;
    const actor: Actor = { platform: STUDIO_PLATFORM, userId: tab.userId, name: tab.name, locale: tab.locale };
    switch (command.kind) {
      case 'cancel': {
        const cancelled = runtime.core.cancel(command.jobId, { actor, place: STUDIO_PLACE });
        // The job's own sink turns its card into "Cancelled." in every tab.
        return cancelled.ok ? tab.send({ t: 'ack', ref, jobId: command.jobId }) : this.#refuse(tab, ref, cancelled.error);
      }
      case 'delete': {
        const allowed = runtime.core.delete(command.jobId, { actor, place: STUDIO_PLACE });
        if (!allowed.ok) return this.#refuse(tab, ref, allowed.error);
        // A deleted job must not run on (and keep its files): a waiting or running one is cancelled first.
        if (runtime.core.live(command.jobId)) runtime.core.cancel(command.jobId, { actor, place: STUDIO_PLACE });
        deleted.add(command.jobId);
        this.#metas.delete(command.jobId);
        channel.broadcast({ t: 'removed', jobId: command.jobId });
        return tab.send({ t: 'ack', ref, jobId: command.jobId });
      }
      default: {
        const outcome = await runCommand(runtime.core, this.#port(tab, ref), command, { actor, place: STUDIO_PLACE }, runtime.log);
        if (outcome.kind === 'queued') tab.send({ t: 'ack', ref, jobId: outcome.handle.id });
      }
    }
  }

  /** The studio's port: a refusal goes to the asking tab, the job's card to every tab. */
  #port(tab: Tab, ref: number): ChatPort<StudioDelivery> {
    const say = async (text: string): Promise<void> => tab.send({ t: 'error', ref, text });
    return { refuse: say, retract: say, open: async () => DELIVERY, sink: () => this.#sink(tab) };
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
      const { core } = this.#deps.runtime;
      const record = core.live(jobId)?.record ?? core.history.get(jobId);
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

  #refuse(tab: Tab, ref: number, error: UserError): void {
    tab.send({ t: 'error', ref, text: errorText(tab.locale, error) });
  }
}
