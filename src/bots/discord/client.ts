import { Client, GatewayIntentBits } from 'discord.js';
import type { Config } from '../../config/schema.ts';
import { NO_MENTIONS } from './render.ts';

/**
 * The discord.js client: Guilds + GuildMessages only. No privileged intent: a message that mentions the app
 * carries its content anyway, and context-menu targets carry theirs.
 */
export function createDiscordClient(config: Readonly<Config>): Client {
  return new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages],
    rest: { api: config.discord.apiBase },
    allowedMentions: { ...NO_MENTIONS, repliedUser: false },
  });
}
