import type { Config } from '../../config/schema.ts';
import type { FetchPolicy } from '../core/attachments.ts';
import { commandFromButton } from '../core/buttons.ts';
import type { ImageSource } from '../core/command.ts';

/**
 * Which image a Discord message or option points at. An image this bot posted resolves to its job and candidate
 * (found in the message's button ids), so an edit knows the prompt that made it; anything else is an attachment the
 * core downloads, from Discord's file hosts only.
 */
export interface AttachmentRef {
  readonly url: string;
  /** As Discord declares it (bytes); checked before downloading, then enforced while streaming. */
  readonly size: number;
  readonly name: string;
  readonly contentType: string | null;
}

/** A message as the handlers see it: who wrote it, its attachments, and the custom ids of its buttons. */
export interface MessageView {
  readonly id: string;
  readonly channelId: string;
  readonly authorId: string;
  readonly attachments: readonly AttachmentRef[];
  readonly customIds: readonly string[];
}

/** One of this bot's results: its job and the candidates it delivered (from the Refine buttons), in order. */
export interface OwnResult {
  readonly jobId: string;
  readonly indices: readonly number[];
}

export function ownResultOf(message: MessageView, botUserId: string): OwnResult | undefined {
  if (message.authorId !== botUserId || message.attachments.length === 0) return undefined;
  let jobId: string | undefined;
  const indices: number[] = [];
  for (const id of message.customIds) {
    const command = commandFromButton(id);
    if (!command) continue;
    if (command.kind === 'vary' || command.kind === 'reroll' || command.kind === 'cancel' || command.kind === 'delete') {
      jobId ??= command.jobId;
    } else if (command.kind === 'refine' && command.image && 'jobId' in command.image && command.image.index !== undefined) {
      jobId ??= command.image.jobId;
      if (command.image.jobId === jobId) indices.push(command.image.index);
    }
  }
  return jobId !== undefined && indices.length > 0 ? { jobId, indices } : undefined;
}

const IMAGE_NAME = /\.(png|jpe?g|webp|gif|avif|tiff?|heic|heif)$/i;

export function imageAttachment(attachments: readonly AttachmentRef[]): AttachmentRef | undefined {
  return attachments.find((a) => (a.contentType ? a.contentType.startsWith('image/') : IMAGE_NAME.test(a.name)));
}

/** An attachment as the core takes it: a URL to download, with the size Discord declares. */
export const attachmentSource = (attachment: AttachmentRef): ImageSource => ({ url: attachment.url, declaredBytes: attachment.size });

/**
 * The image of a message: one of ours → the whole result (the core decides which candidates an edit takes), else
 * its first image attachment. Undefined when the message has no image.
 */
export function imageOfMessage(message: MessageView, botUserId: string): ImageSource | undefined {
  const own = ownResultOf(message, botUserId);
  if (own) return { jobId: own.jobId };
  const attachment = imageAttachment(message.attachments);
  return attachment ? attachmentSource(attachment) : undefined;
}

const DISCORD_API_HOSTS = new Set(['discord.com', 'discordapp.com', 'canary.discord.com', 'ptb.discord.com']);

/**
 * Discord's CDN hosts, plus the API base's host when it is not Discord's (a self-hosted proxy, the tests' fake),
 * with plain http allowed only for that host.
 */
export function fetchPolicy(config: Readonly<Config>, maxBytes: number): FetchPolicy {
  const hosts = [...config.discord.attachmentHosts];
  const insecure: string[] = [];
  const base = new URL(config.discord.apiBase);
  if (!DISCORD_API_HOSTS.has(base.hostname.toLowerCase())) {
    hosts.push(base.hostname);
    if (base.protocol === 'http:') insecure.push(base.hostname);
  }
  return { allowedHosts: hosts, insecureHosts: insecure, maxBytes };
}
