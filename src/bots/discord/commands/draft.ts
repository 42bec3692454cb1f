import { errorText } from '../../core/texts.ts';
import type { SlashCommand } from './command-module.ts';
import { promptOption, readRoleOptions, roleOptions, slashDefinition } from './slash-options.ts';

/** /draft prompt [count seed chaos ar style no steps guidance]: fast candidates from Z-Image-Turbo. */
export const draftCommand: SlashCommand = {
  type: 'slash',
  name: 'draft',
  definition: (ctx) =>
    slashDefinition('draft', 'discord.command.draft', [promptOption('draft', true, ctx), ...roleOptions('draft', ctx)]),
  handle(ctx, options) {
    const read = readRoleOptions('draft', options);
    if (!read.ok) return { kind: 'refuse', text: errorText(ctx.locale, read.error) };
    return { kind: 'job', command: { kind: 'draft', text: options.string('prompt') ?? '', options: read.value } };
  },
};
