import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { ListenerDeps } from '../listener-deps.ts';
import { notifierOf, whoOf } from '../middleware.ts';
import { candidateOfReaction } from '../reactions.ts';

type ReactionArgs = SlackEventMiddlewareArgs<'reaction_added' | 'reaction_removed'> & AllMiddlewareArgs;

/**
 * :one: … :four: added to (or removed from) a result's card is a vote for (or taken back from) that candidate. Any
 * other emoji, a message that shows no job, and the bot's own reactions (bolt's ignoreSelf drops them already; the
 * check here does not rely on it) are ignored. Slack keeps one reaction per person per emoji, so each event is one
 * person's vote, and a retried event sets the same state again.
 */
export function reactionVote(deps: ListenerDeps, on: boolean): (args: ReactionArgs) => Promise<void> {
  return async ({ event, context }) => {
    const item = event.item as { type?: string; channel?: string; ts?: string };
    if (item.type !== 'message' || !item.channel || !item.ts || !event.user) return;
    const index = candidateOfReaction(event.reaction);
    if (index === undefined || event.user === deps.bot.botUserId) return;
    const jobId = deps.bot.jobOfMessage(item.channel, item.ts);
    if (!jobId) return;
    await deps.bot.vote(jobId, index, await whoOf(context), on, notifierOf(context));
  };
}
