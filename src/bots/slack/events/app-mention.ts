import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import { LRUCache } from 'lru-cache';
import { errorText } from '../../core/texts.ts';
import { imageFilesOf, sourceFor, type SlackFile } from '../images.ts';
import type { ListenerDeps } from '../listener-deps.ts';
import { notifierOf, whoOf } from '../middleware.ts';
import { plainFromSlack } from '../mrkdwn.ts';
import { threadMessages } from '../thread.ts';

type MentionArgs = SlackEventMiddlewareArgs<'app_mention'> & AllMiddlewareArgs;

/** Slack retries an event it thinks was not received; one edit per mention is enough. */
const SEEN_LIMIT = 1000;

/**
 * Edit by reply: `@bot make the sky purple --seed 7` in the thread of an image (or with an image attached) edits the
 * newest image of that thread and posts the result in the same thread.
 */
export function appMention(deps: ListenerDeps): (args: MentionArgs) => Promise<void> {
  const seen = new LRUCache<string, true>({ max: SEEN_LIMIT });
  return async ({ event, body, client, context }) => {
    if (event.bot_id || !event.user) return;
    const eventId = (body as { event_id?: string }).event_id;
    if (eventId) {
      if (seen.has(eventId)) return;
      seen.set(eventId, true);
    }
    const { bot } = deps;
    const who = await whoOf(context);
    const notify = notifierOf(context);
    const { locale } = who.actor;
    const threadTs = event.thread_ts ?? null;
    const command = { kind: 'edit', text: plainFromSlack(event.text, bot.botUserId) } as const;
    // The instruction's flags are checked before the thread is read for its image.
    const refusal = bot.refusalOf(command, who);
    if (refusal !== undefined) return bot.tell(notify, refusal);
    const file = imageFilesOf(event)[0] ?? (threadTs ? await newestThreadImage(client, event.channel, threadTs, event.ts) : undefined);
    if (!file) return bot.tell(notify, errorText(locale, { code: 'no-image' }));
    const source = sourceFor(file, { history: bot.history, botUserId: bot.botUserId });
    if (!source.ok) return bot.tell(notify, errorText(locale, source.error));
    await bot.run({ ...command, image: source.value }, who, { channel: event.channel, threadTs: threadTs ?? event.ts, notify });
  };
}

/** The newest image posted in a thread before the mention (the bot's result, or the image the thread is about). */
async function newestThreadImage(client: MentionArgs['client'], channel: string, threadTs: string, before: string): Promise<SlackFile | undefined> {
  const messages = (await threadMessages(client, channel, threadTs)).filter((m) => m.ts !== undefined && Number(m.ts) < Number(before));
  for (const message of messages.reverse()) {
    const file = imageFilesOf(message)[0];
    if (file) return file;
  }
  return undefined;
}
