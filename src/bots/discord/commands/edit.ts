import { errorText } from '../../core/texts.ts';
import { attachmentSource } from '../images.ts';
import type { SlashCommand } from './command-module.ts';
import { attachmentOption, promptOption, readRoleOptions, roleOptions, slashDefinition } from './slash-options.ts';

/** /edit prompt image [mask] [region strength …]: instruction-guided img2img / inpainting of an uploaded image. */
export const editCommand: SlashCommand = {
  type: 'slash',
  name: 'edit',
  definition: (ctx) =>
    slashDefinition('edit', 'discord.command.edit', [
      promptOption('edit', true, ctx),
      attachmentOption('image', 'discord.option.image.edit', true),
      ...roleOptions('edit', ctx),
      attachmentOption('mask', 'discord.option.mask', false),
    ]),
  handle(ctx, options) {
    const read = readRoleOptions('edit', options);
    if (!read.ok) return { kind: 'refuse', text: errorText(ctx.locale, read.error) };
    const image = options.attachment('image');
    if (!image) return { kind: 'refuse', text: errorText(ctx.locale, { code: 'no-image' }) };
    const mask = options.attachment('mask');
    return {
      kind: 'job',
      command: {
        kind: 'edit',
        text: options.string('prompt') ?? '',
        options: read.value,
        image: attachmentSource(image),
        ...(mask ? { mask: attachmentSource(mask) } : {}),
      },
    };
  },
};
