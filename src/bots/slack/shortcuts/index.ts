import type { App, MessageShortcut } from '@slack/bolt';
import type { ListenerDeps } from '../listener-deps.ts';
import { DESCRIBE_IMAGE_CALLBACK, describeImageShortcut } from './describe-image.ts';
import { EDIT_IMAGE_CALLBACK, editImageShortcut } from './edit-image.ts';

/** Every message shortcut the app answers, by callback id; the manifest must declare each. */
export const SHORTCUT_CALLBACKS: readonly string[] = [EDIT_IMAGE_CALLBACK, DESCRIBE_IMAGE_CALLBACK];

export function register(app: App, deps: ListenerDeps): void {
  app.shortcut<MessageShortcut>({ callback_id: EDIT_IMAGE_CALLBACK, type: 'message_action' }, deps.accepting, editImageShortcut(deps));
  app.shortcut<MessageShortcut>({ callback_id: DESCRIBE_IMAGE_CALLBACK, type: 'message_action' }, deps.accepting, describeImageShortcut(deps));
}
