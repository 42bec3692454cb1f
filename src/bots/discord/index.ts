import type { Runtime } from '../../runtime.ts';
import { DiscordAdapter } from './discord-adapter.ts';

export { DiscordAdapter } from './discord-adapter.ts';
export { commandDefinitions, registerCommands, registerFromConfig, type Registration } from './register.ts';

/**
 * Starts the Discord adapter over the shared runtime: logs in (DISCORD_TOKEN, DISCORD_API_BASE), registers the
 * commands once (globally, or to DISCORD_GUILD_ID), and serves /draft, /refine, /edit, /board, /settings, /describe
 * (where the prompt assistant is configured), the "Edit image" menu, the result buttons, votes by reaction and
 * reply-to-image mentions. Rejects when login fails.
 */
export function startDiscordAdapter(runtime: Runtime): Promise<DiscordAdapter> {
  return DiscordAdapter.start(runtime);
}
