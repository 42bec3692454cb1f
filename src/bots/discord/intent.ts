import type { APIModalInteractionResponseCallbackData } from 'discord.js';
import type { Config } from '../../config/schema.ts';
import type { ImageSource, JobCommand, Locale, OwnerAction } from '../core/command.ts';
import type { SettingsCommand } from '../core/settings.ts';

export type { JobCommand, OwnerAction } from '../core/command.ts';
import type { EditForms } from './edit-forms.ts';

/**
 * What a handler decides, as data: handlers are plain functions of a context object that never call Discord; the
 * bot (discord-bot.ts) carries out the decision — deferral, the core's flow, error replies — in one place.
 */

export type Intent =
  /** Start a job: public status card, then the result. */
  | { readonly kind: 'job'; readonly command: JobCommand }
  /** Cancel or delete a job (the core checks who may). */
  | { readonly kind: 'owner-action'; readonly command: OwnerAction }
  /** Ask for more (the context menu's edit form). */
  | { readonly kind: 'modal'; readonly modal: APIModalInteractionResponseCallbackData }
  /** Suggest prompts for an image with the prompt assistant: public card, then the suggestions with Draft buttons. */
  | { readonly kind: 'describe'; readonly image: ImageSource }
  /** Post the channel's board (the window already checked: `''` for the default). */
  | { readonly kind: 'board'; readonly window: string }
  /** Show or change settings; the answer is private. */
  | { readonly kind: 'settings'; readonly command: SettingsCommand }
  /** Say no, privately where possible: one sentence in the user's language. */
  | { readonly kind: 'refuse'; readonly text: string };

export interface HandlerContext {
  readonly locale: Locale;
  readonly config: Readonly<Config>;
  readonly botUserId: string;
  readonly forms: EditForms;
}
