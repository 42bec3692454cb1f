import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/fakes.ts';
import { writeFixtureModel } from '../../test/support/fixtures/models.ts';
import { loadConfig } from '../config/load.ts';
import type { ProfileConfig } from '../config/schema.ts';
import { modelInfo } from './model/model-info.ts';
import { jobCost } from './sampling-settings.ts';
import { StyleCatalog } from './prompt/styles.ts';
import { resolveRequest, type GenerationRequest, type JobSpec, type ModelInfo } from './request.ts';
import type { Result } from './errors.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const config = loadConfig({ root: ROOT, env: {}, overrideFile: null });
const styles = StyleCatalog.fromFile(join(ROOT, 'config/styles.yaml'));
const root = tempDir('zimage-request-');

/** A model directory whose manifest recommends these settings, read the way the runtime reads it. */
const model = (name: string, defaults: Parameters<typeof writeFixtureModel>[1]['defaults']): ModelInfo =>
  modelInfo(writeFixtureModel(join(root, name), { kind: 'oracle', defaults }));

const turboLike = model('turbo-like', { steps: 8, minSteps: 4, maxSteps: 16, guidance: 0, distilled: true });
const baseLike = model('base-like', { steps: 40, minSteps: 28, maxSteps: 50, guidance: 4, distilled: false });
const ranged = model('ranged', { steps: 6, minSteps: 2, maxSteps: 10, guidance: 1.5, distilled: false });

function resolveWith(profile: ProfileConfig, info: ModelInfo, request: Partial<GenerationRequest> = {}): Result<JobSpec> {
  const role = request.role ?? 'draft';
  return resolveRequest(
    { role, owner: { platform: 'test', userId: 'u' }, prompt: 'a red fox', ...request },
    {
      profile,
      model: info,
      limits: config.limits,
      styles,
      randomSeed: () => 7,
      imagePath: role === 'draft' ? null : '/stored/input.png',
      maskPath: null,
      imageAspect: role === 'draft' ? null : 1,
      defaultCount: 1,
    },
  );
}

const value = (result: Result<JobSpec>): JobSpec => {
  if (!result.ok) throw new Error(`refused: ${result.error.message}`);
  return result.value;
};

describe('sampling settings from the model, overridden by the profile', () => {
  it('takes steps, guidance and the step range from the manifest where the profile leaves them null', () => {
    const draft = config.profiles.draft;
    expect([draft.steps, draft.minSteps, draft.maxSteps, draft.guidance, draft.shift]).toEqual([null, null, null, null, null]);
    const spec = value(resolveWith(draft, ranged));
    expect([spec.steps, spec.guidance, spec.shift]).toEqual([6, 1.5, 3]);
    expect(value(resolveWith(draft, ranged, { steps: 2 })).steps).toBe(2);
    const refused = resolveWith(draft, ranged, { steps: 12 });
    expect(refused).toMatchObject({ ok: false, error: { code: 'out-of-range', params: { setting: 'steps', min: 2, max: 10, value: '12' } } });
    expect(!refused.ok && refused.error.message).toMatch(/steps must be a whole number from 2 to 10 .*got 12/);
    expect(resolveWith(draft, ranged, { steps: 1 })).toMatchObject({ ok: false, error: { params: { min: 2, max: 10 } } });
  });

  it('lets a profile value override the model’s', () => {
    const profile = { ...config.profiles.draft, minSteps: 4, steps: 5, guidance: 0.5, shift: 6 };
    const spec = value(resolveWith(profile, ranged));
    expect([spec.steps, spec.guidance, spec.shift]).toEqual([5, 0.5, 6]);
    const refused = resolveWith(profile, ranged, { steps: 3 });
    expect(refused).toMatchObject({ ok: false, error: { code: 'out-of-range', params: { min: 4, max: 10 } } });
    expect(!refused.ok && refused.error.message).toMatch(/from 4 to 10/);
  });

  it('brings a default the range leaves out to the nearest end of the range', () => {
    const profile = { ...config.profiles.draft, minSteps: 12, maxSteps: 14 };
    expect(value(resolveWith(profile, ranged)).steps).toBe(12);
    expect(value(resolveWith({ ...profile, minSteps: 1, maxSteps: 4 }, ranged)).steps).toBe(4);
  });

  it('refine takes 28 to 50 steps whatever the model recommends', () => {
    const refine = config.profiles.refine;
    expect([refine.minSteps, refine.maxSteps]).toEqual([28, 50]);
    expect(value(resolveWith(refine, ranged, { role: 'refine' })).steps).toBe(refine.steps);
    expect(refine.steps! >= 28 && refine.steps! <= 50).toBe(true);
    expect(resolveWith(refine, ranged, { role: 'refine', steps: 20 })).toMatchObject({ ok: false, error: { params: { min: 28, max: 50 } } });
  });

  it('edit and refine guide as their model does: none for a distilled model, the model’s guidance for a base model', () => {
    for (const role of ['edit', 'refine'] as const) {
      expect(config.profiles[role].guidance).toBeNull();
      expect(value(resolveWith(config.profiles[role], turboLike, { role })).guidance).toBe(0);
      expect(value(resolveWith(config.profiles[role], baseLike, { role })).guidance).toBe(4);
    }
    expect(value(resolveWith(config.profiles.edit, baseLike, { role: 'edit' })).steps).toBe(40);
  });

  it('refuses guidance for a distilled model unless the profile sets one', () => {
    const refused = resolveWith(config.profiles.draft, turboLike, { guidance: 3 });
    expect(refused).toMatchObject({ ok: false, error: { code: 'out-of-range', params: { setting: 'guidance', min: 0, max: 0 } } });
    expect(!refused.ok && refused.error.message).toMatch(/distilled/);
    expect(value(resolveWith(config.profiles.draft, turboLike, { guidance: 0 })).guidance).toBe(0);
    expect(value(resolveWith({ ...config.profiles.draft, guidance: 1 }, turboLike, { guidance: 3 })).guidance).toBe(3);
    expect(value(resolveWith(config.profiles.draft, baseLike, { guidance: 7 })).guidance).toBe(7);
  });
});

describe('strength', () => {
  it('refuses a strength that leaves no denoising step, naming the smallest one that runs a step', () => {
    const profile = { ...config.profiles.refine, minSteps: 1, steps: 8 };
    const refused = resolveWith(profile, ranged, { role: 'refine', strength: 0 });
    expect(refused).toMatchObject({ ok: false, error: { code: 'no-denoising-steps', params: { strength: 0, steps: 8, min: 0.125 } } });
    expect(!refused.ok && refused.error.message).toMatch(/Strength 0 leaves none of the 8 steps to run; use a strength of at least 0\.125/);
    // 30 steps: 1/30 rounded up, so the number named is one that works.
    const at30 = resolveWith(config.profiles.refine, ranged, { role: 'refine', strength: 0, steps: 30 });
    expect(at30).toMatchObject({ ok: false, error: { params: { min: 0.034 } } });
    expect(value(resolveWith(profile, ranged, { role: 'refine', strength: 0.034 })).strength).toBe(0.034);
  });

  it('a refine takes its model’s refine strength, guidance, shift and inversion where its profile leaves them null; only a refine', () => {
    const tuned = model('refine-tuned', { steps: 6, minSteps: 2, maxSteps: 10, guidance: 1, refine: { strength: 0.35, guidance: 2, shift: 1.5, inversion: 0.7 } });
    const refine = config.profiles.refine;
    expect([refine.strength, refine.guidance, refine.shift]).toEqual([null, null, null]);
    expect(value(resolveWith(refine, tuned, { role: 'refine' }))).toMatchObject({ strength: 0.35, guidance: 2, shift: 1.5, inversion: 0.7 });
    // The inversion belongs to the model's own strength: at another, from the request or the profile, plain SDEdit.
    expect(value(resolveWith(refine, tuned, { role: 'refine', strength: 0.8, guidance: 0 }))).toMatchObject({ strength: 0.8, guidance: 0, inversion: 0 });
    expect(value(resolveWith(refine, tuned, { role: 'refine', strength: 0.35, guidance: 0 }))).toMatchObject({ strength: 0.35, guidance: 0, inversion: 0.7 });
    expect(value(resolveWith({ ...refine, strength: 0.5, guidance: 3, shift: 4 }, tuned, { role: 'refine' }))).toMatchObject({ strength: 0.5, guidance: 3, shift: 4, inversion: 0 });
    expect(value(resolveWith(config.profiles.edit, tuned, { role: 'edit' }))).toMatchObject({ strength: 0.75, guidance: 1, shift: 3, inversion: 0 });
    expect(value(resolveWith(config.profiles.draft, tuned))).toMatchObject({ guidance: 1, shift: 3, inversion: 0 });
    // a model that names no refine strength is refined at 0.6
    expect(value(resolveWith(refine, ranged, { role: 'refine' })).strength).toBe(0.6);
  });

  it('charges a refine’s noise inversion as one more unguided pass per kept step in the fair queue', () => {
    const tuned = model('refine-costed', { steps: 10, minSteps: 2, maxSteps: 10, guidance: 1, refine: { strength: 0.5, guidance: 2, inversion: 0.7 } });
    const inverting = value(resolveWith(config.profiles.refine, tuned, { role: 'refine' }));
    const plain = { ...inverting, inversion: 0 };
    // 5 kept steps: guided, 2 passes each; inverted first, 1 more each.
    expect(jobCost(inverting) / jobCost(plain)).toBeCloseTo(3 / 2, 9);
    expect(jobCost({ ...inverting, image: null })).toBe(jobCost({ ...plain, image: null }));
  });

  it('never refuses a draft, which starts from text at strength 1', () => {
    expect(value(resolveWith(config.profiles.draft, ranged)).strength).toBe(1);
  });
});

describe('a model directory’s recommended settings', () => {
  it('reaches the main thread through modelInfo', () => {
    expect(ranged.defaults).toEqual({ steps: 6, minSteps: 2, maxSteps: 10, guidance: 1.5, distilled: false });
  });
});
