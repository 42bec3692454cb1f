import type { webApi } from '@slack/bolt';
import type { Logger } from '../../logging.ts';
import { slackFailure } from './failure.ts';

/**
 * Votes are Slack reactions: :one: … :four: on a result's card, one per candidate. Slack already keeps one reaction
 * per person per emoji and shows who reacted, so the gesture needs no block space and no bookkeeping of our own.
 */
export const VOTE_REACTIONS = ['one', 'two', 'three', 'four'] as const;

/** The candidate (0-based) a reaction votes for; undefined for any other emoji. */
export function candidateOfReaction(name: string): number | undefined {
  const index = (VOTE_REACTIONS as readonly string[]).indexOf(name);
  return index >= 0 ? index : undefined;
}

/** Slack's key for a message, as the core links a job to the message that shows it. */
export const messageKey = (channel: string, ts: string): string => `${channel}:${ts}`;

/**
 * Adds the vote reactions for the delivered candidates, in order (Slack lists reactions in the order they were
 * added), so people see where to click. One that is already there is fine; any other failure is logged and the rest
 * still tried: a card without its reactions still takes votes from anyone who adds them.
 */
export async function addVoteReactions(
  client: webApi.WebClient,
  where: { readonly channel: string; readonly ts: string },
  candidates: readonly number[],
  log: Logger,
  secrets: readonly (string | null)[],
): Promise<void> {
  for (const index of candidates) {
    const name = VOTE_REACTIONS[index];
    if (name === undefined) continue;
    try {
      await client.reactions.add({ channel: where.channel, timestamp: where.ts, name });
    } catch (error) {
      const failure = slackFailure(error, secrets);
      if (failure.code !== 'already_reacted') log.warn({ err: failure, reaction: name, channel: where.channel }, 'could not add a vote reaction');
    }
  }
}
