import { commandFromButton } from '../../core/buttons.ts';
import { errorText } from '../../core/texts.ts';
import type { HandlerContext, Intent } from '../intent.ts';

/**
 * The buttons on status cards and results. Their ids carry the action and the job (`z:<action>:<jobId>[:<n>]`), the
 * rest is in the job journal, so a button keeps working after a restart. Refine, Vary and Reroll start a new job
 * owned by whoever pressed; Cancel and Delete are the owner's (the core checks).
 */
export const isJobButtonId = (id: string): boolean => id.startsWith('z:');

export function handleJobButton(ctx: HandlerContext, id: string): Intent {
  const command = commandFromButton(id);
  if (!command) return { kind: 'refuse', text: errorText(ctx.locale, { code: 'expired-button' }) };
  switch (command.kind) {
    case 'cancel':
    case 'delete':
      return { kind: 'owner-action', command };
    default:
      return { kind: 'job', command };
  }
}
