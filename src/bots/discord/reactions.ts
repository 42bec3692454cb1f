import type { Logger } from '../../logging.ts';
import type { DiscordTransport } from './transport.ts';

/**
 * Votes are reactions: the keycaps 1️⃣–4️⃣ under a result, one per candidate. Discord keeps one reaction per person
 * per emoji and counts them under the message, so the gesture costs no component slot and no bookkeeping of ours
 * beyond the journal's count.
 */
export const VOTE_EMOJI = ['1\uFE0F\u20E3', '2\uFE0F\u20E3', '3\uFE0F\u20E3', '4\uFE0F\u20E3'] as const;

/**
 * The candidate (0-based) a reaction votes for; undefined for any other emoji. A custom emoji (it has an id) never
 * is one, and the keycap without its variation selector (as some keyboards send it) counts the same.
 */
export function candidateOfEmoji(emoji: { readonly id: string | null; readonly name: string | null }): number | undefined {
  if (emoji.id !== null || emoji.name === null) return undefined;
  const bare = emoji.name.replaceAll('\uFE0F', '');
  const index = VOTE_EMOJI.findIndex((e) => e.replaceAll('\uFE0F', '') === bare);
  return index >= 0 ? index : undefined;
}

/**
 * Adds the vote reactions for the delivered candidates, in order (Discord lists reactions in the order they were
 * first added), so people see where to click. Sent one after another: the reaction route allows one request per
 * quarter second, and discord.js waits as its headers say. A failure (no Add Reactions permission, the message gone)
 * is logged and the rest still tried: a result without them still takes votes from anyone who adds them.
 */
export async function addVoteReactions(transport: DiscordTransport, where: { readonly channelId: string; readonly messageId: string }, candidates: readonly number[], log: Logger): Promise<void> {
  for (const index of candidates) {
    const emoji = VOTE_EMOJI[index];
    if (emoji === undefined) continue;
    const added = await transport.react(where.channelId, where.messageId, emoji);
    if (!added.ok) log.warn({ err: added.error, candidate: index + 1, channel: where.channelId }, 'could not add a vote reaction');
  }
}
