import type { JobHistory, JobRecord } from '../../engine/history.ts';
import type { JobHandle } from '../../engine/job-handle.ts';
import type { ResumeDecision } from '../../engine/recovery.ts';
import type { Logger } from '../../logging.ts';
import type { FetchPolicy } from '../core/attachments.ts';
import type { CommandRequest, JobCommand, OwnerAction, Who } from '../core/command.ts';
import { readDelivery, type BotCore } from '../core/core.ts';
import { runCommand, type ChatPort } from '../core/flow.ts';
import { errorText, text } from '../core/texts.ts';
import { deliveryOf, type SlackDelivery } from './delivery.ts';
import type { JobCards } from './job-cards.ts';
import { tell, PLATFORM } from './middleware.ts';
import type { Notifier } from './notify.ts';


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
}

/**
 * Slack's side of the core: runs a listener's command through the core's flow over this platform's port (refusals
 * privately, the job's card posted before it is queued so the journal knows it, the card taken back on a late
 * refusal), carries out Cancel and Delete, and continues jobs after a restart.
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
