import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../test/support/fakes.ts';
import { loadConfig } from '../config/load.ts';

/** The assistant section of the configuration: off by default, set by the environment, its key never a setting. */
const load = (env: NodeJS.ProcessEnv = {}, overrideFile: string | null = null): ReturnType<typeof loadConfig> => loadConfig({ root: ROOT, env, overrideFile });

function localFile(yaml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'zimage-assistant-')), 'local.yaml');
  writeFileSync(file, yaml);
  return file;
}

describe('assistant configuration', () => {
  it('is off by default, with the shipped limits', () => {
    expect(load().assistant).toEqual({
      url: null,
      model: null,
      vision: { url: null, model: null, apiKeyEnv: null },
      apiKeyEnv: 'ASSISTANT_API_KEY',
      enhanceTimeoutMs: 60_000,
      describeTimeoutMs: 120_000,
      maxConcurrent: 2,
      maxWaiting: 16,
      perUser: 1,
      maxPromptChars: 1000,
      maxOutputChars: 1500,
      imageMaxSide: 1024,
      sharesGpu: false,
    });
  });

  it('takes ASSISTANT_URL, ASSISTANT_MODEL and ASSISTANT_VISION_MODEL, and never the key', () => {
    const config = load({ ASSISTANT_URL: 'http://localhost:11434/v1', ASSISTANT_MODEL: 'qwen2.5:3b', ASSISTANT_VISION_MODEL: 'qwen2.5vl:3b', ASSISTANT_API_KEY: 'sk-secret-value-123' });
    expect(config.assistant).toMatchObject({ url: 'http://localhost:11434/v1', model: 'qwen2.5:3b', vision: { url: null, model: 'qwen2.5vl:3b' } });
    expect(JSON.stringify(config)).not.toContain('sk-secret-value-123');
  });

  it('refuses a URL without a model, a URL with credentials, and a key written in the file, naming the key', () => {
    expect(() => load({ ASSISTANT_URL: 'http://localhost:8080/v1' })).toThrow(/Invalid setting "assistant\.model".*needed when assistant\.url is set/);
    expect(() => load({ ASSISTANT_URL: 'http://user:pw@localhost:8080/v1', ASSISTANT_MODEL: 'm' })).toThrow(
      /Invalid setting "assistant\.url" \(from environment variable ASSISTANT_URL\): must not hold credentials.*\[redacted\]@/,
    );
    expect(() => load({ ASSISTANT_URL: 'ftp://localhost/v1', ASSISTANT_MODEL: 'm' })).toThrow(/"assistant\.url".*http:\/\/ or https:\/\//);
    expect(() => load({}, localFile('assistant:\n  apiKey: sk-in-a-file\n'))).toThrow(/Invalid setting "assistant\.apiKey".*unknown setting; allowed here: url, model, vision, apiKeyEnv/);
  });

  it('checks the limits', () => {
    expect(() => load({}, localFile('assistant:\n  perUser: 0\n'))).toThrow(/"assistant\.perUser".*must be > 0; got 0/);
    expect(() => load({}, localFile('assistant:\n  maxOutputChars: 50\n'))).toThrow(/"assistant\.maxOutputChars".*must be ≥ 100/);
    expect(() => load({}, localFile('assistant:\n  apiKeyEnv: "my key"\n'))).toThrow(/"assistant\.apiKeyEnv"/);
  });
});
