import type { App, MessageShortcut } from '@slack/bolt';
import type { ListenerDeps } from '../listener-deps.ts';
import { EDIT_IMAGE_CALLBACK, editImageShortcut } from './edit-image.ts';

export function register(app: App, deps: ListenerDeps): void {
  app.shortcut<MessageShortcut>({ callback_id: EDIT_IMAGE_CALLBACK, type: 'message_action' }, deps.accepting, editImageShortcut(deps));
}
