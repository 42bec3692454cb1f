import type { webApi } from '@slack/bolt';

type ThreadMessage = NonNullable<webApi.ConversationsRepliesResponse['messages']>[number];

/** Pages of 200; a thread longer than this many pages is read only that far (its oldest messages). */
const MAX_PAGES = 10;

/**
 * A thread's messages, oldest first. Slack returns a thread from its start, one page at a time, so the newest
 * messages of a long thread are only reached by following the cursor.
 */
export async function threadMessages(client: webApi.WebClient, channel: string, ts: string): Promise<ThreadMessage[]> {
  const messages: ThreadMessage[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const response = await client.conversations.replies({ channel, ts, limit: 200, ...(cursor ? { cursor } : {}) });
    // Slack may repeat the thread's parent at the top of later pages.
    for (const message of response.messages ?? []) {
      if (message.ts !== undefined && !seen.has(message.ts)) {
        seen.add(message.ts);
        messages.push(message);
      }
    }
    cursor = response.response_metadata?.next_cursor || undefined;
    if (!cursor) break;
  }
  return messages;
}
