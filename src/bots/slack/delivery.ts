import type { JobRecord } from '../../engine/history.ts';
import { readDelivery } from '../core/core.ts';

/**
 * Where a job's Slack messages are, kept in the job journal (the core stores it as `delivery.data`), so the card can
 * be edited, the images found and deleted, and a job recovered after a restart can continue in the same message.
 */
export interface SlackDelivery {
  readonly v: 1;
  readonly channel: string;
  /** The job's card: the status message that becomes the result. */
  readonly ts: string;
  /** The thread the card was posted in; null when the card is top-level (its own thread then gets the images). */
  readonly threadTs: string | null;
  /** Who asked, as their display name (shown on the card; never a mention). */
  readonly by: string | null;
}

/** The thread a job's images (and any later note about it) go into. */
export const imageThread = (delivery: SlackDelivery): string => delivery.threadTs ?? delivery.ts;

const isTs = (value: unknown): value is string => typeof value === 'string' && /^\d+\.\d+$/.test(value);

/** The Slack delivery of a journal record, if it has a usable one. */
export function deliveryOf(record: JobRecord): SlackDelivery | undefined {
  const data = readDelivery(record).data as Partial<SlackDelivery> | null;
  if (!data || data.v !== 1 || typeof data.channel !== 'string' || data.channel === '' || !isTs(data.ts)) return undefined;
  if (data.threadTs !== null && !isTs(data.threadTs)) return undefined;
  return { v: 1, channel: data.channel, ts: data.ts, threadTs: data.threadTs, by: typeof data.by === 'string' ? data.by : null };
}
