import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.ts';
import { moderationSchema } from './config.ts';

const root = resolve(import.meta.dirname, '../..');

describe('moderation config', () => {
  it('ships documented defaults in config/default.yaml, matching the schema defaults', () => {
    const shipped = loadConfig({ root, env: {}, overrideFile: null }).moderation;
    const { promptFilter, ...rest } = shipped;
    const { promptFilter: emptyFilter, ...defaults } = moderationSchema.parse({});
    expect(rest).toEqual(defaults);
    expect(rest).toMatchObject({ model: 'MobileNetV2', threshold: 0.55, sexyThreshold: 0.8, timeoutMs: 5000, judgeInputs: true });
    expect(promptFilter.terms).toEqual(expect.arrayContaining(['nude', 'porn', '色情', '裸体']));
    expect(promptFilter.minorTerms).toEqual(expect.arrayContaining(['loli', '萝莉']));
    expect(emptyFilter).toEqual({ terms: [], minorTerms: [], allow: [], file: null });
  });

  it('rejects unknown keys, unknown models and thresholds outside (0, 1]', () => {
    expect(moderationSchema.safeParse({ treshold: 0.5 }).success).toBe(false);
    expect(moderationSchema.safeParse({ model: 'ResNet' }).success).toBe(false);
    expect(moderationSchema.safeParse({ threshold: 0 }).success).toBe(false);
    expect(moderationSchema.safeParse({ sexyThreshold: 1.2 }).success).toBe(false);
    expect(moderationSchema.safeParse({ policies: { discord: { guilds: { g: { default: 'blur' } } } } }).success).toBe(false);
    expect(moderationSchema.safeParse({ policies: { slack: { workspaces: { T1: { chanels: {} } } } } }).success).toBe(false);
  });

  it('names the key of a wrong moderation setting through the config loader', () => {
    expect(() => loadConfig({ root, env: {}, overrideFile: null, overrides: { moderation: { policies: { studio: 'blur' as 'block' } } } })).toThrowError(
      /"moderation\.policies\.studio".*allowed values: "block", "spoiler"/,
    );
  });
});
