import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { COMMAND_NAMES } from './commands/index.ts';
import { BOT_EVENTS } from './events/index.ts';
import { SHORTCUT_CALLBACKS } from './shortcuts/index.ts';

/** The app manifest people install from must ask for what the code uses, or Slack never sends it. */
const manifest = parse(readFileSync(new URL('../../../docs/slack-app-manifest.yaml', import.meta.url), 'utf8')) as {
  features: { slash_commands: { command: string; should_escape?: boolean }[]; shortcuts: { callback_id: string; type: string }[] };
  oauth_config: { scopes: { bot: string[] } };
  settings: { event_subscriptions: { bot_events: string[] } };
};

describe('docs/slack-app-manifest.yaml', () => {
  it('declares every slash command the app answers, all escaped', () => {
    expect(manifest.features.slash_commands.map((c) => c.command).sort()).toEqual([...COMMAND_NAMES].sort());
    expect(manifest.features.slash_commands.every((c) => c.should_escape === true)).toBe(true);
  });

  it('declares every message shortcut the app answers (Edit image, Describe image)', () => {
    expect(manifest.features.shortcuts.map((s) => s.callback_id).sort()).toEqual([...SHORTCUT_CALLBACKS].sort());
    expect(manifest.features.shortcuts.every((s) => s.type === 'message')).toBe(true);
  });

  it('subscribes to every event the app listens to, with the scopes they and the votes need', () => {
    expect([...manifest.settings.event_subscriptions.bot_events].sort()).toEqual([...BOT_EVENTS].sort());
    expect(manifest.oauth_config.scopes.bot).toEqual(expect.arrayContaining(['app_mentions:read', 'reactions:read', 'reactions:write', 'users:read', 'chat:write', 'files:write']));
  });
});
