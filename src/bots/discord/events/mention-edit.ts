import { errorText } from '../../core/texts.ts';
import type { HandlerContext, Intent } from '../intent.ts';
import { attachmentSource, imageAttachment, imageOfMessage, type AttachmentRef, type MessageView } from '../images.ts';

/**
 * "@bot make the sky pink" in reply to an image → an edit of that image. A message that mentions the app carries
 * its content without the privileged Message Content intent. On one of the bot's results the core decides which
 * candidates: `#2` at the start picks candidate 2, no pick edits every one. Without a replied image, an image attached
 * to the mention itself is edited.
 */
export interface MentionView {
  readonly content: string;
  readonly attachments: readonly AttachmentRef[];
  /** The replied-to message, when the mention is a reply and Discord delivered it. */
  readonly reference: MessageView | null;
}

/** The instruction: the message without the bot's mention(s). */
export function mentionInstruction(content: string, botUserId: string): string {
  return content.replaceAll(`<@${botUserId}>`, ' ').replaceAll(`<@!${botUserId}>`, ' ').replace(/\s+/g, ' ').trim();
}

export function handleMention(ctx: HandlerContext, message: MentionView): Intent {
  const text = mentionInstruction(message.content, ctx.botUserId);
  const fromReference = message.reference ? imageOfMessage(message.reference, ctx.botUserId) : undefined;
  const attached = fromReference ? undefined : imageAttachment(message.attachments);
  const image = fromReference ?? (attached ? attachmentSource(attached) : undefined);
  if (!image) return { kind: 'refuse', text: errorText(ctx.locale, { code: 'no-image' }) };
  return { kind: 'job', command: { kind: 'edit', text, image } };
}
