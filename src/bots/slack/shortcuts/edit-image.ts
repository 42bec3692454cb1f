import type { AllMiddlewareArgs, MessageShortcut, SlackShortcutMiddlewareArgs } from '@slack/bolt';
import { errorText } from '../../core/texts.ts';
import { imageFilesOf, ownImage } from '../images.ts';
import type { ListenerDeps } from '../listener-deps.ts';
import { notifierOf, whoOf } from '../middleware.ts';
import { editModal } from '../views/edit-modal.ts';

type ShortcutArgs = SlackShortcutMiddlewareArgs<MessageShortcut> & AllMiddlewareArgs;

export const EDIT_IMAGE_CALLBACK = 'edit_image';

/**
 * The "Edit image" message shortcut: opens a modal for the instruction (and region) on the message's first image.
 * A trigger_id is good for 3 s from the click, so the user's language is only waited for briefly (the requester
 * middleware does that for shortcuts).
 */
export function editImageShortcut(deps: ListenerDeps): (args: ShortcutArgs) => Promise<void> {
  return async ({ ack, shortcut, client, context }) => {
    await ack();
    const { bot } = deps;
    const { locale } = (await whoOf(context)).actor;
    const file = imageFilesOf(shortcut.message as { files?: unknown })[0];
    if (!file) return bot.tell(notifierOf(context), errorText(locale, { code: 'no-image' }));
    const candidates = ownImage(file, bot.botUserId, bot.history)?.candidates;
    const message = shortcut.message as { ts: string; thread_ts?: string };
    await client.views.open({
      trigger_id: shortcut.trigger_id,
      view: editModal(locale, { channel: shortcut.channel.id, threadTs: message.thread_ts ?? message.ts, file, ...(candidates && candidates.length > 1 ? { candidates } : {}) }),
    });
  };
}
