import { boardCommand } from './board.ts';
import type { CommandModule } from './command-module.ts';
import { describeCommand } from './describe.ts';
import { draftCommand } from './draft.ts';
import { editImageMenu } from './edit-image.ts';
import { editCommand } from './edit.ts';
import { refineCommand } from './refine.ts';
import { settingsCommand } from './settings.ts';

export type { CommandModule, MessageCommand, SlashCommand } from './command-module.ts';

/** Every application command, explicitly: registration and dispatch both read this list. */
export const COMMANDS: readonly CommandModule[] = [draftCommand, refineCommand, editCommand, boardCommand, settingsCommand, describeCommand, editImageMenu];
