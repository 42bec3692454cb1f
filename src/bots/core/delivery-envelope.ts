import type { JobRecord } from '../../engine/history.ts';
import type { Locale, Place } from './command.ts';

/** What the core keeps in the journal's delivery column around the adapter's own data. */
export interface DeliveryEnvelope {
  readonly locale: Locale;
  readonly place: Place;
  readonly data: unknown;
}

/** Where a journaled job's messages are in the adapter's terms, and the language they are in. */
export function readDelivery(record: JobRecord): { readonly locale: Locale; readonly data: unknown } {
  const envelope = record.delivery as Partial<DeliveryEnvelope> | null;
  return { locale: envelope?.locale === 'zh-CN' ? 'zh-CN' : 'en', data: envelope?.data ?? null };
}
