import { errorText } from '../../core/texts.ts';
import { attachmentSource } from '../images.ts';
import type { SlashCommand } from './command-module.ts';
import { assistantConfigured, attachmentOption, slashDefinition } from './slash-options.ts';

/**
 * /describe image: up to four prompts for the image from the prompt assistant, posted for the channel with a Draft
 * button each. Registered only where the assistant is configured; a stale registration is answered with the setup
 * sentence by the core.
 */
export const describeCommand: SlashCommand = {
  type: 'slash',
  name: 'describe',
  available: (ctx) => assistantConfigured(ctx.config),
  definition: () => slashDefinition('describe', 'discord.command.describe', [attachmentOption('image', 'discord.option.image.describe', true)]),
  handle(ctx, options) {
    const image = options.attachment('image');
    if (!image) return { kind: 'refuse', text: errorText(ctx.locale, { code: 'no-image' }) };
    return { kind: 'describe', image: attachmentSource(image) };
  },
};
