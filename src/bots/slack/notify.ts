import type { RespondFn, webApi } from '@slack/bolt';
import { renderNote } from './blocks.ts';

/** Tells one person something only they see (a refusal, a confirmation). */
export type Notifier = (text: string) => Promise<void>;

/**
 * Through the interaction's response_url: works in channels the bot has not joined, which is where a first /draft
 * often comes from.
 */
export function notifyByResponse(respond: RespondFn): Notifier {
  return async (text) => {
    const note = renderNote(text);
    await respond({ response_type: 'ephemeral', replace_original: false, text: note.text, blocks: note.blocks });
  };
}

/** chat.postEphemeral, for events and modals (they carry no response_url). */
export function notifyByEphemeral(client: webApi.WebClient, target: { readonly channel: string; readonly user: string; readonly threadTs?: string | null }): Notifier {
  return async (text) => {
    const note = renderNote(text);
    await client.chat.postEphemeral({
      channel: target.channel,
      user: target.user,
      text: note.text,
      blocks: note.blocks,
      ...(target.threadTs ? { thread_ts: target.threadTs } : {}),
    });
  };
}
