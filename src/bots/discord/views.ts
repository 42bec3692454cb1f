import {
  PermissionFlagsBits,
  type Attachment,
  type BaseInteraction,
  type Channel,
  type ChatInputCommandInteraction,
  type Guild,
  type PartialUser,
  type User,
  type Message,
  type ModalSubmitInteraction,
} from 'discord.js';
import { localeFrom, type Actor, type Place } from '../core/command.ts';
import type { OptionReader } from './commands/slash-options.ts';
import type { AttachmentRef, MessageView } from './images.ts';

/** discord.js structures → the plain values handlers take, so handlers never touch discord.js objects. */

export const PLATFORM = 'discord';

export function attachmentRef(attachment: Attachment): AttachmentRef {
  return { url: attachment.url, size: attachment.size, name: attachment.name, contentType: attachment.contentType };
}

function customIdsOf(node: unknown, out: string[]): string[] {
  if (Array.isArray(node)) {
    for (const child of node) customIdsOf(child, out);
  } else if (typeof node === 'object' && node !== null) {
    const record = node as Record<string, unknown>;
    if (typeof record.custom_id === 'string') out.push(record.custom_id);
    customIdsOf(record.components, out);
    customIdsOf(record.component, out);
    customIdsOf(record.accessory, out);
  }
  return out;
}

export function messageView(message: Message): MessageView {
  return {
    id: message.id,
    channelId: message.channelId,
    authorId: message.author.id,
    attachments: [...message.attachments.values()].map(attachmentRef),
    customIds: customIdsOf(
      message.components.map((c) => c.toJSON()),
      [],
    ),
  };
}

export function optionReader(interaction: ChatInputCommandInteraction): OptionReader {
  const options = interaction.options;
  return {
    string: (name) => options.getString(name),
    integer: (name) => options.getInteger(name),
    number: (name) => options.getNumber(name),
    boolean: (name) => options.getBoolean(name),
    attachment: (name) => {
      const attachment = options.getAttachment(name);
      return attachment ? attachmentRef(attachment) : null;
    },
  };
}

export function formFields(interaction: ModalSubmitInteraction): Map<string, string> {
  const fields = new Map<string, string>();
  for (const [id, field] of interaction.fields.fields) {
    if ('value' in field && typeof field.value === 'string') fields.set(id, field.value);
  }
  return fields;
}

/** NSFW is a channel flag; a thread inherits its parent's. Unknown channels count as not NSFW (the safe side). */
export function channelIsNsfw(channel: Channel | null | undefined): boolean {
  if (!channel) return false;
  if (channel.isThread()) return channel.parent !== null && 'nsfw' in channel.parent && channel.parent.nsfw === true;
  return 'nsfw' in channel && channel.nsfw === true;
}

export function placeOf(channelId: string, guildId: string | null, channel: Channel | null | undefined): Place {
  return { platform: PLATFORM, ...(guildId ? { guildId } : {}), channelId, channelIsNsfw: channelIsNsfw(channel) };
}

/**
 * Moderators (Manage Messages, which administrators have) may cancel and delete anyone's job; whoever may manage the
 * server or this channel may change the channel's settings. `memberPermissions` is the member's in this channel,
 * overwrites applied, as Discord computed them for the interaction.
 */
export function actorOf(interaction: BaseInteraction): Actor {
  const permissions = interaction.memberPermissions;
  return {
    platform: PLATFORM,
    userId: interaction.user.id,
    name: interaction.user.username,
    locale: localeFrom(interaction.locale),
    isAdmin: permissions?.has(PermissionFlagsBits.ManageMessages) ?? false,
    canConfigure: permissions ? permissions.any([PermissionFlagsBits.ManageGuild, PermissionFlagsBits.ManageChannels]) : false,
  };
}

/**
 * Who reacted. A reaction carries no user locale: the server's preferred language is the best guess. The user may
 * be partial (a removal names only the id), so the name is there only when Discord sent it.
 */
export function reactionActor(user: User | PartialUser, guild: Guild | null): Actor {
  return {
    platform: PLATFORM,
    userId: user.id,
    ...(user.username ? { name: user.username } : {}),
    locale: localeFrom(guild?.preferredLocale),
  };
}

export function messageActor(message: Message): Actor {
  return {
    platform: PLATFORM,
    userId: message.author.id,
    name: message.author.username,
    // Messages carry no user locale; the server's preferred language is the best guess.
    locale: localeFrom(message.guild?.preferredLocale),
    isAdmin: message.member?.permissions.has(PermissionFlagsBits.ManageMessages) ?? false,
  };
}
