import type { App } from '@slack/bolt';
import type { ListenerDeps } from '../listener-deps.ts';
import { generateCommand } from './generate.ts';

/** The slash commands of docs/slack-app-manifest.yaml. */
export const SLASH_COMMANDS = { '/draft': 'draft', '/refine': 'refine', '/edit': 'edit' } as const;

export function register(app: App, deps: ListenerDeps): void {
  for (const [name, role] of Object.entries(SLASH_COMMANDS)) app.command(name, deps.accepting, generateCommand(role, deps));
}
