import type { App } from '@slack/bolt';
import type { ListenerDeps } from '../listener-deps.ts';
import { appMention } from './app-mention.ts';

export function register(app: App, deps: ListenerDeps): void {
  app.event('app_mention', deps.accepting, appMention(deps));
}
