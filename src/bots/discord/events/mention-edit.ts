import { errorText } from '../../core/texts.ts';
import type { HandlerContext, Intent } from '../intent.ts';
import { attachmentSource, imageAttachment, imageOfMessage, type AttachmentRef, type MessageView } from '../images.ts';

/**
 * "@bot make the sky pink" in reply to an image → an edit of that image. A message that mentions the app carries
 * its content without the privileged Message Content intent. On a result with several candidates, `#2` at the
 * start picks the candidate (default: the first). Without a replied image, an image attached to the mention itself
 * is edited.
 */
export interface MentionView {
  readonly content: string;
  readonly attachments: readonly AttachmentRef[];
  /** The replied-to message, when the mention is a reply and Discord delivered it. */
  readonly reference: MessageView | null;
}

/** The instruction: the message without the bot's mention(s), and the optional leading candidate selector. */
export function mentionInstruction(content: string, botUserId: string): { text: string; candidate?: number } {
  const text = content.replaceAll(`<@${botUserId}>`, ' ').replaceAll(`<@!${botUserId}>`, ' ').replace(/\s+/g, ' ').trim();
  const pick = /^[#＃]([1-9])\s*(.*)$/su.exec(text);
  return pick ? { text: pick[2]!.trim(), candidate: Number(pick[1]) } : { text };
}

export function handleMention(ctx: HandlerContext, message: MentionView): Intent {
  const { text, candidate } = mentionInstruction(message.content, ctx.botUserId);
  const fromReference = message.reference ? imageOfMessage(message.reference, ctx.botUserId, candidate) : undefined;
  const attached = fromReference ? undefined : imageAttachment(message.attachments);
  const image = fromReference ?? (attached ? attachmentSource(attached) : undefined);
  if (!image) return { kind: 'refuse', text: errorText(ctx.locale, { code: 'no-image' }) };
  return { kind: 'job', command: { kind: 'edit', text, image } };
}
