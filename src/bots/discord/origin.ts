import type { JobHistory } from '../../engine/history.ts';
import type { Locale } from '../core/command.ts';
import { text } from '../core/texts.ts';
import { deliveryOf, messageLink, resultMessageOf } from './delivery.ts';

/**
 * The parent in a result's origin line ("varied from #2 of job x"): a link to the message that shows the parent's
 * result, found in the parent's journal record, or the plain words when that message is not known (a job from
 * another platform, a delivery from before it was recorded).
 */
export function parentLabel(history: Pick<JobHistory, 'get'>, parentId: string, locale: Locale): string {
  const label = text(locale, 'origin.parent', { job: parentId });
  const record = history.get(parentId);
  const found = record && record.scope.platform === 'discord' ? deliveryOf(record) : undefined;
  const message = found ? resultMessageOf(found.delivery) : null;
  // Job ids are letters and digits: the label needs no escaping inside the link's brackets.
  return found && message ? `[${label}](${messageLink(found.delivery, message)})` : label;
}
