import { ApplicationCommandOptionType } from 'discord.js';
import { parseWindow } from '../../core/board.ts';
import { errorText } from '../../core/texts.ts';
import type { SlashCommand } from './command-module.ts';
import { localized, pendingDescription, slashDefinition } from './slash-options.ts';

/** `2h`, `7d`, `--since 7d`, `7天`: short by nature. */
const WINDOW_MAX = 20;

/**
 * /board [since]: the channel's most voted candidates, posted for the channel to see (a contact sheet, a line per
 * entry, Refine and Vary for each). A window that is no window is refused privately before anything is posted.
 */
export const boardCommand: SlashCommand = {
  type: 'slash',
  name: 'board',
  definition: () =>
    slashDefinition('board', 'discord.command.board', [
      { ...localized('since', pendingDescription('discord.option.since')), type: ApplicationCommandOptionType.String, required: false, max_length: WINDOW_MAX },
    ]),
  handle(ctx, options) {
    const window = options.string('since')?.trim() ?? '';
    const parsed = parseWindow(window);
    if (!parsed.ok) return { kind: 'refuse', text: errorText(ctx.locale, parsed.error) };
    return { kind: 'board', window };
  },
};
