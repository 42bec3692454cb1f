import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import { errorText, text as sentence } from '../../core/texts.ts';
import { imageFilesOf, sourceFor, type SlackFile } from '../images.ts';
import type { ListenerDeps } from '../listener-deps.ts';
import { plainFromSlack } from '../mrkdwn.ts';
import { notifyByEphemeral } from '../notify.ts';
import { threadMessages } from '../thread.ts';

type MentionArgs = SlackEventMiddlewareArgs<'app_mention'> & AllMiddlewareArgs;

/** Slack retries an event it thinks was not received; one edit per mention is enough. */
const SEEN_LIMIT = 1000;

/**
 * Edit by reply: `@bot make the sky purple --seed 7` in the thread of an image (or with an image attached) edits the
 * newest image of that thread and posts the result in the same thread.
 */
export function appMention(deps: ListenerDeps): (args: MentionArgs) => Promise<void> {
  const seen = new Set<string>();
  return async ({ event, body, client }) => {
    if (event.bot_id || !event.user) return;
    const eventId = (body as { event_id?: string }).event_id;
    if (eventId) {
      if (seen.has(eventId)) return;
      seen.add(eventId);
      if (seen.size > SEEN_LIMIT) seen.delete(seen.values().next().value!);
    }
    const user = event.user;
    const { dispatcher } = deps;
    const threadTs = event.thread_ts ?? null;
    const notify = notifyByEphemeral(client, { channel: event.channel, user, threadTs });
    await dispatcher.guard(user, notify, async () => {
      const who = await dispatcher.requester(user, (body as { team_id?: string }).team_id ?? event.team, event.channel);
      const { locale } = who.actor;
      const text = plainFromSlack(event.text, dispatcher.botUserId);
      const refusal = dispatcher.precheckEdit(text, {}, who.actor);
      if (refusal !== undefined) return dispatcher.tell({ notify }, refusal);

      const file = imageFilesOf(event)[0] ?? (threadTs ? await newestThreadImage(client, event.channel, threadTs, event.ts) : undefined);
      if (!file) return dispatcher.tell({ notify }, errorText(locale, { code: 'no-image' }));
      const source = await sourceFor(file, { journal: dispatcher.journal, botUserId: dispatcher.botUserId, policy: deps.download });
      if (!source.ok) return dispatcher.tell({ notify }, 'pick' in source ? sentence(locale, 'slack.pick-candidate') : errorText(locale, source.error));
      await dispatcher.submit({ kind: 'edit', text, image: source.source }, who, { channel: event.channel, threadTs: threadTs ?? event.ts, notify });
    });
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
