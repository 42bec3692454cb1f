import type { APIModalInteractionResponseCallbackData } from 'discord.js';
import type { Config } from '../../config/schema.ts';
import type { CommandRequest, Locale } from '../core/command.ts';
import type { CommandOptions } from '../core/options.ts';
import type { EditForms } from './edit-forms.ts';
import type { ImageRef } from './images.ts';

/**
 * What a handler decides, as data: handlers are plain functions of a context object that never call Discord; the
 * dispatcher carries out the decision (deferral, downloads, the core, error replies) in one place.
 */

/** A job command whose images may still have to be downloaded. */
export type PendingCommand =
  | { readonly kind: 'draft'; readonly text: string; readonly options: CommandOptions }
  | { readonly kind: 'refine'; readonly text: string; readonly options: CommandOptions; readonly image?: ImageRef }
  | { readonly kind: 'edit'; readonly text: string; readonly options: CommandOptions; readonly image: ImageRef; readonly mask?: ImageRef }
  | Extract<CommandRequest, { kind: 'vary' | 'reroll' }>;

export type OwnerAction = Extract<CommandRequest, { kind: 'cancel' | 'delete' }>;

export type Intent =
  /** Start a job: public status card, then the result. */
  | { readonly kind: 'job'; readonly command: PendingCommand }
  /** Cancel or delete a job (the core checks who may). */
  | { readonly kind: 'owner-action'; readonly command: OwnerAction }
  /** Ask for more (the context menu's edit form). */
  | { readonly kind: 'modal'; readonly modal: APIModalInteractionResponseCallbackData }
  /** Say no, privately where possible: one sentence in the user's language. */
  | { readonly kind: 'refuse'; readonly text: string };

export interface HandlerContext {
  readonly locale: Locale;
  readonly config: Readonly<Config>;
  readonly botUserId: string;
  readonly forms: EditForms;
}

/** The images a pending command needs, for the checks made before deferring. */
export function imageRefsOf(command: PendingCommand): ImageRef[] {
  if (command.kind === 'refine') return command.image ? [command.image] : [];
  if (command.kind === 'edit') return command.mask ? [command.image, command.mask] : [command.image];
  return [];
}

/**
 * The command as the core's synchronous precheck reads it (kind, text, options). The precheck never looks at the
 * image, so an edit's not-yet-downloaded image stands in as an empty upload.
 */
export function forPrecheck(command: PendingCommand): CommandRequest {
  switch (command.kind) {
    case 'draft':
      return { kind: 'draft', text: command.text, options: command.options };
    case 'refine':
      return { kind: 'refine', text: command.text, options: command.options };
    case 'edit':
      return { kind: 'edit', text: command.text, options: command.options, image: { bytes: new Uint8Array(0) } };
    default:
      return command;
  }
}
