import { fail, ok, type Result } from '../../result.ts';
import type { Locale } from '../core/command.ts';
import { PlatformError, type PlatformFailure } from '../core/errors.ts';
import type { Reply, ReplySink } from '../core/reply.ts';
import type { Logger } from '../../logging.ts';
import type { DiscordDelivery } from './delivery.ts';
import { fitFiles } from './fit-upload.ts';
import { renderReply, type RenderedMessage } from './render.ts';
import { isExpiredToken, type DiscordTransport, type InteractionRef } from './transport.ts';

/**
 * Interaction tokens live 15 minutes. Past 14, switch to channel messages before Discord says no, so a result that
 * finishes at minute 14:59 is not lost to a race.
 */
export const TOKEN_SAFE_MS = 14 * 60_000;

export interface JobMessageOptions {
  readonly transport: DiscordTransport;
  readonly delivery: DiscordDelivery;
  readonly locale: Locale;
  readonly log: Logger;
  readonly now?: () => number;
  /**
   * Called once when the interaction token is of no more use to this job (its result is out, or the token expired):
   * the token should then leave the journal.
   */
  readonly onTokenRetired?: (jobId: string) => void;
  /** Called for each message the bot posts in the channel for the job (so Delete can tell it is the job's). */
  readonly onPosted?: (jobId: string, messageId: string) => void;
  /** The parent job in a result's origin line: a link to its message, or plain words. */
  readonly parentLabel?: (parentId: string, locale: Locale) => string;
  /** Called once a result is out, with the message that shows it and the candidates it delivered (in order). */
  readonly onResultShown?: (shown: ResultShown) => void;
}

/** Where a job's result went: the message, and the candidates (0-based) it shows. */
export interface ResultShown {
  readonly jobId: string;
  readonly channelId: string;
  readonly messageId: string;
  readonly candidates: readonly number[];
}

/** The message an operation wrote to ('' when Discord did not say), or why it failed. */
type Delivered = Result<string, PlatformFailure>;

/**
 * One job's messages on Discord: the status card, edited as the job goes, and the result. While the interaction
 * token is valid everything edits the interaction's response; once it has expired (or is about to), status goes to
 * a channel message and the result is posted as a reply to the request, so long jobs and jobs recovered after a
 * restart are still delivered.
 */
export class JobMessage {
  readonly #options: JobMessageOptions;
  readonly #now: () => number;
  #useToken: boolean;
  /** A status card this class posted in the channel (after the token expired, or for a mention edit). */
  #ownCard: string | null = null;
  /** The interaction's response could not be edited as a channel message either. */
  #originalLocked = false;
  #tokenRetired = false;
  #jobId: string | undefined;

  constructor(options: JobMessageOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#useToken = options.delivery.interaction?.token != null;
  }

  /** The core's sink: called in order, never concurrently. */
  readonly sink: ReplySink = (reply) => this.show(reply);

  async show(reply: Reply): Promise<void> {
    if ('jobId' in reply) this.#jobId = reply.jobId;
    // The prompt assistant's status comes before a job's statuses on the same card.
    const closing = reply.kind !== 'status' && reply.kind !== 'assisting';
    const { locale, parentLabel } = this.#options;
    const rendered = renderReply(reply, locale, parentLabel ? { parentLabel: (parentId) => parentLabel(parentId, locale) } : {});
    let limit = this.#options.delivery.uploadLimit;
    // One retry at a quarter of the limit if Discord still finds the files too large (its limit is per message).
    for (let attempt = 0; ; attempt++) {
      const message = rendered.files.length > 0 ? { ...rendered, files: await fitFiles(rendered.files, limit) } : rendered;
      const delivered = await this.#deliver(message, closing);
      if (delivered.ok) {
        this.#resultShown(reply, delivered.value);
        return this.#retireToken(reply, closing);
      }
      const failure = delivered.error;
      const tooLarge = failure.code === 40005 || failure.status === 413;
      if (!tooLarge || attempt > 0 || rendered.files.length === 0) throw new PlatformError(failure);
      limit = Math.floor(limit / 4);
    }
  }

  #retireToken(reply: Reply, closing: boolean): void {
    if (this.#tokenRetired || this.#options.delivery.interaction?.token == null || !('jobId' in reply)) return;
    if (!closing && this.#useToken) return;
    this.#tokenRetired = true;
    this.#options.onTokenRetired?.(reply.jobId);
  }

  #resultShown(reply: Reply, messageId: string): void {
    if (reply.kind !== 'result' || reply.refresh === true || messageId === '') return;
    const candidates = reply.candidates.flatMap((image, index) => (image ? [index] : []));
    this.#options.onResultShown?.({ jobId: reply.jobId, channelId: this.#options.delivery.channelId, messageId, candidates });
  }

  #posted(messageId: string): void {
    if (this.#jobId !== undefined && messageId !== '') this.#options.onPosted?.(this.#jobId, messageId);
  }

  #tokenFresh(): boolean {
    const interaction = this.#options.delivery.interaction;
    return interaction?.token != null && this.#now() - interaction.createdAt < TOKEN_SAFE_MS;
  }

  #ref(): InteractionRef | undefined {
    const interaction = this.#options.delivery.interaction;
    return interaction?.token != null ? { applicationId: interaction.applicationId, token: interaction.token } : undefined;
  }

  async #deliver(message: RenderedMessage, closing: boolean): Promise<Delivered> {
    const ref = this.#ref();
    if (this.#useToken && ref && this.#tokenFresh()) {
      const sent = await this.#options.transport.editOriginal(ref, message);
      if (sent.ok) return ok(sent.value.id || (this.#original() ?? ''));
      if (!isExpiredToken(sent.error)) return fail(sent.error);
    }
    if (this.#useToken) {
      this.#useToken = false;
      this.#options.log.info({ channel: this.#options.delivery.channelId }, 'interaction token expired: continuing with channel messages');
    }
    return closing ? this.#closeInChannel(message) : this.#statusInChannel(message);
  }

  /** The interaction's response, when there is one and its id is known. */
  #original(): string | null {
    return this.#options.delivery.interaction ? this.#options.delivery.replyTo : null;
  }

  async #statusInChannel(message: RenderedMessage): Promise<Delivered> {
    const { transport, delivery } = this.#options;
    if (this.#ownCard) {
      const edited = await transport.editMessage(delivery.channelId, this.#ownCard, message);
      return edited.ok ? ok(this.#ownCard) : fail(edited.error);
    }
    const original = this.#original();
    if (original && !this.#originalLocked) {
      // The bot wrote the interaction's response, so it can usually edit it as an ordinary message.
      const edited = await transport.editMessage(delivery.channelId, original, message);
      if (edited.ok) return ok(original);
      this.#originalLocked = true;
      this.#options.log.debug({ code: edited.error.code }, 'cannot edit the interaction response as a message: posting a new status card');
    }
    const posted = await transport.postMessage(delivery.channelId, message, delivery.replyTo ?? undefined);
    if (!posted.ok) return fail(posted.error);
    this.#ownCard = posted.value.id;
    this.#posted(posted.value.id);
    return ok(posted.value.id);
  }

  async #closeInChannel(message: RenderedMessage): Promise<Delivered> {
    const { transport, delivery, log } = this.#options;
    if (this.#ownCard) {
      const edited = await transport.editMessage(delivery.channelId, this.#ownCard, message);
      if (edited.ok) return ok(this.#ownCard);
      log.debug({ code: edited.error.code }, 'cannot edit the status card: posting the result as a new message');
    }
    const posted = await transport.postMessage(delivery.channelId, message, delivery.replyTo ?? undefined);
    if (!posted.ok) return fail(posted.error);
    this.#posted(posted.value.id);
    const original = this.#original();
    if (original && !this.#originalLocked) {
      // The old status card would otherwise keep offering Cancel for a job that is over.
      const stripped = await transport.stripButtons(delivery.channelId, original);
      if (!stripped.ok) log.debug({ code: stripped.error.code }, 'could not remove the buttons of the old status card');
    }
    return ok(posted.value.id);
  }
}
