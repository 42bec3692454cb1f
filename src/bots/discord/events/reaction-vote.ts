import { candidateOfEmoji } from '../reactions.ts';

/**
 * A reaction added to or removed from a message, as plain values. 1️⃣–4️⃣ on one of the bot's results is a vote for
 * that candidate (added) or the vote taken back (removed); Discord already keeps one reaction per person per emoji,
 * so each event is one person's vote and a repeated event sets the same state again.
 */
export interface ReactionView {
  readonly messageId: string;
  readonly userId: string;
  /** Null when Discord did not say (a removal names only the user's id). */
  readonly userIsBot: boolean | null;
  readonly emoji: { readonly id: string | null; readonly name: string | null };
}

/**
 * The candidate (0-based) a reaction votes for, or undefined when it is no vote: another emoji, the bot's own
 * reactions (it adds them so people see where to click), another bot's.
 */
export function voteOfReaction(reaction: ReactionView, botUserId: string): number | undefined {
  if (reaction.userId === botUserId || reaction.userIsBot === true) return undefined;
  return candidateOfEmoji(reaction.emoji);
}
