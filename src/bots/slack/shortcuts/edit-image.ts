import type { AllMiddlewareArgs, MessageShortcut, SlackShortcutMiddlewareArgs } from '@slack/bolt';
import { errorText } from '../../core/texts.ts';
import { imageFilesOf, ownImage } from '../images.ts';
import type { ListenerDeps } from '../listener-deps.ts';
import { notifyByResponse } from '../notify.ts';
import { editModal } from '../views/edit-modal.ts';

type ShortcutArgs = SlackShortcutMiddlewareArgs<MessageShortcut> & AllMiddlewareArgs;

/** A trigger_id is good for 3 s from the click, so the user's language may not hold up the modal for long. */
const LOCALE_DEADLINE_MS = 1000;

export const EDIT_IMAGE_CALLBACK = 'edit_image';

/** The "Edit image" message shortcut: opens a modal for the instruction (and region) on the message's first image. */
export function editImageShortcut(deps: ListenerDeps): (args: ShortcutArgs) => Promise<void> {
  return async ({ ack, shortcut, client, respond }) => {
    await ack();
    const { dispatcher } = deps;
    const user = shortcut.user.id;
    const notify = notifyByResponse(respond);
    await dispatcher.guard(user, notify, async () => {
      const locale = await dispatcher.localeWithin(user, LOCALE_DEADLINE_MS);
      const file = imageFilesOf(shortcut.message as { files?: unknown })[0];
      if (!file) return dispatcher.tell({ notify }, errorText(locale, { code: 'no-image' }));
      if (dispatcher.paused) return dispatcher.tell({ notify }, errorText(locale, { code: 'shutting-down', message: '' }));
      const own = ownImage(file, dispatcher.botUserId, dispatcher.journal);
      const pick = own && !own.ok && 'pick' in own ? own.pick.indices : undefined;
      const message = shortcut.message as { ts: string; thread_ts?: string };
      await client.views.open({
        trigger_id: shortcut.trigger_id,
        view: editModal(locale, { channel: shortcut.channel.id, threadTs: message.thread_ts ?? message.ts, file, ...(pick ? { pick } : {}) }),
      });
    });
  };
}
