import type { webApi } from '@slack/bolt';
import type { JobHistory, JobRecord } from '../../engine/history.ts';
import type { Logger } from '../../logging.ts';
import { fail, ok, type Result } from '../../result.ts';
import type { Locale } from '../core/command.ts';
import { readDelivery } from '../core/core.ts';
import type { PlatformFailure } from '../core/errors.ts';
import type { Reply, ReplyImage, ReplySink } from '../core/reply.ts';
import { text } from '../core/texts.ts';
import { originLine, renderCard, renderNote, renderPending, renderSuggestions, type CardContext, type SlackMessage } from './blocks.ts';
import { deliveryOf, imageThread, type SlackDelivery } from './delivery.ts';
import { slackError, slackFailure } from './failure.ts';
import { imageFilesOf } from './images.ts';
import { PLATFORM } from './middleware.ts';
import type { Permalinks } from './permalinks.ts';
import { addVoteReactions, messageKey } from './reactions.ts';
import { threadMessages } from './thread.ts';

type ResultReply = Extract<Reply, { kind: 'result' }>;

/** Slack reads alt text aloud; it takes at most 1000 characters. */
const ALT_TEXT = 1000;

export interface CardDeps {
  readonly client: webApi.WebClient;
  readonly log: Logger;
  readonly secrets: readonly (string | null)[];
  /** The bot's own user id: its uploads are the files it may delete. */
  readonly botUserId: string;
  /** The journal, for a result's parent and its card. */
  readonly history: JobHistory;
  /** Records which message shows a job, so a reaction on it finds the job (the core's team.linkMessage). */
  readonly linkMessage: (messageKey: string, jobId: string) => void;
  readonly permalinks: Permalinks;
}

/**
 * A job's card in Slack: posted (pending) before the job is queued, so the journal knows it and a restart can
 * continue it; edited by every status; turned into the result once its image is uploaded into the card's thread,
 * with a line linking its parent's card and the vote reactions added under it; edited again as votes come in;
 * deleted with the job's images on Delete.
 */
export class JobCards {
  readonly #deps: CardDeps;

  constructor(deps: CardDeps) {
    this.#deps = deps;
  }

  /** The pending card; a failure comes back as Slack's, scrubbed. */
  async post(where: { readonly channel: string; readonly threadTs: string | null }, ctx: CardContext): Promise<Result<SlackDelivery, PlatformFailure>> {
    const card = renderPending(ctx);
    try {
      const posted = await this.#deps.client.chat.postMessage({ channel: where.channel, ...(where.threadTs ? { thread_ts: where.threadTs } : {}), text: card.text, blocks: card.blocks });
      if (!posted.ts) throw new Error('chat.postMessage returned no ts');
      return ok({ v: 1, channel: where.channel, ts: posted.ts, threadTs: where.threadTs, by: ctx.by });
    } catch (error) {
      return fail(slackFailure(error, this.#deps.secrets));
    }
  }

  /** Removes a card that never became a job (its command was refused after it was posted). */
  async withdraw(delivery: SlackDelivery): Promise<void> {
    await this.#call('chat.delete', () => this.#deps.client.chat.delete({ channel: delivery.channel, ts: delivery.ts }));
  }

  /**
   * The job's lifecycle on its card: every status and the closing line edit it (as often as the core lets
   * through), and the result's image is uploaded into the card's thread before the card turns into the result.
   */
  sink(delivery: SlackDelivery, view: { readonly locale: Locale; readonly prompt: string }): ReplySink {
    const { client, secrets } = this.#deps;
    // The closing line carries no prompt; keep the one the core last showed.
    let prompt = view.prompt;
    const ctx = (): CardContext => ({ locale: view.locale, by: delivery.by, prompt });
    const update = async (message: SlackMessage): Promise<void> => {
      await client.chat.update({ channel: delivery.channel, ts: delivery.ts, text: message.text, blocks: message.blocks });
    };
    const show = async (reply: Reply): Promise<void> => {
      switch (reply.kind) {
        case 'assisting':
        case 'status':
          prompt = reply.prompt;
          return update(renderCard(reply, ctx()));
        case 'suggestions':
          return update(renderSuggestions(reply, ctx()));
        case 'final':
          return update(renderCard(reply, ctx()));
        case 'result': {
          prompt = reply.prompt;
          try {
            if (reply.image) await this.upload({ channel: delivery.channel, threadTs: imageThread(delivery) }, reply.image);
          } finally {
            // Even when the upload failed, the card must stop saying "running".
            await update(renderCard(reply, { ...ctx(), origin: await this.#originOf(reply, view.locale) }));
          }
          if (!reply.refresh) await this.#openVoting(delivery, reply);
          return;
        }
        case 'error':
        case 'notice': {
          const note = renderNote(reply.text);
          await client.chat.postMessage({ channel: delivery.channel, thread_ts: imageThread(delivery), text: note.text, blocks: note.blocks });
          return;
        }
      }
    };
    return async (reply) => {
      try {
        await show(reply);
      } catch (error) {
        // The core logs sink failures; it must see one without the request (and its token) attached.
        throw slackError(error, secrets);
      }
    };
  }

  /** Uploads an image (a result, the board's contact sheet) into a thread: files.uploadV2, alt text within Slack's limit. */
  async upload(where: { readonly channel: string; readonly threadTs: string }, image: ReplyImage): Promise<void> {
    await this.#deps.client.files.uploadV2({
      channel_id: where.channel,
      thread_ts: where.threadTs,
      file_uploads: [{ file: image.png, filename: image.name, title: image.name, alt_text: image.alt.slice(0, ALT_TEXT) }],
    });
  }

  /**
   * A finished job's card shown again with new words (votes came in): the same blocks as the result's, its images in
   * the thread untouched. Thrown failures are scrubbed (the core's refresher logs them).
   */
  async refresh(record: JobRecord, reply: ResultReply): Promise<void> {
    const delivery = deliveryOf(record);
    if (!delivery) return;
    const { locale } = readDelivery(record);
    const card = renderCard(reply, { locale, by: delivery.by, prompt: reply.prompt, origin: await this.#originOf(reply, locale) });
    try {
      await this.#deps.client.chat.update({ channel: delivery.channel, ts: delivery.ts, text: card.text, blocks: card.blocks });
    } catch (error) {
      throw slackError(error, this.#deps.secrets);
    }
  }

  /** The card takes votes: linked to its job (so a reaction finds it, after a restart too), then :one:… pre-added. */
  async #openVoting(delivery: SlackDelivery, reply: ResultReply): Promise<void> {
    const delivered = reply.candidates.flatMap((candidate, index) => (candidate ? [index] : []));
    if (delivered.length === 0) return;
    this.#deps.linkMessage(messageKey(delivery.channel, delivery.ts), reply.jobId);
    await addVoteReactions(this.#deps.client, delivery, delivered, this.#deps.log, this.#deps.secrets);
  }

  /** The line naming a result's parent, linking the parent's card when it is a Slack card whose permalink is known. */
  async #originOf(reply: ResultReply, locale: Locale): Promise<string | null> {
    if (!reply.origin) return null;
    const parent = this.#deps.history.get(reply.origin.parentId);
    // A parent asked on another platform has no Slack card to link.
    const card = parent?.scope.platform === PLATFORM ? deliveryOf(parent) : undefined;
    const permalink = card ? await this.#deps.permalinks.of(card.channel, card.ts) : undefined;
    return originLine(locale, reply.origin, permalink);
  }

  /** A job the bot could not recover: its card closes with the reason and a note goes to its thread (or to the owner privately). */
  async reportLost(record: JobRecord, delivery: SlackDelivery | undefined, channel: string | undefined): Promise<void> {
    const { locale } = readDelivery(record);
    const reason = record.error?.params?.reason ?? record.error?.message ?? '';
    const line = text(locale, 'recovered.failed', { job: record.id, reason });
    const closing = { kind: 'final', jobId: record.id, outcome: 'failed', text: line } as const;
    const { client } = this.#deps;
    if (delivery) {
      const card = renderCard(closing, { locale, by: delivery.by, prompt: record.spec.userPrompt });
      await this.#call('chat.update', () => client.chat.update({ channel: delivery.channel, ts: delivery.ts, text: card.text, blocks: card.blocks }));
      const note = renderNote(line);
      await this.#call('chat.postMessage', () => client.chat.postMessage({ channel: delivery.channel, thread_ts: imageThread(delivery), text: note.text, blocks: note.blocks }));
      return;
    }
    if (channel) {
      const card = renderCard(closing, { locale, by: null, prompt: record.spec.userPrompt });
      await this.#call('chat.postEphemeral', () => client.chat.postEphemeral({ channel, user: record.owner.userId, text: card.text, blocks: card.blocks }));
    }
  }

  /** Deletes a job's card and the images the bot uploaded for it (found by their names in the job's thread). */
  async delete(record: JobRecord, delivery: SlackDelivery): Promise<boolean> {
    const { client, botUserId } = this.#deps;
    const thread = await this.#call('conversations.replies', () => threadMessages(client, delivery.channel, imageThread(delivery)));
    if (!thread) return false;
    const prefix = `${record.id}-`;
    const files = thread.flatMap((m) => imageFilesOf(m)).filter((f) => f.user === botUserId && f.id && f.name?.startsWith(prefix));
    let ok = true;
    for (const file of files) ok = (await this.#call('files.delete', () => client.files.delete({ file: file.id! }))) !== undefined && ok;
    return (await this.#call('chat.delete', () => client.chat.delete({ channel: delivery.channel, ts: delivery.ts }))) !== undefined && ok;
  }

  /** A best-effort Web API call: failures are logged (without secrets) and come back as undefined. */
  async #call<T>(method: string, call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (error) {
      this.#deps.log.warn({ err: slackError(error, this.#deps.secrets), method }, 'Slack call failed');
      return undefined;
    }
  }
}
