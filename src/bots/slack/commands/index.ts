import type { App } from '@slack/bolt';
import type { ListenerDeps } from '../listener-deps.ts';
import { boardCommand } from './board.ts';
import { generateCommand } from './generate.ts';
import { settingsCommand } from './settings.ts';

/** The slash commands of docs/slack-app-manifest.yaml that start jobs. */
export const SLASH_COMMANDS = { '/draft': 'draft', '/refine': 'refine', '/edit': 'edit' } as const;

/** Every slash command the app answers; the manifest must declare each. */
export const COMMAND_NAMES: readonly string[] = [...Object.keys(SLASH_COMMANDS), '/board', '/settings'];

export function register(app: App, deps: ListenerDeps): void {
  for (const [name, role] of Object.entries(SLASH_COMMANDS)) app.command(name, deps.accepting, generateCommand(role, deps));
  // Refused while the bot pauses too: a restart is under way, and a settings change should not race it.
  app.command('/board', deps.accepting, boardCommand(deps));
  app.command('/settings', deps.accepting, settingsCommand(deps));
}
