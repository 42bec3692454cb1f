import { notConfigured } from '../../assistant/errors.ts';
import type { JobHistory, JobRecord } from '../../engine/history.ts';
import type { JobHandle } from '../../engine/job-handle.ts';
import type { ResumeDecision } from '../../engine/recovery.ts';
import type { Logger } from '../../logging.ts';
import type { Result } from '../../result.ts';
import type { FetchPolicy } from '../core/attachments.ts';
import type { CommandRequest, JobCommand, OwnerAction, Who } from '../core/command.ts';
import { readDelivery, type BotCore } from '../core/core.ts';
import type { PlatformFailure } from '../core/errors.ts';
import { runCommand, runDescribe, type ChatPort } from '../core/flow.ts';
import { parseSettingsText } from '../core/settings.ts';
import { errorText, text } from '../core/texts.ts';
import type { BoardReply } from './blocks.ts';
import { deliveryOf, type SlackDelivery } from './delivery.ts';
import { sourceFor, type SlackFile } from './images.ts';
import type { JobCards } from './job-cards.ts';
import { tell, PLATFORM } from './middleware.ts';
import type { Notifier } from './notify.ts';
import { messageKey } from './reactions.ts';


/** Where a new job's card goes, and how to tell the asker something privately. */
export interface Origin {
  readonly channel: string;
  /** Post the card in this thread; null → top-level (the card's own thread then gets the images). */
  readonly threadTs: string | null;
  readonly notify: Notifier | undefined;
}

export interface SlackBotDeps {
  readonly core: BotCore;
  readonly cards: JobCards;
  readonly log: Logger;
  readonly secrets: readonly (string | null)[];
  /** Where users' images may be downloaded from. */
  readonly download: FetchPolicy;
  /** The bot's own user id (auth.test), to recognise its files. */
  readonly botUserId: string;
  /** Posts a board in a channel (its message, then the contact sheet in its thread); the message's ts. */
  readonly postBoard: (channel: string, board: BoardReply) => Promise<Result<string, PlatformFailure>>;
}

/**
 * Slack's side of the core: runs a listener's command through the core's flow over this platform's port (refusals
 * privately, the job's card posted before it is queued so the journal knows it, the card taken back on a late
 * refusal), carries out Cancel and Delete, votes by reaction, /board and /settings, and continues jobs after a restart.
 */
export class SlackBot {
  readonly #deps: SlackBotDeps;
  readonly #open = new Map<string, { readonly handle: JobHandle; readonly finished: Promise<void> }>();

  constructor(deps: SlackBotDeps) {
    this.#deps = deps;
  }

  get botUserId(): string {
    return this.#deps.botUserId;
  }

  get history(): JobHistory {
    return this.#deps.core.history;
  }

  tell(notify: Notifier | undefined, message: string): Promise<void> {
    return tell(notify, message, this.#deps.log, this.#deps.secrets);
  }

  /** The core's first step alone: a refusal of the command's text and flags, before anything is looked up. */
  refusalOf(command: JobCommand, who: Who): string | undefined {
    const parsed = this.#deps.core.parse(command, this.#deps.download);
    return parsed.ok ? undefined : errorText(who.actor.locale, parsed.error);
  }

  async run(command: CommandRequest, who: Who, origin: Origin): Promise<void> {
    if (command.kind === 'cancel' || command.kind === 'delete') return this.#ownerAction(command, who, origin.notify);
    const outcome = await runCommand(this.#deps.core, this.#port(who, origin), command as JobCommand, who, this.#deps.log);
    if (outcome.kind === 'queued') this.#track(outcome.handle, outcome.finished);
  }

  /**
   * The "Describe image" shortcut: the prompt assistant's suggestions for the message's first image, on a card in the
   * message's thread with a Draft button each. Refused privately without an assistant (first: nothing else matters
   * then), without an image, or when the image cannot be had.
   */
  async describe(file: SlackFile | undefined, who: Who, origin: Origin): Promise<void> {
    const { core } = this.#deps;
    const { locale } = who.actor;
    if (!core.assistant.configured) return this.tell(origin.notify, errorText(locale, notConfigured()));
    if (!file) return this.tell(origin.notify, errorText(locale, { code: 'no-image' }));
    const source = sourceFor(file, { history: core.history, botUserId: this.#deps.botUserId });
    if (!source.ok) return this.tell(origin.notify, errorText(locale, source.error));
    await runDescribe(core, this.#port(who, origin), source.value, who, this.#deps.log);
  }

  #port(who: Who, origin: Origin): ChatPort<SlackDelivery> {
    const { cards } = this.#deps;
    const { locale } = who.actor;
    const say = (message: string): Promise<void> => this.tell(origin.notify, message);
    let prompt = '';
    return {
      fetchPolicy: this.#deps.download,
      refuse: say,
      open: async (shown) => {
        prompt = shown.prompt;
        const posted = await cards.post({ channel: origin.channel, threadTs: origin.threadTs }, { locale, by: who.actor.name ?? null, prompt });
        if (posted.ok) return posted.value;
        this.#deps.log.warn({ err: posted.error, channel: origin.channel }, 'could not post the job card');
        const notMember = posted.error.code === 'not_in_channel' || posted.error.code === 'channel_not_found';
        await say(notMember ? text(locale, 'slack.not-in-channel') : text(locale, 'error.internal'));
        return undefined;
      },
      retract: async (message, delivery) => {
        if (delivery) await cards.withdraw(delivery);
        await say(message);
      },
      sink: (delivery) => cards.sink(delivery, { locale, prompt }),
    };
  }

  /** The job a message shows, if it is a card that takes votes. */
  jobOfMessage(channel: string, ts: string): string | undefined {
    return this.#deps.core.team.jobOfMessage(PLATFORM, messageKey(channel, ts));
  }

  /**
   * A vote by reaction (`on`: added, else removed). The card is edited with the new counts as the core allows. A
   * refusal has no reply to go in: it is logged, and only a vote for a withheld candidate is explained, privately —
   * the one refusal a person can act on (vote for another candidate).
   */
  async vote(jobId: string, index: number, who: Who, on: boolean, notify: Notifier | undefined): Promise<void> {
    const { core, cards, log } = this.#deps;
    const voted = core.team.vote(jobId, index, who, {
      on,
      refresh: async (reply) => {
        const record = core.history.get(jobId);
        if (record) await cards.refresh(record, reply);
      },
    });
    if (voted.ok) return;
    log.info({ job: jobId, candidate: index, code: voted.error.code }, 'a vote by reaction was not counted');
    if (on && voted.error.code === 'candidate-withheld') await this.tell(notify, errorText(who.actor.locale, voted.error));
  }

  /** /board: the channel's most voted candidates, posted in the channel; an empty board or a bad window privately. */
  async board(who: Who, window: string, notify: Notifier | undefined): Promise<void> {
    const { locale } = who.actor;
    const board = await this.#deps.core.team.board(who, window, 'reactions');
    if (!board.ok) return this.tell(notify, errorText(locale, board.error));
    if (board.value.entries.length === 0) return this.tell(notify, board.value.text);
    const posted = await this.#deps.postBoard(who.place.channelId, board.value);
    if (posted.ok) return;
    this.#deps.log.warn({ err: posted.error, channel: who.place.channelId }, 'could not post the board');
    const notMember = posted.error.code === 'not_in_channel' || posted.error.code === 'channel_not_found';
    await this.tell(notify, notMember ? text(locale, 'slack.not-in-channel') : text(locale, 'error.internal'));
  }

  /** /settings: shows or changes the channel's or one's own defaults; the answer only the asker sees. */
  async settings(who: Who, input: string, notify: Notifier | undefined): Promise<void> {
    const { locale } = who.actor;
    const command = parseSettingsText(input);
    if (!command.ok) return this.tell(notify, errorText(locale, command.error));
    const answer = this.#deps.core.team.settings(who, command.value);
    await this.tell(notify, answer.ok ? answer.value : errorText(locale, answer.error));
  }

  async #ownerAction(command: OwnerAction, who: Who, notify: Notifier | undefined): Promise<void> {
    const { core } = this.#deps;
    const { actor } = who;
    if (command.kind === 'cancel') {
      const cancelled = core.cancel(command.jobId, who);
      // Cancelled: the job's own sink turns its card into "Cancelled."
      if (!cancelled.ok) await this.tell(notify, errorText(actor.locale, cancelled.error));
      return;
    }
    const allowed = core.delete(command.jobId, who);
    if (!allowed.ok) return this.tell(notify, errorText(actor.locale, allowed.error));
    const delivery = deliveryOf(allowed.value);
    const deleted = delivery !== undefined && (await this.#deps.cards.delete(allowed.value, delivery));
    await this.tell(notify, deleted ? text(actor.locale, 'done.deleted') : text(actor.locale, 'error.internal'));
  }

  /** Start-up recovery: continue a job's card where the journal says it is. */
  resume(record: JobRecord): ResumeDecision {
    const delivery = deliveryOf(record);
    if (!delivery) return { resume: false, reason: 'its Slack message is unknown' };
    const sink = this.#deps.cards.sink(delivery, { locale: readDelivery(record).locale, prompt: record.spec.userPrompt });
    return { resume: true, attach: (handle) => this.#track(handle, this.#deps.core.follow(handle, sink)) };
  }

  /** Best effort: a note in the job's thread (or privately in its channel), and a card that no longer offers Cancel. */
  reportLost(record: JobRecord): Promise<void> {
    const channel = record.owner.platform === PLATFORM && record.scope.channel !== '' ? record.scope.channel : undefined;
    return this.#deps.cards.reportLost(record, deliveryOf(record), channel);
  }

  /** Waits until the messages of every job that has finished are delivered (jobs still waiting stay in the journal). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#open.values()].filter((job) => job.handle.finished).map((job) => job.finished));
  }

  #track(handle: JobHandle, finished: Promise<void>): void {
    this.#open.set(handle.id, { handle, finished });
    void finished.finally(() => this.#open.delete(handle.id));
  }
}
