import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load.ts';

const root = resolve(import.meta.dirname, '../..');

function tempFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'zimage-config-'));
  const file = join(dir, 'local.yaml');
  writeFileSync(file, text);
  return file;
}

describe('loadConfig', () => {
  it('loads the documented defaults', () => {
    const config = loadConfig({ root, env: {} });
    expect(config.profiles.draft.steps).toBeNull(); // the model's
    expect(config.profiles.refine.minSteps).toBe(28);
    expect(config.studio.port).toBe(7860);
    expect(config.model.dir).toBeNull();
    expect(Object.isFrozen(config.queue)).toBe(true);
  });

  it('applies a local override file, then the environment', () => {
    const file = tempFile('queue:\n  maxWaitingPerUser: 9\nstudio:\n  port: 9000\n');
    const config = loadConfig({ root, overrideFile: file, env: { STUDIO_PORT: '7000', DATA_DIR: '/tmp/x' } });
    expect(config.queue.maxWaitingPerUser).toBe(9);
    expect(config.queue.maxRunningPerUser).toBe(1);
    expect(config.studio.port).toBe(7000);
    expect(config.dataDir).toBe('/tmp/x');
  });

  it('names the key and the allowed values of a wrong enum', () => {
    expect(() => loadConfig({ root, env: { LOG_LEVEL: 'loud' } })).toThrowError(
      /Invalid setting "log\.level" \(from environment variable LOG_LEVEL\): allowed values: "fatal", "error", "warn", "info", "debug", "trace", "silent"; got "loud"/,
    );
  });

  it('names the key, the file and the bound of a number out of range', () => {
    const file = tempFile('queue:\n  maxWaitingPerUser: -1\n');
    let error: unknown;
    try {
      loadConfig({ root, overrideFile: file, env: {} });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe('queue.maxWaitingPerUser');
    expect((error as Error).message).toContain(`from ${file}`);
    expect((error as Error).message).toContain('must be > 0; got -1');
  });

  it('keeps every digit of unquoted Discord ids in the YAML', () => {
    const file = tempFile('moderation:\n  policies:\n    discord:\n      guilds:\n        123456789012345678:\n          channels:\n            234567890123456789: spoiler\n');
    const config = loadConfig({ root, overrideFile: file, env: {} });
    expect(Object.keys(config.moderation.policies.discord.guilds)).toEqual(['123456789012345678']);
    expect(Object.keys(config.moderation.policies.discord.guilds['123456789012345678']!.channels ?? {})).toEqual(['234567890123456789']);
  });

  it('refuses a port that is not a number, and an unknown key', () => {
    expect(() => loadConfig({ root, env: { SLACK_PORT: 'eighty' } })).toThrowError(
      /"slack\.port" \(from environment variable SLACK_PORT\): expected number; got "eighty"/,
    );
    const file = tempFile('queue:\n  maxWaitng: 3\n');
    expect(() => loadConfig({ root, overrideFile: file, env: {} })).toThrowError(
      /"queue\.maxWaitng" \(from .*local\.yaml\): unknown setting; allowed here: maxRunningPerUser, maxWaitingPerUser,/,
    );
  });
});
