import { REST, Routes, type RESTPutAPIApplicationCommandsJSONBody } from 'discord.js';
import type { DefinitionContext } from './commands/slash-options.ts';
import type { Logger } from '../../logging.ts';
import { COMMANDS } from './commands/index.ts';
import { failureOf } from './transport.ts';

/** Every command's definition this configuration offers, as Discord's bulk-overwrite route takes them. */
export function commandDefinitions(ctx: DefinitionContext): RESTPutAPIApplicationCommandsJSONBody {
  return COMMANDS.filter((command) => command.available?.(ctx) ?? true).map((command) => command.definition(ctx));
}

export interface Registration {
  readonly scope: 'global' | 'guild';
  readonly count: number;
}

/**
 * Bulk-overwrites the application's commands: to one guild when DISCORD_GUILD_ID is set (instant, for testing and
 * private servers), else globally. Idempotent, so start-up and `npm run register` can both do it.
 */
export async function registerCommands(
  rest: REST,
  applicationId: string,
  guildId: string | null,
  body: RESTPutAPIApplicationCommandsJSONBody,
): Promise<Registration> {
  const route = guildId ? Routes.applicationGuildCommands(applicationId, guildId) : Routes.applicationCommands(applicationId);
  const created = (await rest.put(route, { body })) as unknown[];
  return { scope: guildId ? 'guild' : 'global', count: created.length };
}

/** The `npm run register` path: no gateway, just the token, the application's id and one PUT. */
export async function registerFromConfig(ctx: DefinitionContext, log: Logger): Promise<Registration> {
  const { config } = ctx;
  const token = config.discord.token;
  if (!token) throw new Error('DISCORD_TOKEN is not set: it is needed to register the commands');
  const rest = new REST({ api: config.discord.apiBase }).setToken(token);
  try {
    const application = (await rest.get(Routes.currentApplication())) as { id: string };
    const registration = await registerCommands(rest, application.id, config.discord.guildId, commandDefinitions(ctx));
    log.info({ ...registration, guild: config.discord.guildId }, 'discord commands registered');
    return registration;
  } catch (error) {
    throw new Error(`Registering the Discord commands failed: ${failureOf(error).message}`);
  }
}
