import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, type DeepPartial } from './load.ts';
import type { Config } from './schema.ts';

const root = resolve(import.meta.dirname, '../..');
const load = (profiles: DeepPartial<Config>['profiles']) => () => loadConfig({ root, env: {}, overrideFile: null, overrides: { profiles } });

describe('profiles', () => {
  it('leave steps, their range and guidance to the model unless set', () => {
    const config = loadConfig({ root, env: {}, overrideFile: null });
    expect(config.profiles.edit).toMatchObject({ steps: null, minSteps: null, maxSteps: null, guidance: null, maskComposite: true });
    expect(config.profiles.refine).toMatchObject({ steps: 30, minSteps: 28, maxSteps: 50, guidance: null });
  });

  it('refuse a range that contradicts itself, naming the key', () => {
    expect(load({ refine: { minSteps: 60 } })).toThrowError(/Invalid setting "profiles\.refine\.minSteps".*must not exceed maxSteps \(50\)/);
    expect(load({ refine: { steps: 20 } })).toThrowError(/Invalid setting "profiles\.refine\.steps".*within minSteps–maxSteps \(28–50\)/);
    expect(load({ draft: { steps: 12, maxSteps: 50 } })).not.toThrow();
  });
});
