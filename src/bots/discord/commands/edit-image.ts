import { ApplicationCommandType } from 'discord.js';
import { errorText, text } from '../../core/texts.ts';
import { editForm } from '../components/edit-form.ts';
import { imageAttachment, ownResultOf } from '../images.ts';
import type { MessageCommand } from './command-module.ts';
import { GUILD_ONLY } from './slash-options.ts';

const NAME = 'Edit image';

/**
 * Message context menu "Edit image": opens the edit form for the message's image. Context-menu targets carry their
 * attachments without the Message Content intent.
 */
export const editImageMenu: MessageCommand = {
  type: 'message',
  name: NAME,
  definition: () => ({
    type: ApplicationCommandType.Message,
    name: NAME,
    name_localizations: { 'en-US': text('en', 'discord.menu.edit'), 'zh-CN': text('zh-CN', 'discord.menu.edit') },
    ...GUILD_ONLY,
  }),
  handle(ctx, target) {
    const own = ownResultOf(target, ctx.botUserId);
    if (own) return { kind: 'modal', modal: editForm(ctx.locale, { kind: 'job', result: own }, ctx.config.limits.maxPromptChars) };
    const attachment = imageAttachment(target.attachments);
    if (!attachment) return { kind: 'refuse', text: errorText(ctx.locale, { code: 'no-image' }) };
    return { kind: 'modal', modal: editForm(ctx.locale, { kind: 'upload', key: ctx.forms.add(attachment) }, ctx.config.limits.maxPromptChars) };
  },
};
