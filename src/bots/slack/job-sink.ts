import type { webApi } from '@slack/bolt';
import type { Locale } from '../core/command.ts';
import type { Reply, ReplySink } from '../core/reply.ts';
import { renderCard, renderNote, type CardContext, type SlackMessage } from './blocks.ts';
import { imageThread, type SlackDelivery } from './delivery.ts';

/** Slack reads alt text aloud; it takes at most 1000 characters. */
const ALT_TEXT = 1000;

/**
 * A job's lifecycle in Slack: every status and the closing line edit the job's card (chat.update, at most as often as
 * the core lets through), and the result's image is uploaded into the card's thread before the card turns into the
 * result with its buttons. The same sink serves new jobs and jobs recovered after a restart.
 */
export function createJobSink(client: webApi.WebClient, delivery: SlackDelivery, view: { readonly locale: Locale; readonly prompt: string }): ReplySink {
  // The closing line carries no prompt; keep the one the core last showed (the parsed prompt, flags removed).
  let prompt = view.prompt;
  const ctx = (): CardContext => ({ locale: view.locale, by: delivery.by, prompt });
  const update = async (message: SlackMessage): Promise<void> => {
    await client.chat.update({ channel: delivery.channel, ts: delivery.ts, text: message.text, blocks: message.blocks });
  };
  return async (reply: Reply): Promise<void> => {
    switch (reply.kind) {
      case 'status':
        prompt = reply.prompt;
        return update(renderCard(reply, ctx()));
      case 'final':
        return update(renderCard(reply, ctx()));
      case 'result': {
        prompt = reply.prompt;
        try {
          if (reply.image) {
            await client.files.uploadV2({
              channel_id: delivery.channel,
              thread_ts: imageThread(delivery),
              file_uploads: [{ file: reply.image.png, filename: reply.image.name, title: reply.image.name, alt_text: reply.image.alt.slice(0, ALT_TEXT) }],
            });
          }
        } finally {
          // Even when the upload failed, the card must stop saying "running".
          await update(renderCard(reply, ctx()));
        }
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
}
