import type { AllMiddlewareArgs, MessageShortcut, SlackShortcutMiddlewareArgs } from '@slack/bolt';
import { imageFilesOf } from '../images.ts';
import type { ListenerDeps } from '../listener-deps.ts';
import { notifierOf, whoOf } from '../middleware.ts';

type ShortcutArgs = SlackShortcutMiddlewareArgs<MessageShortcut> & AllMiddlewareArgs;

export const DESCRIBE_IMAGE_CALLBACK = 'describe_image';

/**
 * The "Describe image" message shortcut: the prompt assistant suggests prompts for the message's first image. They
 * go on a card in the message's thread, each with a Draft button; refusals only the asker sees.
 */
export function describeImageShortcut(deps: ListenerDeps): (args: ShortcutArgs) => Promise<void> {
  return async ({ ack, shortcut, context }) => {
    await ack();
    const who = await whoOf(context);
    const message = shortcut.message as { ts: string; thread_ts?: string; files?: unknown };
    await deps.bot.describe(imageFilesOf(message)[0], who, { channel: shortcut.channel.id, threadTs: message.thread_ts ?? message.ts, notify: notifierOf(context) });
  };
}
