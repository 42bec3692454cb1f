import type { JobRecord } from '../../engine/history.ts';
import type { Locale, Place } from './command.ts';

/** What the core keeps in the journal's delivery column around the adapter's own data. */
export interface DeliveryEnvelope {
  readonly locale: Locale;
  readonly place: Place;
  readonly data: unknown;
  /** The prompt assistant wrote the job's prompt from this one (the user's own, offered back on the result). */
  readonly enhancedFrom?: string;
}

/** Where a journaled job's messages are in the adapter's terms, the language they are in, and the prompt it was enhanced from. */
export function readDelivery(record: JobRecord): { readonly locale: Locale; readonly data: unknown; readonly enhancedFrom: string | null } {
  const envelope = record.delivery as Partial<DeliveryEnvelope> | null;
  return {
    locale: envelope?.locale === 'zh-CN' ? 'zh-CN' : 'en',
    data: envelope?.data ?? null,
    enhancedFrom: typeof envelope?.enhancedFrom === 'string' && envelope.enhancedFrom !== '' ? envelope.enhancedFrom : null,
  };
}
