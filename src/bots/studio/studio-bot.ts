import type { JobRecord } from '../../engine/history.ts';
import type { ResumeDecision } from '../../engine/recovery.ts';
import type { Runtime } from '../../runtime.ts';
import { commandFromButton } from '../core/buttons.ts';
import type { Actor, CommandRequest, ImageSource, Place, Who } from '../core/command.ts';
import { readDelivery } from '../core/core.ts';
import type { UserError } from '../core/errors.ts';
import { runCommand, runDescribe, type ChatPort } from '../core/flow.ts';
import { OPTIONS } from '../core/options.ts';
import type { Reply, ReplySink } from '../core/reply.ts';
import { errorText } from '../core/texts.ts';
import { renderChain } from '../core/lineage.ts';
import { changeFromValues, renderSettings } from '../core/settings.ts';
import { text } from '../core/texts.ts';
import { cardButton, cardFromRecord, cardFromReply, cardMenu, cardMetaOf, isJobReply, type CardContext, type CardMeta } from './cards.ts';
import type { StudioChannel, Tab } from './channel.ts';
import { commandFromComposer } from './composer.ts';
import type { DeletedJobs } from './deleted-jobs.ts';
import type { StudioMedia } from './media.ts';
import { assistCardFromReply, AssistCards, isAssistReply, newAssistId } from './assist-cards.ts';
import type { BoardMessage, CommandMessage, DescribeMessage, LineageMessage, LineageStep, ServerMessage, SettingsMessage, SettingsPanel, VoteMessage } from './protocol.ts';
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

/** Describe's cards a tab that connects later still sees (their Draft buttons keep working from the journal). */
const KEPT_SUGGESTIONS = 20;

/** Aspect ratios the settings panel suggests (any W:H the engine takes may be typed). */
const RATIOS: readonly string[] = ['1:1', '4:3', '3:4', '3:2', '2:3', '16:9', '9:16', '21:9'];

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
 * pushed to every tab, refusals only to the tab that asked. Over 300 lines on purpose: every kind of tab message
 * meets the core here, so who sees what (every tab, or the asker alone) is decided in one place.
 */
export class StudioBot {
  readonly #deps: StudioBotDeps;
  /** Card headers of live jobs, looked up once per job. */
  readonly #metas = new Map<string, CardMeta>();
  /** The prompt assistant's cards: at work (until the job's card or a refusal replaces them), and recent suggestions. */
  readonly #assists = new AssistCards(KEPT_SUGGESTIONS);

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
      .map((record) => cardFromRecord(record, core.live(record.id), now, this.#context));
    const assistant = core.assistant.configured;
    // Without an assistant, --enhance is not offered (typed anyway, it is refused with how to turn the assistant on).
    const options = OPTIONS.filter((o) => assistant || o.name !== 'enhance').map((o) => ({ flag: `--${o.name}`, description: o.description[tab.locale] }));
    const tooLarge = errorText(tab.locale, { code: 'attachment-too-large', params: { max: formatBytes(uploads.maxBytes) } });
    const assists = assistant ? this.#assists.list() : [];
    return { t: 'welcome', userId: tab.userId, name: tab.name, cards, options, upload: { maxBytes: uploads.maxBytes, tooLarge }, assistant, assists };
  }

  /** A message typed in the composer, with its reply target or uploads. */
  async command(tab: Tab, message: CommandMessage): Promise<void> {
    // A reply names a card this studio shows: not a deleted one, nor another platform's job found by its id.
    if (message.replyTo && !this.#context.shown(message.replyTo.jobId)) return this.#refuse(tab, message.ref, { code: 'unknown-job' });
    const image: ImageSource | undefined = message.replyTo ?? this.#upload(message.upload, tab);
    const mask = this.#upload(message.mask, tab);
    if ((message.upload && !image) || (message.mask && !mask)) return this.#refuse(tab, message.ref, { code: 'attachment-fetch' });
    const composed = commandFromComposer({ text: message.text, ...(image ? { image } : {}), ...(mask ? { mask } : {}), ...(message.enhance ? { enhance: true } : {}) });
    if (!composed.ok) return this.#refuse(tab, message.ref, composed.error);
    await this.#run(tab, message.ref, composed.value);
  }

  /**
   * Describe: the prompt assistant's suggestions for an uploaded image or a candidate, on a card every tab sees (first
   * "Describing the image…"); a refusal or failure goes to this tab alone, and takes the card back.
   */
  async describe(tab: Tab, message: DescribeMessage): Promise<void> {
    const { runtime } = this.#deps;
    if (message.image && !this.#context.shown(message.image.jobId)) return this.#refuse(tab, message.ref, { code: 'unknown-job' });
    const image: ImageSource | undefined = message.image ?? this.#upload(message.upload, tab);
    if (!image) return this.#refuse(tab, message.ref, { code: 'attachment-fetch' });
    const outcome = await runDescribe(runtime.core, this.#port(tab, message.ref), image, this.#who(tab), runtime.log);
    if (outcome.kind === 'described') tab.send({ t: 'ack', ref: message.ref, jobId: null });
  }

  /** A pressed button: its id says what to do (state lives in the journal). */
  async button(tab: Tab, message: { ref: number; id: string }): Promise<void> {
    const command = commandFromButton(message.id);
    if (!command) return this.#refuse(tab, message.ref, { code: 'expired-button' });
    await this.#run(tab, message.ref, command);
  }

  /**
   * A press of a candidate's vote control: toggles this user's vote. The voter's tab sees its mark at once; every tab
   * gets the result re-drawn with the new counts (the core paces those edits). Refusals go to the voter alone.
   */
  vote(tab: Tab, message: VoteMessage): void {
    const { runtime, channel, deleted } = this.#deps;
    const { team } = runtime.core;
    if (deleted.has(message.jobId)) return this.#refuse(tab, message.ref, { code: 'unknown-job' });
    const voted = team.vote(message.jobId, message.index, this.#who(tab), {
      refresh: async (reply) => {
        const meta = this.#freshMeta(reply.jobId);
        if (meta && !deleted.has(reply.jobId)) channel.broadcast({ t: 'card', card: cardFromReply(meta, reply) });
      },
    });
    if (!voted.ok) return this.#refuse(tab, message.ref, voted.error);
    const reply = team.storedResult(message.jobId);
    const meta = this.#freshMeta(message.jobId);
    if (reply && meta) tab.send({ t: 'card', card: cardFromReply(meta, reply) });
    tab.send({ t: 'announce', text: text(tab.locale, voted.value.on ? 'vote.recorded' : 'vote.withdrawn', { n: message.index + 1 }) });
  }

  /** The candidates of a result one user voted for (each tab marks its own). */
  votedBy(jobId: string, userId: string): readonly number[] {
    return this.#deps.runtime.core.team.votedBy(jobId, { platform: STUDIO_PLATFORM, userId });
  }

  /** The board panel: the studio's most voted candidates over the window; its contact sheet is served like results. */
  async board(tab: Tab, message: BoardMessage): Promise<void> {
    const { runtime, media } = this.#deps;
    const board = await runtime.core.team.board(this.#who(tab), message.since, 'control');
    if (!board.ok) return this.#refuse(tab, message.ref, board.error);
    const { text: title, entries, image, buttons, menu } = board.value;
    tab.send({
      t: 'board',
      ref: message.ref,
      board: {
        since: message.since,
        text: title,
        entries: entries.map(({ rank, jobId, index, votes, line }) => ({ rank, jobId, index, votes, line })),
        image: image && { url: media.rememberBoard(image.png), alt: image.alt, spoiler: image.spoiler },
        buttons: buttons.map(cardButton),
        menu: menu && cardMenu(menu),
      },
    });
  }

  /** A card's History: its ancestors from the first, and the jobs made from it, in the tab's language. */
  lineage(tab: Tab, message: LineageMessage): void {
    const { runtime, deleted } = this.#deps;
    const found = runtime.core.team.lineage(message.jobId);
    if (!found.ok || !isStudioJob(found.value.chain.at(-1)!) || deleted.has(message.jobId)) return this.#refuse(tab, message.ref, { code: 'unknown-job' });
    const step = (record: JobRecord): LineageStep => ({
      jobId: record.id,
      role: record.role,
      parentId: record.parentId,
      line: renderChain(tab.locale, [record])[0]!,
    });
    const visible = (record: JobRecord): boolean => isStudioJob(record) && !deleted.has(record.id);
    tab.send({ t: 'lineage', ref: message.ref, jobId: message.jobId, chain: found.value.chain.filter(visible).map(step), children: found.value.children.filter(visible).map(step) });
  }

  /**
   * The settings panel: anyone in the studio may set the studio's defaults and their own. The core checks every
   * value and says what was saved; a refusal goes to this tab.
   */
  settings(tab: Tab, message: SettingsMessage): void {
    const { team } = this.#deps.runtime.core;
    const who = this.#who(tab);
    let saved: string | null = null;
    if (message.change) {
      const change = changeFromValues(message.change.target, message.change.values);
      if (!change.ok) return this.#refuse(tab, message.ref, change.error);
      const done = team.settings(who, change.value);
      if (!done.ok) return this.#refuse(tab, message.ref, done.error);
      // The core's sentence ends with how to change them by command; the panel is how here.
      const how = text(tab.locale, 'settings.how.admin');
      saved = done.value.split('\n').filter((line) => line !== how).join('\n');
    }
    tab.send({ t: 'settings', ref: message.ref, settings: this.#settingsPanel(tab), saved });
  }

  /** A studio job found unfinished at start-up: re-attach it, so its card finishes in every tab. */
  resume(record: JobRecord): ResumeDecision {
    if (!isStudioJob(record)) return { resume: false, reason: 'not a studio job' };
    if (this.#deps.deleted.has(record.id)) return { resume: false, reason: 'deleted in the studio' };
    return { resume: true, attach: (handle) => void this.#deps.runtime.core.follow(handle, this.#sink(undefined)) };
  }

  async #run(tab: Tab, ref: number, command: CommandRequest): Promise<void> {
    const { runtime, channel, deleted } = this.#deps;
    const { actor } = this.#who(tab);
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

  /**
   * The studio's port: a refusal goes to the asking tab, the cards to every tab. The prompt assistant's card (one per
   * run, made on its first reply) is replaced by the job's card, or dropped when the run is refused.
   */
  #port(tab: Tab, ref: number): ChatPort<StudioDelivery> {
    const { channel } = this.#deps;
    let assistId: string | undefined;
    const createdAt = Date.now();
    const say = async (text: string): Promise<void> => {
      if (assistId !== undefined) {
        this.#assists.delete(assistId);
        channel.broadcast({ t: 'removed', jobId: assistId });
        assistId = undefined;
      }
      tab.send({ t: 'error', ref, text });
    };
    const jobSink = this.#sink(tab);
    const sink: ReplySink = async (reply) => {
      if (isAssistReply(reply)) {
        assistId ??= newAssistId();
        const card = assistCardFromReply({ id: assistId, owner: { userId: tab.userId, name: tab.name }, createdAt }, reply);
        // At work it is kept until the job's card comes; a describe's suggestions are kept for later tabs.
        this.#assists.set(card);
        channel.broadcast({ t: 'assist', card });
        return;
      }
      const replaces = isJobReply(reply) ? assistId : undefined;
      if (replaces !== undefined) {
        assistId = undefined;
        this.#assists.delete(replaces);
      }
      await this.#deliver(tab, reply, replaces);
    };
    return { refuse: say, retract: say, open: async () => DELIVERY, sink: () => sink };
  }

  /** Job replies become cards for every tab; anything else (a refusal) goes to the tab that asked, if any. */
  #sink(asker: Tab | undefined): ReplySink {
    return (reply: Reply) => this.#deliver(asker, reply);
  }

  /** One reply shown: a job's card (in place of the assistant's card `replaces`, if any), or a line to the asker. */
  async #deliver(asker: Tab | undefined, reply: Reply, replaces?: string): Promise<void> {
    const { channel, media, deleted } = this.#deps;
    if (!isJobReply(reply)) {
      if (reply.kind === 'error' || reply.kind === 'notice') asker?.send(reply.kind === 'error' ? { t: 'error', ref: null, text: reply.text } : { t: 'notice', text: reply.text });
      return;
    }
    const meta = deleted.has(reply.jobId) ? undefined : this.#meta(reply.jobId);
    if (!meta) {
      // The assistant's card must not outlive the job it led to.
      if (replaces !== undefined) channel.broadcast({ t: 'removed', jobId: replaces });
      return;
    }
    if (reply.kind === 'result' && reply.image && reply.candidates.length > 1) media.rememberGrid(reply.jobId, reply.image.png);
    channel.broadcast({ t: 'card', card: cardFromReply(meta, reply), ...(replaces !== undefined ? { replaces } : {}) });
    if (reply.kind !== 'status') this.#metas.delete(reply.jobId);
  }

  #meta(jobId: string): CardMeta | undefined {
    let meta = this.#metas.get(jobId);
    if (!meta) {
      meta = this.#freshMeta(jobId);
      if (meta) this.#metas.set(jobId, meta);
    }
    return meta;
  }

  /** A card's header read now (a parent deleted since links no more). */
  #freshMeta(jobId: string): CardMeta | undefined {
    const { core } = this.#deps.runtime;
    const record = core.live(jobId)?.record ?? core.history.get(jobId);
    return record && cardMetaOf(record, this.#context);
  }

  /** Votes from the journal; a parent links when its card is one the studio shows. */
  readonly #context: CardContext = {
    viewOf: (record) => this.#deps.runtime.core.team.viewOf(record),
    shown: (jobId) => {
      const record = this.#deps.runtime.core.history.get(jobId);
      return record !== undefined && isStudioJob(record) && !this.#deps.deleted.has(jobId);
    },
  };

  /** Everyone in the studio may configure it: it is one local channel, with no admins to ask. */
  #who(tab: Tab): Who {
    const actor: Actor = { platform: STUDIO_PLATFORM, userId: tab.userId, name: tab.name, locale: tab.locale, canConfigure: true };
    return { actor, place: STUDIO_PLACE };
  }

  #settingsPanel(tab: Tab): SettingsPanel {
    const { runtime } = this.#deps;
    const view = runtime.core.team.settingsOf(this.#who(tab));
    const how = new Set([text(tab.locale, 'settings.how.admin'), text(tab.locale, 'settings.how.member')]);
    return {
      channel: view.channel,
      personal: view.personal,
      canConfigure: view.canConfigure,
      lines: renderSettings(tab.locale, view).split('\n').filter((line) => !how.has(line)),
      choices: {
        maxCount: runtime.config.limits.maxCount,
        ratios: RATIOS,
        styles: runtime.engine.styles.presets.map((preset) => ({ name: preset.name, label: preset.label[tab.locale] })),
        policies: runtime.config.moderation.channelPolicies.filter((policy) => policy !== 'spoiler' || STUDIO_PLACE.channelIsNsfw),
      },
    };
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
