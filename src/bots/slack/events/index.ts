import type { App } from '@slack/bolt';
import type { ListenerDeps } from '../listener-deps.ts';
import { appMention } from './app-mention.ts';
import { reactionVote } from './reaction-vote.ts';

/** The bot events the app listens to; the manifest must subscribe to each. */
export const BOT_EVENTS = ['app_mention', 'reaction_added', 'reaction_removed'] as const;

export function register(app: App, deps: ListenerDeps): void {
  app.event('app_mention', deps.accepting, appMention(deps));
  // Not behind `accepting`: a vote starts no work, and a reaction has nowhere to be told "try again later".
  app.event('reaction_added', reactionVote(deps, true));
  app.event('reaction_removed', reactionVote(deps, false));
}
