import { z } from 'zod';
import type { JobRecord } from '../../engine/history.ts';
import type { Locale } from '../core/command.ts';
import { readDelivery } from '../core/core.ts';

/**
 * Where a job's Discord messages go, kept in the job journal (the core stores it as `delivery.data`), so a job
 * recovered after a restart continues its status card: through the interaction's webhook while the token is
 * valid, as channel messages after that.
 */
export interface DiscordDelivery {
  readonly v: 1;
  readonly channelId: string;
  readonly guildId: string | null;
  /** The largest file Discord takes here (bytes); bigger images are downscaled to fit. */
  readonly uploadLimit: number;
  /**
   * The interaction this job answers; null for a reply-to-image (mention) edit. Its token is dropped (null) once the
   * job no longer needs it: the journal does not keep a credential longer than it is of use.
   */
  readonly interaction: { readonly applicationId: string; readonly token: string | null; readonly createdAt: number } | null;
  /**
   * The message a channel-message result replies to: the interaction's response (the status card) or the user's
   * own message. Null when it could not be learned.
   */
  readonly replyTo: string | null;
  /** Messages the bot posted for this job in the channel (a mention's card, a card after the token expired). */
  readonly posted?: readonly string[];
  /** The message that shows the job's result (a child's result links to it). */
  readonly result?: string;
}

const snowflake = z.string().regex(/^\d{1,20}$/);

const deliverySchema = z.object({
  v: z.literal(1),
  channelId: snowflake,
  guildId: snowflake.nullable(),
  uploadLimit: z.number().int().positive(),
  interaction: z.object({ applicationId: snowflake, token: z.string().min(1).nullable(), createdAt: z.number().int().nonnegative() }).nullable(),
  replyTo: snowflake.nullable(),
  posted: z.array(snowflake).max(20).optional(),
  result: snowflake.optional(),
});

/** Interaction tokens are good for 15 minutes from the interaction. */
const TOKEN_LIFETIME_MS = 15 * 60_000;

/**
 * The same delivery without its interaction token (the job's messages go on as channel messages), or undefined when
 * there is no token to drop — or, with `olderThan`, none that has expired yet.
 */
export function withoutToken(data: unknown, now?: number): DiscordDelivery | undefined {
  const parsed = deliverySchema.safeParse(data);
  const interaction = parsed.success ? parsed.data.interaction : null;
  if (!parsed.success || interaction === null || interaction.token === null) return undefined;
  if (now !== undefined && now - interaction.createdAt < TOKEN_LIFETIME_MS) return undefined;
  return { ...parsed.data, interaction: { ...interaction, token: null } };
}

/** The same delivery, knowing one more message the bot posted for the job. */
export function withPosted(data: unknown, messageId: string): DiscordDelivery | undefined {
  const parsed = deliverySchema.safeParse(data);
  if (!parsed.success) return undefined;
  return { ...parsed.data, posted: [...(parsed.data.posted ?? []), messageId].slice(-20) };
}

/** The same delivery, knowing the message that shows the result. */
export function withResult(data: unknown, messageId: string): DiscordDelivery | undefined {
  const parsed = deliverySchema.safeParse(data);
  return parsed.success ? { ...parsed.data, result: messageId } : undefined;
}

/**
 * The message that shows the job's result: as recorded, or — for a job delivered before that was recorded — the last
 * message posted for it (the result goes out last), else the interaction's response. Null when none is known.
 */
export function resultMessageOf(delivery: DiscordDelivery): string | null {
  return delivery.result ?? delivery.posted?.at(-1) ?? (delivery.interaction ? delivery.replyTo : null);
}

/** A message's link as Discord's clients open it. */
export function messageLink(delivery: Pick<DiscordDelivery, 'guildId' | 'channelId'>, messageId: string): string {
  return `https://discord.com/channels/${delivery.guildId ?? '@me'}/${delivery.channelId}/${messageId}`;
}

/**
 * The messages that are this job's on Discord: the interaction's response, and what the bot posted for it. A Delete
 * pressed anywhere else is not this job's to act on.
 */
export function messagesOf(delivery: DiscordDelivery): ReadonlySet<string> {
  return new Set([...(delivery.interaction && delivery.replyTo ? [delivery.replyTo] : []), ...(delivery.posted ?? []), ...(delivery.result ? [delivery.result] : [])]);
}

/** The Discord delivery of a journal record and the language its messages are in; undefined when unusable. */
export function deliveryOf(record: JobRecord): { readonly delivery: DiscordDelivery; readonly locale: Locale } | undefined {
  const { data, locale } = readDelivery(record);
  const parsed = deliverySchema.safeParse(data);
  return parsed.success ? { delivery: parsed.data, locale } : undefined;
}
