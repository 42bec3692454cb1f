import type { App, ViewSubmitAction } from '@slack/bolt';
import type { ListenerDeps } from '../listener-deps.ts';
import { editImageSubmit } from './edit-image-submit.ts';
import { EDIT_MODAL_CALLBACK } from './edit-modal.ts';

export function register(app: App, deps: ListenerDeps): void {
  app.view<ViewSubmitAction>({ callback_id: EDIT_MODAL_CALLBACK, type: 'view_submission' }, editImageSubmit(deps));
}
