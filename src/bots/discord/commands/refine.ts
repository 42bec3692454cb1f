import { errorText } from '../../core/texts.ts';
import { attachmentSource } from '../images.ts';
import type { SlashCommand } from './command-module.ts';
import { attachmentOption, promptOption, readRoleOptions, roleOptions, slashDefinition } from './slash-options.ts';

/**
 * /refine [prompt] [image] [options]: re-render with the finer model. Without an image the core refines the user's
 * latest draft in the channel; the Refine buttons on a result come in as button presses instead.
 */
export const refineCommand: SlashCommand = {
  type: 'slash',
  name: 'refine',
  definition: (ctx) =>
    slashDefinition('refine', 'discord.command.refine', [
      promptOption('refine', false, ctx),
      attachmentOption('image', 'discord.option.image.refine', false),
      ...roleOptions('refine', ctx),
    ]),
  handle(ctx, options) {
    const read = readRoleOptions('refine', options);
    if (!read.ok) return { kind: 'refuse', text: errorText(ctx.locale, read.error) };
    const attachment = options.attachment('image');
    return {
      kind: 'job',
      command: {
        kind: 'refine',
        text: options.string('prompt') ?? '',
        options: read.value,
        ...(attachment ? { image: attachmentSource(attachment) } : {}),
      },
    };
  },
};
