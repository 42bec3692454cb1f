import type { App, BlockAction } from '@slack/bolt';
import type { ListenerDeps } from '../listener-deps.ts';
import { jobButton } from './job-button.ts';

/** Every button the core renders has an id `z:<action>:<job>[:<n>]`. */
export function register(app: App, deps: ListenerDeps): void {
  app.action<BlockAction>({ type: 'block_actions', action_id: /^z:/ }, jobButton(deps));
}
