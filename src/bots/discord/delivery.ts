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
  /** The interaction this job answers; null for a reply-to-image (mention) edit. */
  readonly interaction: { readonly applicationId: string; readonly token: string; readonly createdAt: number } | null;
  /**
   * The message a channel-message result replies to: the interaction's response (the status card) or the user's
   * own message. Null when it could not be learned.
   */
  readonly replyTo: string | null;
}

const snowflake = z.string().regex(/^\d{1,20}$/);

const deliverySchema = z.object({
  v: z.literal(1),
  channelId: snowflake,
  guildId: snowflake.nullable(),
  uploadLimit: z.number().int().positive(),
  interaction: z.object({ applicationId: snowflake, token: z.string().min(1), createdAt: z.number().int().nonnegative() }).nullable(),
  replyTo: snowflake.nullable(),
});

/** The Discord delivery of a journal record and the language its messages are in; undefined when unusable. */
export function deliveryOf(record: JobRecord): { readonly delivery: DiscordDelivery; readonly locale: Locale } | undefined {
  const { data, locale } = readDelivery(record);
  const parsed = deliverySchema.safeParse(data);
  return parsed.success ? { delivery: parsed.data, locale } : undefined;
}
