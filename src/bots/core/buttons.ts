import type { CommandRequest } from './command.ts';

/**
 * Button ids carry the action and the job id (and candidate index), nothing else: the rest lives in the job store,
 * so buttons keep working after a restart. Format `z:<action>:<jobId>[:<index>]`, well under Discord's 100
 * characters and Slack's 255. `draft-suggestion` names a stored set of describe suggestions instead of a job.
 */
export type ButtonAction = 'refine' | 'vary-subtle' | 'vary-strong' | 'upscale' | 'reroll' | 'cancel' | 'delete' | 'enhance' | 'original' | 'draft-suggestion';

export interface ButtonSpec {
  readonly id: string;
  readonly action: ButtonAction;
  readonly index?: number;
  readonly style: 'primary' | 'secondary' | 'danger';
  /** Only the job's owner (or an admin) may press it; others get a polite refusal. */
  readonly ownerOnly: boolean;
}

/** A result's menu: its id names the job only; the option chosen is the action. */
export const menuId = (jobId: string): string => `z:menu:${jobId}`;
export const isMenuId = (id: string): boolean => id.startsWith('z:menu:');

export function buttonId(action: ButtonAction, jobId: string, index?: number): string {
  return index === undefined ? `z:${action}:${jobId}` : `z:${action}:${jobId}:${index}`;
}

/** Turns a pressed button's id back into a command; undefined for ids that are not ours. */
export function commandFromButton(id: string): CommandRequest | undefined {
  const match = /^z:(refine|vary-subtle|vary-strong|upscale|reroll|cancel|delete|enhance|original|draft-suggestion):([A-Za-z0-9]{4,32})(?::(\d))?$/.exec(id);
  if (!match) return undefined;
  const [, action, jobId, indexText] = match as unknown as [string, ButtonAction, string, string | undefined];
  const index = indexText === undefined ? undefined : Number(indexText);
  switch (action) {
    case 'refine':
      return index === undefined ? undefined : { kind: 'refine', image: { jobId, index } };
    case 'vary-subtle':
    case 'vary-strong':
      return index === undefined ? undefined : { kind: 'vary', jobId, index, strength: action === 'vary-subtle' ? 'subtle' : 'strong' };
    case 'upscale':
      return index === undefined ? undefined : { kind: 'upscale', jobId, index };
    case 'reroll':
      return { kind: 'reroll', jobId };
    case 'enhance':
      return { kind: 'enhance', jobId };
    case 'original':
      return { kind: 'original', jobId };
    case 'draft-suggestion':
      return index === undefined ? undefined : { kind: 'suggestion', setId: jobId, index };
    case 'cancel':
      return { kind: 'cancel', jobId };
    case 'delete':
      return { kind: 'delete', jobId };
  }
}
