import { ApplicationIntegrationType, InteractionContextType } from 'discord.js';
import { errorText } from '../../core/texts.ts';
import type { SlashCommand } from './command-module.ts';
import { localized, pendingDescription, promptOption, readRoleOptions, roleOptions } from './slash-options.ts';

/** /draft prompt [count seed chaos ar style no steps guidance]: fast candidates from Z-Image-Turbo. */
export const draftCommand: SlashCommand = {
  type: 'slash',
  name: 'draft',
  definition: (ctx) => ({
    ...localized('draft', pendingDescription('discord.command.draft')),
    contexts: [InteractionContextType.Guild],
    integration_types: [ApplicationIntegrationType.GuildInstall],
    options: [promptOption('draft', true, ctx), ...roleOptions('draft', ctx)],
  }),
  handle(ctx, options) {
    const read = readRoleOptions('draft', options);
    if (!read.ok) return { kind: 'refuse', text: errorText(ctx.locale, read.error) };
    return { kind: 'job', command: { kind: 'draft', text: options.string('prompt') ?? '', options: read.value } };
  },
};
