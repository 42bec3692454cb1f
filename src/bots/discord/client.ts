import { Client, GatewayIntentBits, Partials } from 'discord.js';
import type { Config } from '../../config/schema.ts';
import { NO_MENTIONS } from './render.ts';

/**
 * The discord.js client: Guilds, GuildMessages and GuildMessageReactions (votes are reactions). None of them is
 * privileged: a message that mentions the app carries its content anyway, and context-menu targets carry theirs.
 *
 * Reactions arrive for any message, but discord.js emits them only for messages it has cached unless the Message,
 * Reaction and User partials are on. A result the bot posted before a restart (or through the REST API, which does
 * not cache) is never in the cache, so without them its votes would be dropped silently.
 */
export function createDiscordClient(config: Readonly<Config>): Client {
  return new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.GuildMessageReactions],
    partials: [Partials.Message, Partials.Reaction, Partials.User],
    rest: { api: config.discord.apiBase },
    allowedMentions: { ...NO_MENTIONS, repliedUser: false },
  });
}
